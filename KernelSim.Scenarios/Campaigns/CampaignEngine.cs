using System.Diagnostics;
using KernelSim.Profiles;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>The records of a campaign run, sorted by seed, then profile order, then step.</summary>
public sealed record CampaignResult(CampaignSpec Spec, string Commit, IReadOnlyList<CampaignPlan> Plans, IReadOnlyList<OpRecord> Records);

/// <summary>
/// Runs the seeds of a campaign: each seed draws its plan and runs it on every profile, independently of
/// every other seed, so the seeds run in parallel (--jobs) and the sorted results are identical for any
/// number of jobs. --shard I/N keeps the seeds whose index (seed − first) is I modulo N.
/// </summary>
public static class CampaignEngine
{
    public static IReadOnlyList<ulong> Seeds(ulong first, ulong last, int shardIndex, int shardCount)
    {
        var list = new List<ulong>();
        for (var s = first; ; s++)
        {
            if ((s - first) % (ulong)shardCount == (ulong)shardIndex) list.Add(s);
            if (s == last) break;
        }
        return list;
    }

    /// <summary>All records of one seed (its plan on every profile, in the file's profile order).</summary>
    public static (CampaignPlan Plan, List<OpRecord> Records) RunSeed(CampaignSpec spec, ulong seed, bool trace = false, Action<KernelVersion, SeedRun>? onRun = null)
    {
        var plan = PlanGenerator.Generate(spec, seed);
        var records = new List<OpRecord>();
        foreach (var profile in spec.Profiles)
        {
            var run = SeedRunner.Run(spec, plan, profile, trace);
            records.AddRange(run.Records);
            onRun?.Invoke(profile, run);
        }
        return (plan, records);
    }

    public static CampaignResult Run(CampaignSpec spec, IReadOnlyList<ulong> seeds, int jobs, Action? onSeedDone = null, string? commit = null)
    {
        var plans = new CampaignPlan[seeds.Count];
        var results = new List<OpRecord>[seeds.Count];
        Parallel.For(0, seeds.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, jobs) }, k =>
        {
            try
            {
                (plans[k], results[k]) = RunSeed(spec, seeds[k]);
            }
            catch (Exception e)
            {
                // Plan generation or the runner itself failed: still a result, with the seed.
                plans[k] = new CampaignPlan(seeds[k], spec.Workloads[0].Kind, false, [], []);
                results[k] = [new OpRecord(seeds[k], "-", "-", "-", 0, "(campaign)", null, Outcome.SimBug, $"{e.GetType().FullName}: {e.Message}")];
            }
            onSeedDone?.Invoke();
        });
        var all = new List<OpRecord>();
        foreach (var r in results) all.AddRange(r);
        return new CampaignResult(spec, commit ?? GitCommit(Path.GetDirectoryName(Path.GetFullPath(spec.File))), plans, all);
    }

    /// <summary>git rev-parse HEAD of the repository holding <paramref name="dir"/> (the campaign file's), or "unknown".</summary>
    public static string GitCommit(string? dir = null)
    {
        try
        {
            var psi = new ProcessStartInfo("git", "rev-parse HEAD")
            {
                WorkingDirectory = dir is { Length: > 0 } && Directory.Exists(dir) ? dir : Environment.CurrentDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var p = System.Diagnostics.Process.Start(psi);
            if (p == null) return "unknown";
            var text = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 && text.Length >= 7 ? text : "unknown";
        }
        catch (Exception)
        {
            return "unknown";
        }
    }
}
