using KernelSim.Profiles;

namespace KernelSim.Tests.Cli;

/// <summary>`kernelsim profiles`: the release matrix and the per-release switch list.</summary>
public class ProfilesCommandTests
{
    private static readonly string[] SwitchNames = [.. KernelProfile.Default.Switches().Select(s => s.Name)];

    [Test]
    public void Profiles_NoKernel_NamesEverySwitchAndEveryKnownRelease()
    {
        var (code, output, err) = CliRun.Invoke("profiles");
        Assert.That(code, Is.Zero, err);
        foreach (var name in SwitchNames) Assert.That(output, Does.Contain(name), name);
        foreach (var v in KernelProfile.Known) Assert.That(output, Does.Contain($"| {v} "), v.ToString());
    }

    [Test]
    public void Profiles_NoKernel_OnOffRowsMatchTheProfiles()
    {
        var output = CliRun.Invoke("profiles").Out;
        var lines = output.Split('\n');
        foreach (var (name, value, _) in KernelProfile.Default.Switches())
        {
            if (value is not bool) continue;
            var row = lines.Single(l => l.StartsWith($"| {name} ", StringComparison.Ordinal));
            var cells = row.Split('|', StringSplitOptions.TrimEntries)[2..^1];
            var expected = KernelProfile.Known.Select(v => KernelProfile.ForVersion(v).Switches().Single(s => s.Name == name).Value is true ? "yes" : "-");
            Assert.That(cells, Is.EqualTo(expected), name);
        }
    }

    [Test]
    public void Profiles_NoKernel_EraAndModeColumns()
    {
        var lines = CliRun.Invoke("profiles").Out.Split('\n');
        var r510 = lines.Single(l => l.StartsWith("| 5.10 ", StringComparison.Ordinal));
        Assert.That(r510.Split('|', StringSplitOptions.TrimEntries)[1..^1],
            Is.EqualTo(new[] { "5.10", "E2", "SigbusAr", "PretendSuccess", "Pre514" }));
        var r612 = lines.Single(l => l.StartsWith("| 6.12 ", StringComparison.Ordinal));
        Assert.That(r612.Split('|', StringSplitOptions.TrimEntries)[1..^1],
            Is.EqualTo(new[] { "6.12", "E5", "KillMeNever", "RepMovsAlternative", "PreFaultNothingFaultedIn" }));
    }

    [Test]
    public void Profiles_Kernel510_ListsEverySwitchWithValueReleasesAndDoc()
    {
        var (code, output, err) = CliRun.Invoke("profiles", "--kernel", "5.10");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.StartWith("Linux 5.10 (era E2)\n"));
        var rows = LogicalRows(output);
        var profile = KernelProfile.ForVersion("5.10");
        foreach (var (name, value, doc) in profile.Switches())
        {
            Assert.That(rows.ContainsKey(name), Is.True, name);
            var cells = rows[name];
            Assert.That(cells[1], Is.EqualTo(value is bool b ? (b ? "yes" : "no") : value.ToString()), name);
            Assert.That(cells[2], Is.EqualTo(doc.Releases), name);
            Assert.That(cells[3], Is.EqualTo(doc.Description), name);
        }
        Assert.That(rows["CopyUserMcTail"][1], Is.EqualTo("PretendSuccess"));
        Assert.That(rows["CopyInMc"][1], Is.EqualTo("SigbusAr"));
    }

    /// <summary>Table rows keyed by their first cell, with wrapped continuation lines joined back (cells split on word boundaries).</summary>
    private static Dictionary<string, string[]> LogicalRows(string output)
    {
        var rows = new Dictionary<string, string[]>();
        string[]? current = null;
        foreach (var line in output.Split('\n'))
        {
            if (!line.StartsWith("| ", StringComparison.Ordinal)) continue;
            var cells = line.Split('|', StringSplitOptions.TrimEntries)[1..^1];
            if (cells[0].Length > 0)
            {
                current = cells;
                rows[cells[0]] = current;
                continue;
            }
            if (current == null) continue;
            for (var c = 1; c < cells.Length; c++)
                if (cells[c].Length > 0) current[c] = current[c].Length == 0 ? cells[c] : current[c] + " " + cells[c];
        }
        return rows;
    }
}
