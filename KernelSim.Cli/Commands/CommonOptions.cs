using System.CommandLine;
using KernelSim.Profiles;

namespace KernelSim.Cli.Commands;

/// <summary>Options shared by several commands, with parsers that turn bad values into parse errors (exit code 2).</summary>
internal static class CommonOptions
{
    /// <summary>--kernel V: a release such as 6.12 or 5.10 (any major.minor parses; see `kernelsim profiles`).</summary>
    public static Option<KernelVersion?> Kernel(string description) => new("--kernel", "-k")
    {
        Description = description,
        HelpName = "version",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (KernelVersion.TryParse(text, out var v)) return v;
            r.AddError($"unknown kernel version '{text}': expected major.minor such as 6.12 (known releases: {KnownReleases()})");
            return null;
        },
    };

    /// <summary>--cpu erms|fragile|none.</summary>
    public static Option<CpuModel?> Cpu() => new("--cpu")
    {
        Description = "CPU model: erms (ERMS/FSRM: copy_mc_enhanced_fast_string; the default), fragile (copy_mc_fragile quirk), none (neither: plain memcpy)",
        HelpName = "erms|fragile|none",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (CpuModel.TryGet(text, out var m)) return m;
            r.AddError($"unknown cpu '{text}': expected one of {CpuNames()}");
            return null;
        },
    };

    /// <summary>The known releases as "4.17, 4.18, …".</summary>
    public static string KnownReleases()
    {
        var names = new List<string>();
        foreach (var v in KernelProfile.Known) names.Add(v.ToString());
        return string.Join(", ", names);
    }

    private static string CpuNames()
    {
        var names = new List<string>();
        foreach (var c in CpuModel.Presets) names.Add(c.Name);
        return string.Join(", ", names);
    }
}
