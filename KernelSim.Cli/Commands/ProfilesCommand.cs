using System.CommandLine;
using KernelSim.Cli.Rendering;
using KernelSim.Profiles;
using Spectre.Console;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim profiles`: the behaviour switches of the representative releases (<see cref="KernelProfile.Known"/>)
/// and the list of every modelled release (<see cref="KernelProfile.Modelled"/>), or, with --kernel, every switch
/// of one release with its documentation.
/// </summary>
internal static class ProfilesCommand
{
    /// <summary>Build the command; output goes to the terminal the factory returns.</summary>
    public static Command Create(Func<Terminal> terminal)
    {
        var kernel = CommonOptions.Kernel("Show every switch of this release with its documentation");
        var cmd = new Command("profiles", "List kernel releases and their behaviour switches") { kernel };
        cmd.SetAction(r =>
        {
            var v = r.GetValue(kernel);
            var term = terminal();
            if (v is { } one) WriteOne(term, KernelProfile.ForVersion(one));
            else WriteAll(term);
            return 0;
        });
        return cmd;
    }

    /// <summary>The matrix of known releases: multi-valued switches per release, then on/off switches per release.</summary>
    public static void WriteAll(Terminal term)
    {
        var profiles = new List<KernelProfile>();
        foreach (var v in KernelProfile.Known) profiles.Add(KernelProfile.ForVersion(v));
        var first = new List<(string Name, object Value, KernelSwitchAttribute Doc)>(profiles[0].Switches());

        term.Heading($"Known releases ({profiles.Count}) and their multi-valued switches");
        var modes = new Table();
        modes.AddColumn("release");
        modes.AddColumn("era");
        foreach (var s in first) if (s.Value is not bool) modes.AddColumn(Markup.Escape(s.Name));
        foreach (var p in profiles)
        {
            var row = new List<string> { p.Version.ToString(), p.Era };
            foreach (var s in p.Switches()) if (s.Value is not bool) row.Add(s.Value.ToString() ?? "");
            modes.AddRow(Escape(row));
        }
        term.Table(modes);

        term.Line();
        term.Heading("On/off switches (yes = the release behaves as the switch describes)");
        var bools = new Table();
        bools.AddColumn("switch");
        foreach (var p in profiles) bools.AddColumn(new TableColumn(p.Version.ToString()).Centered());
        var values = new List<List<(string Name, object Value, KernelSwitchAttribute Doc)>>();
        foreach (var p in profiles) values.Add([.. p.Switches()]);
        for (var i = 0; i < first.Count; i++)
        {
            if (first[i].Value is not bool) continue;
            var row = new List<string> { first[i].Name };
            foreach (var pv in values) row.Add((bool)pv[i].Value ? "yes" : "-");
            bools.AddRow(Escape(row));
        }
        term.Table(bools);
        term.Line();
        WriteModelled(term);
        term.Line();
        term.Line("Details of one release: kernelsim profiles --kernel 6.12");
    }

    /// <summary>Every modelled release by era: the values --kernel, machine.kernel and campaign profiles accept.</summary>
    public static void WriteModelled(Terminal term)
    {
        term.Line($"Every modelled release ({KernelProfile.Modelled.Count}, {KernelProfile.Oldest} to {KernelProfile.Newest}; each runs with --kernel, machine.kernel or a campaign's profiles; a point release such as 6.12.3 runs as 6.12):");
        foreach (var era in KernelProfile.Modelled.GroupBy(v => KernelProfile.ForVersion(v).Era))
            term.Line($"  {era.Key}: {string.Join(", ", era)}");
    }

    /// <summary>Every switch of one release: value, the releases it holds for, and what changes.</summary>
    public static void WriteOne(Terminal term, KernelProfile profile)
    {
        term.Heading($"Linux {profile.Version} (era {profile.Era})");
        var t = new Table();
        t.AddColumn("switch");
        t.AddColumn("value");
        t.AddColumn("releases");
        t.AddColumn("what changes");
        foreach (var (name, value, doc) in profile.Switches())
        {
            var v = value is bool b ? (b ? "yes" : "no") : value.ToString() ?? "";
            t.AddRow(Escape([name, v, doc.Releases, doc.Description]));
        }
        term.Table(t);
    }

    private static string[] Escape(List<string> cells)
    {
        var a = new string[cells.Count];
        for (var i = 0; i < a.Length; i++) a[i] = Markup.Escape(cells[i]);
        return a;
    }
}
