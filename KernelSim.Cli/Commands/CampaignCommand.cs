using System.CommandLine;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios;
using KernelSim.Profiles;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim campaign FILE [--seeds A..B] [--jobs N] [--shard I/N] [--out DIR | --resume DIR] [--progress M]`:
/// run a fault-injection campaign (docs/campaigns.md), streaming results to --out as seeds finish. Exit codes:
/// docs/cli.md.
/// </summary>
internal static class CampaignCommand
{
    public const int FoundProblems = ExitCodes.CheckFailed;

    /// <summary>The --out or --resume directory's contents do not fit this run (sysexits EX_DATAERR).</summary>
    public const int DataError = ExitCodes.DataError;

    /// <summary>The --out directory cannot be written (sysexits EX_CANTCREAT).</summary>
    public const int CannotCreate = ExitCodes.CannotCreate;

    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal, CliHost host)
    {
        var file = new Argument<string>("file") { Description = "Campaign file (YAML; see docs/campaigns.md)" }.NoOptions();
        var seeds = new Option<string?>("--seeds") { Description = "Seed range A..B (inclusive), overriding the file's seeds:", HelpName = "A..B" }
            .Checked(t => CampaignParser.TryParseSeeds(t, out _, out _), "A..B, whole numbers with A <= B");
        var jobs = CommonOptions.Jobs();
        var shard = new Option<string?>("--shard") { Description = "Run shard I of N (seed index modulo N); default from JOB_COMPLETION_INDEX and KERNELSIM_SHARDS (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT (Slurm array) when set", HelpName = "I/N" }
            .Checked(t => ShardEnvironment.TryResolve(t, _ => null, out _, out _, out _, out _), "I/N, whole numbers with 0 <= I < N");
        var exitZero = new Option<bool>("--exit-zero") { Description = "Exit 0 even when a seed shows silent corruption or a simulator bug (batch shards: the results and merge report them)" };
        var outDir = new Option<string?>("--out", "-o") { Description = "Stream results.jsonl and plans.jsonl here as seeds finish; then campaign.json, summary.csv, chart.svg and report.html", HelpName = "DIR" };
        var resume = new Option<string?>("--resume") { Description = "Continue the interrupted run in DIR (its seeds and shard; same campaign and kernelsim version)", HelpName = "DIR" };
        var progress = new Option<ProgressMode>("--progress") { Description = "Progress on stderr: auto (a bar when stderr is a terminal), bar, plain (a line every 5 s), none", HelpName = "auto|bar|plain|none", DefaultValueFactory = _ => ProgressMode.Auto };
        progress.AcceptOnlyFromAmong("auto", "bar", "plain", "none");
        var cmd = new Command("campaign", "Run a fault-injection campaign: seeds, swarm plans, an oracle, a summary per profile") { file, seeds, jobs, shard, outDir, resume, progress, exitZero };
        cmd.SetAction(r => Run(new Options(r.GetValue(file)!, r.GetValue(seeds), r.GetValue(jobs), r.GetValue(shard), r.GetValue(outDir), r.GetValue(resume), r.GetValue(progress), r.GetValue(exitZero)), terminal(), errorTerminal(), host));
        return cmd;
    }

    /// <summary>The command's options.</summary>
    public sealed record Options(string File, string? Seeds = null, int Jobs = 1, string? Shard = null, string? Out = null, string? Resume = null, ProgressMode Progress = ProgressMode.Auto, bool ExitZero = false);

    /// <summary>
    /// Load a campaign file; null (with the message on stderr) when it is unusable: <paramref name="code"/> is 66 when
    /// it cannot be read, 65 when it is not a usable campaign (including a profile KernelSim does not model).
    /// </summary>
    public static CampaignSpec? Load(string file, Terminal err, out int code)
    {
        code = ExitCodes.NoInput;
        if (InputFiles.Read(file, err) is not { } text) return null;
        code = ExitCodes.DataError;
        try
        {
            var notes = new List<string>();
            var spec = CampaignParser.ParseText(file, text, notes);
            foreach (var n in notes) err.Line($"kernelsim: {n}");
            var unmodelled = spec.Profiles.Where(p => !KernelProfile.IsModelled(p)).ToList();
            if (unmodelled.Count == 0) return spec;
            err.Line($"kernelsim: {file}: profiles: {string.Join(", ", unmodelled)} {(unmodelled.Count == 1 ? "is not a modelled release" : "are not modelled releases")}; KernelSim models {KernelProfile.ModelledRange}");
        }
        catch (ScenarioException e)
        {
            err.Line($"kernelsim: {e.Message}");
        }
        err.Writer.Flush();
        return null;
    }

    public static int Run(Options o, Terminal term, Terminal err, CliHost host)
    {
        var spec = Load(o.File, err, out var loadCode);
        if (spec == null) return loadCode;
        if (o.Seeds != null)
        {
            if (!CampaignParser.TryParseSeeds(o.Seeds, out var a, out var b))
            {
                err.Line($"kernelsim: --seeds '{o.Seeds}': expected A..B with A <= B");
                return ExitCodes.Usage;
            }
            spec = spec with { SeedFirst = a, SeedLast = b };
        }
        if (!ShardEnvironment.TryResolve(o.Shard, Environment.GetEnvironmentVariable, out var si, out var sn, out _, out var shardError))
        {
            err.Line($"kernelsim: {shardError}");
            return ExitCodes.Usage;
        }
        if (o.Jobs < 1)
        {
            err.Line("kernelsim: --jobs: at least 1");
            return ExitCodes.Usage;
        }
        if (o.Out != null && o.Resume != null)
        {
            err.Line("kernelsim: --out and --resume: give one (--resume DIR writes to DIR)");
            return ExitCodes.Usage;
        }
        var set = new SeedSet(spec.SeedFirst, spec.SeedLast, si, sn);
        var header = CampaignProvenance.Header(spec, set);
        var dir = o.Out ?? o.Resume;
        CampaignResultsWriter? writer = null;
        try
        {
            if (o.Resume != null)
            {
                var manifest = CampaignResultsWriter.ReadManifest(o.Resume);
                if (Mismatch(manifest.Header, header, o) is { } why)
                {
                    err.Line($"kernelsim: --resume {o.Resume}: {why}");
                    return DataError;
                }
                set = manifest.Header.SeedSet;
                spec = spec with { SeedFirst = set.First, SeedLast = set.Last };
                (si, sn) = (set.ShardIndex, set.ShardCount);
                writer = CampaignResultsWriter.Resume(o.Resume, manifest);
            }
            else if (o.Out != null)
            {
                writer = CampaignResultsWriter.Create(o.Out, header, o.File, set.Count);
            }
        }
        catch (CampaignOutputException e)
        {
            err.Line($"kernelsim: {e.Message}");
            return e.Unwritable ? CannotCreate : DataError;
        }

        var start = writer?.Done ?? 0;
        // The summary is folded from the records as they are delivered, unless a resumed run's file holds earlier
        // seeds: then the reports are built from the whole file once the run ends.
        var live = o.Resume == null ? new CampaignSummary(spec.Name) : null;
        StreamOutcome outcome;
        using (writer)
        {
            var mode = CampaignProgress.Resolve(o.Progress, host.ErrorIsTerminal);
            outcome = CampaignProgress.Run(mode, err.Writer, spec.Name, start, set.Count, tick =>
                CampaignEngine.Stream(spec, set, start, o.Jobs, r =>
                {
                    writer?.Write(r);
                    live?.Add(r);
                    tick();
                }, host.WatchInterrupt(), writer != null ? CampaignResultsWriter.Prepare : null));
            var message = outcome.Interrupted ? $"interrupted after {outcome.Done} seeds" : $"complete: {outcome.Done} seeds";
            writer?.Finish(outcome.Interrupted ? CampaignManifest.Interrupted : CampaignManifest.Complete, message);
        }
        var summary = live == null ? CampaignOutput.WriteReports(dir!) : dir != null ? CampaignOutput.WriteReports(dir, live.Finish()) : live.Finish();

        term.Line($"campaign {spec.Name}: seeds {spec.SeedFirst}..{spec.SeedLast}{(sn > 1 ? $", shard {si}/{sn} ({set.Count} seeds)" : "")}, profiles {string.Join(", ", spec.Profiles)}{(spec.Swarm ? ", swarm" : "")}");
        if (o.Resume != null) term.Line($"resumed after {start} seeds");
        CampaignSummaryTable.Write(term, summary);
        if (outcome.Interrupted) term.Line($"interrupted after {outcome.Done} seeds of {set.Count}");
        if (dir != null) term.Line($"wrote {Path.Combine(dir, CampaignOutput.Results)}, {CampaignOutput.Plans}, {CampaignOutput.Manifest}, {CampaignOutput.SummaryCsv}, {CampaignOutput.Chart}, {CampaignOutput.Report}");
        if (outcome.Interrupted)
            err.Line(dir != null ? $"kernelsim: interrupted after {outcome.Done} seeds; continue with: kernelsim campaign {o.File} --resume {dir}" : $"kernelsim: interrupted after {outcome.Done} seeds");
        term.Writer.Flush();
        err.Writer.Flush();
        if (outcome.Interrupted) return host.InterruptExitCode;
        return summary.FoundProblems && !o.ExitZero ? FoundProblems : 0;
    }

    /// <summary>Why an earlier run's header does not fit this invocation, or null.</summary>
    private static string? Mismatch(CampaignHeader was, CampaignHeader now, Options o)
    {
        if (was.SpecSha256 != now.SpecSha256)
            return $"was run from another campaign (spec sha256 {was.SpecSha256[..12]}…, {o.File} has {now.SpecSha256[..12]}…)";
        if (was.Kernelsim != now.Kernelsim)
            return $"was run by kernelsim {was.Kernelsim}, this is {now.Kernelsim}: results of two versions cannot be mixed; start again with --out";
        if (o.Seeds != null && (was.Seeds.First != now.Seeds.First || was.Seeds.Last != now.Seeds.Last))
            return $"ran seeds {was.Seeds.First}..{was.Seeds.Last}, not {o.Seeds} (leave --seeds out to continue it)";
        if (o.Shard != null && (was.Shard.Index != now.Shard.Index || was.Shard.Count != now.Shard.Count))
            return $"ran shard {was.Shard.Index}/{was.Shard.Count}, not {o.Shard}";
        return null;
    }
}
