using System.CommandLine;
using System.Text.Json;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Cli.Rendering;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim merge DIR... --out DIR`: combine the --out directories of campaign shards (results.jsonl and
/// plans.jsonl; lines stably sorted by seed, so the merge equals the unsharded run) and write the summary,
/// CSV and chart of the whole.
/// </summary>
internal static class MergeCommand
{
    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var dirs = new Argument<string[]>("dir") { Description = "Shard output directories (from campaign --out)", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<string>("--out", "-o") { Description = "Write the merged results here", Required = true, HelpName = "DIR" };
        var cmd = new Command("merge", "Merge the outputs of campaign shards") { dirs, outDir };
        cmd.SetAction(r => Run(r.GetValue(dirs) ?? [], r.GetValue(outDir)!, terminal(), errorTerminal()));
        return cmd;
    }

    public static int Run(string[] dirs, string outDir, Terminal term, Terminal err)
    {
        var lines = new List<(ulong Seed, string Line, OpRecord Rec)>();
        var plans = new List<(ulong Seed, string Line)>();
        var name = "merged";
        foreach (var d in dirs)
        {
            var results = Path.Combine(d, "results.jsonl");
            var planFile = Path.Combine(d, "plans.jsonl");
            if (!File.Exists(results) || !File.Exists(planFile))
            {
                err.Line($"kernelsim: {d}: no results.jsonl and plans.jsonl (a campaign --out directory)");
                return CliApp.UsageError;
            }
            var n = 0;
            try
            {
                foreach (var l in File.ReadLines(results))
                {
                    n++;
                    if (l.Length == 0) continue;
                    var rec = CampaignOutput.ParseLine(l, out _);
                    lines.Add((rec.Seed, l, rec));
                }
                foreach (var l in File.ReadLines(planFile))
                {
                    if (l.Length == 0) continue;
                    using var doc = JsonDocument.Parse(l);
                    plans.Add((doc.RootElement.GetProperty("seed").GetUInt64(), l));
                }
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                err.Line($"kernelsim: {results}:{n}: not a campaign result line ({e.Message})");
                return CliApp.UsageError;
            }
        }
        var sorted = lines.OrderBy(l => l.Seed).ToList();
        var sortedPlans = plans.OrderBy(p => p.Seed).ToList();
        var records = sorted.ConvertAll(l => l.Rec);
        CampaignOutput.WriteDir(outDir, name, sortedPlans.Count,
            string.Concat(sorted.Select(l => l.Line + "\n")), string.Concat(sortedPlans.Select(p => p.Line + "\n")), records);
        term.Line($"merged {dirs.Length} shard(s): {sortedPlans.Count} seeds, {records.Count} records");
        CampaignSummaryTable.Write(term, name, sortedPlans.Count, records);
        term.Line($"wrote {Path.Combine(outDir, "results.jsonl")}, plans.jsonl, summary.csv, chart.svg");
        term.Writer.Flush();
        return records.Any(r => r.Outcome is Outcome.SilentCorruption or Outcome.Leak or Outcome.SimBug) ? CampaignCommand.FoundProblems : 0;
    }
}
