using System.CommandLine;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios;
using Spectre.Console;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim campaign FILE [--seeds A..B] [--jobs N] [--shard I/N] [--out DIR]`: run a fault-injection
/// campaign (docs/campaigns.md). Exit 0, 1 when a seed showed silent corruption or a simulator bug, 2 for
/// unusable input.
/// </summary>
internal static class CampaignCommand
{
    public const int FoundProblems = 1;

    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var file = new Argument<string>("file") { Description = "Campaign file (YAML; see docs/campaigns.md)" };
        var seeds = new Option<string?>("--seeds") { Description = "Seed range A..B (inclusive), overriding the file's seeds:", HelpName = "A..B" };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Seeds run in parallel (default: the number of cores); results are identical for any value", DefaultValueFactory = _ => Environment.ProcessorCount };
        var shard = new Option<string?>("--shard") { Description = "Run shard I of N (seed index modulo N); default from JOB_COMPLETION_INDEX and KERNELSIM_SHARDS when set", HelpName = "I/N" };
        var outDir = new Option<string?>("--out", "-o") { Description = "Write results.jsonl, plans.jsonl, summary.csv and chart.svg here", HelpName = "DIR" };
        var cmd = new Command("campaign", "Run a fault-injection campaign: seeds, swarm plans, an oracle, a summary per profile") { file, seeds, jobs, shard, outDir };
        cmd.SetAction(r => Run(r.GetValue(file)!, r.GetValue(seeds), r.GetValue(jobs), r.GetValue(shard), r.GetValue(outDir), terminal(), errorTerminal()));
        return cmd;
    }

    /// <summary>Load a campaign file; null (with the message on stderr) when it is unusable.</summary>
    public static CampaignSpec? Load(string file, Terminal err)
    {
        if (!File.Exists(file))
        {
            err.Line($"kernelsim: {file}: no such file");
            return null;
        }
        try
        {
            return CampaignParser.ParseFile(file);
        }
        catch (ScenarioException e)
        {
            err.Line($"kernelsim: {e.Message}");
            return null;
        }
    }

    public static bool TryShard(string? text, out int index, out int count)
    {
        index = 0;
        count = 1;
        if (text == null)
        {
            var ji = Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX");
            var jn = Environment.GetEnvironmentVariable("KERNELSIM_SHARDS");
            if (string.IsNullOrEmpty(ji) || string.IsNullOrEmpty(jn)) return true;
            text = $"{ji}/{jn}";
        }
        var parts = text.Split('/');
        return parts.Length == 2 && int.TryParse(parts[0], out index) && int.TryParse(parts[1], out count) && count >= 1 && index >= 0 && index < count;
    }

    public static int Run(string file, string? seeds, int jobs, string? shard, string? outDir, Terminal term, Terminal err)
    {
        var spec = Load(file, err);
        if (spec == null) return CliApp.UsageError;
        if (seeds != null)
        {
            if (!CampaignParser.TryParseSeeds(seeds, out var a, out var b))
            {
                err.Line($"kernelsim: --seeds '{seeds}': expected A..B with A <= B");
                return CliApp.UsageError;
            }
            spec = spec with { SeedFirst = a, SeedLast = b };
        }
        if (!TryShard(shard, out var si, out var sn))
        {
            err.Line($"kernelsim: --shard '{shard}': expected I/N with 0 <= I < N");
            return CliApp.UsageError;
        }
        if (jobs < 1)
        {
            err.Line("kernelsim: --jobs: at least 1");
            return CliApp.UsageError;
        }
        var list = CampaignEngine.Seeds(spec.SeedFirst, spec.SeedLast, si, sn);
        CampaignResult result;
        if (term.Color)
        {
            // A progress bar on an interactive terminal only (redirected output stays byte-for-byte deterministic).
            CampaignResult? r = null;
            AnsiConsole.Progress().Start(ctx =>
            {
                var task = ctx.AddTask($"campaign {spec.Name}", maxValue: list.Count);
                r = CampaignEngine.Run(spec, list, jobs, () => task.Increment(1));
            });
            result = r!;
        }
        else
        {
            result = CampaignEngine.Run(spec, list, jobs);
        }
        term.Line($"campaign {spec.Name}: seeds {spec.SeedFirst}..{spec.SeedLast}{(sn > 1 ? $", shard {si}/{sn} ({list.Count} seeds)" : "")}, profiles {string.Join(", ", spec.Profiles)}{(spec.Swarm ? ", swarm" : "")}");
        CampaignSummaryTable.Write(term, result);
        if (outDir != null)
        {
            CampaignOutput.WriteDir(outDir, result);
            term.Line($"wrote {Path.Combine(outDir, "results.jsonl")}, plans.jsonl, summary.csv, chart.svg");
        }
        term.Writer.Flush();
        err.Writer.Flush();
        return result.Records.Any(r => r.Outcome is Outcome.SilentCorruption or Outcome.Leak or Outcome.SimBug) ? FoundProblems : 0;
    }
}
