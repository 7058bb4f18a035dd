using KernelSim.Scenarios.Campaigns;
using Spectre.Console;

namespace KernelSim.Cli.Rendering;

/// <summary>The console table of a campaign's outcomes per profile.</summary>
public static class CampaignSummaryTable
{
    public static void Write(Terminal term, CampaignResult result) => Write(term, result.Spec.Name, result.Plans.Count, result.Records);

    public static void Write(Terminal term, string name, int seeds, IReadOnlyList<OpRecord> records)
    {
        var (profiles, table) = CampaignOutput.Summarize(records);
        var t = new Table().Title($"campaign {name}: {seeds} seed(s) x {profiles.Count} profile(s)");
        t.AddColumn("outcome");
        foreach (var p in profiles) t.AddColumn(new TableColumn($"Linux {p}: ops / seeds").RightAligned());
        foreach (var (o, row) in table)
        {
            var cells = new List<string> { Outcomes.Name(o) };
            foreach (var p in profiles)
            {
                var v = row.GetValueOrDefault(p);
                cells.Add($"{v.Ops} / {v.Seeds}");
            }
            t.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        term.Table(t);
        term.Line("ops: operations with that outcome; seeds: seeds whose worst outcome it is (silent-corruption > panic > … > complete).");
        var bugs = records.Where(r => r.Outcome == Outcome.SimBug).ToList();
        var corrupt = records.Where(r => r.Outcome == Outcome.SilentCorruption).ToList();
        foreach (var r in corrupt.Take(10)) term.Line($"SILENT CORRUPTION: seed {r.Seed} on {r.Profile}, step {r.Step} {r.Call}: {r.Detail}");
        foreach (var r in records.Where(r => r.Outcome == Outcome.Leak).Take(10)) term.Line($"LEAK: seed {r.Seed} on {r.Profile}, step {r.Step} {r.Call}: {r.Detail}");
        foreach (var r in bugs.Take(10)) term.Line($"SIMULATOR BUG: seed {r.Seed} on {r.Profile}, step {r.Step} {r.Call}: {r.Detail}");
        if (bugs.Count == 0) term.Line("simulator bugs: none");
    }

}
