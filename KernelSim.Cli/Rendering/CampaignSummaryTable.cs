using KernelSim.Scenarios.Campaigns;
using Spectre.Console;

namespace KernelSim.Cli.Rendering;

/// <summary>The console table of a campaign's outcomes per profile.</summary>
public static class CampaignSummaryTable
{
    public static void Write(Terminal term, CampaignSummary s)
    {
        var t = new Table().Title($"campaign {s.Name}: {s.Seeds} seed(s) x {s.Profiles.Count} profile(s)");
        t.AddColumn("outcome");
        foreach (var p in s.Profiles) t.AddColumn(new TableColumn($"Linux {p}: ops / seeds").RightAligned());
        foreach (var (o, row) in s.Table)
        {
            var cells = new List<string> { Outcomes.Name(o) };
            foreach (var p in s.Profiles)
            {
                var v = row.GetValueOrDefault(p);
                cells.Add($"{v.Ops} / {v.Seeds}");
            }
            t.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        term.Table(t);
        term.Line("ops: operations with that outcome; seeds: seeds whose worst outcome it is (silent-corruption > panic > … > complete).");
        foreach (var r in s.Corruptions) term.Line($"SILENT CORRUPTION: seed {r.Seed} on {r.Profile}, step {r.Step} {r.Call}: {r.Detail}");
        if (s.CorruptionCount > s.Corruptions.Count) term.Line($"… and {s.CorruptionCount - s.Corruptions.Count} more silent corruption(s)");
        foreach (var r in s.Leaks) term.Line($"LEAK: seed {r.Seed} on {r.Profile}, step {r.Step} {r.Call}: {r.Detail}");
        if (s.LeakCount > s.Leaks.Count) term.Line($"… and {s.LeakCount - s.Leaks.Count} more leak(s)");
        foreach (var r in s.Bugs) term.Line($"SIMULATOR BUG: seed {r.Seed} on {r.Profile}, step {r.Step} {r.Call}: {r.Detail}");
        if (s.BugCount > s.Bugs.Count) term.Line($"… and {s.BugCount - s.Bugs.Count} more simulator bug(s)");
        if (s.BugCount == 0) term.Line("simulator bugs: none");
    }
}
