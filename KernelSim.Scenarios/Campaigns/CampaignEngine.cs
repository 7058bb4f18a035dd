using KernelSim.Profiles;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>The records of a campaign run held in memory (small runs and tests), sorted by seed, then profile order, then step.</summary>
public sealed record CampaignResult(CampaignSpec Spec, IReadOnlyList<CampaignPlan> Plans, IReadOnlyList<OpRecord> Records);

/// <summary>One seed's plan and its records on every profile.</summary>
public sealed record SeedResult(ulong Seed, CampaignPlan Plan, IReadOnlyList<OpRecord> Records)
{
    /// <summary>The plan's <see cref="CampaignPlan.Describe()"/>, when the run already made it (null: describe it again).</summary>
    internal string? PlanText { get; init; }
}

/// <summary>How far a streamed run got: seeds delivered (a prefix of the seed order) and whether it was cancelled.</summary>
public readonly record struct StreamOutcome(ulong Done, bool Interrupted);

/// <summary>
/// Runs the seeds of a campaign: each seed draws its plan and runs it on every profile, independently of
/// every other seed, so the seeds run in parallel (--jobs) and the results are identical for any number of
/// jobs. Results are delivered in seed order through a reorder buffer of a few seeds per job, so memory is
/// O(jobs), not O(seeds).
/// </summary>
public static class CampaignEngine
{
    /// <summary>The seeds of first..last in shard I of N, as a list (small ranges; the engine itself uses <see cref="SeedSet"/>).</summary>
    public static IReadOnlyList<ulong> Seeds(ulong first, ulong last, int shardIndex, int shardCount) =>
        new SeedSet(first, last, shardIndex, shardCount).From(0).ToList();

    /// <summary>All records of one seed (its plan on every profile, in the file's profile order).</summary>
    public static (CampaignPlan Plan, List<OpRecord> Records) RunSeed(CampaignSpec spec, ulong seed, bool trace = false, Action<KernelVersion, SeedRun>? onRun = null)
    {
        var (plan, _, records) = RunSeedDescribed(spec, seed, trace, onRun);
        return (plan, records);
    }

    /// <summary><see cref="RunSeed"/>, with the plan's description (made once per seed: it also gives the plan id of every record).</summary>
    private static (CampaignPlan Plan, string Text, List<OpRecord> Records) RunSeedDescribed(CampaignSpec spec, ulong seed, bool trace = false, Action<KernelVersion, SeedRun>? onRun = null)
    {
        var plan = PlanGenerator.Generate(spec, seed);
        var calls = plan.StepTexts();
        var text = plan.Describe(calls);
        var id = CampaignPlan.IdOf(text);
        var records = new List<OpRecord>();
        foreach (var profile in spec.Profiles)
        {
            var run = SeedRunner.Run(spec, plan, profile, trace, planId: id, calls: calls);
            records.AddRange(run.Records);
            onRun?.Invoke(profile, run);
        }
        return (plan, text, records);
    }

    /// <summary>One seed, never throwing: plan generation or a runner failure is a sim-bug record with the seed.</summary>
    public static SeedResult RunSeedSafely(CampaignSpec spec, ulong seed)
    {
        try
        {
            var (plan, text, records) = RunSeedDescribed(spec, seed);
            return new SeedResult(seed, plan, records) { PlanText = text };
        }
        catch (Exception e)
        {
            var plan = new CampaignPlan(seed, spec.Workloads[0].Kind, false, [], []);
            return new SeedResult(seed, plan, [new OpRecord(seed, "-", "-", "-", 0, "(campaign)", null, Outcome.SimBug, $"{e.GetType().FullName}: {e.Message}")]);
        }
    }

    /// <summary>
    /// Run seeds <paramref name="start"/>.. of <paramref name="seeds"/> on <paramref name="jobs"/> threads and
    /// hand each result to <paramref name="sink"/> in seed order (one call at a time). When
    /// <paramref name="cancel"/> fires, no new seed starts; the seeds in flight finish and are delivered, so
    /// what was delivered is always a prefix of the seed order. An exception of the sink stops the run and is
    /// rethrown.
    /// </summary>
    public static StreamOutcome Stream(CampaignSpec spec, SeedSet seeds, ulong start, int jobs, Action<SeedResult> sink, CancellationToken cancel = default) =>
        Stream(spec, seeds.Count, seeds.At, start, jobs, sink, cancel);

    private static StreamOutcome Stream(CampaignSpec spec, ulong total, Func<ulong, ulong> seedAt, ulong start, int jobs, Action<SeedResult> sink, CancellationToken cancel)
    {
        jobs = Math.Max(1, jobs);
        // At most `window` seeds are taken and not yet delivered: the reorder buffer is bounded.
        var window = 4 * jobs;
        using var slots = new SemaphoreSlim(window);
        var pending = new Dictionary<ulong, SeedResult>();
        var next = start;
        var delivered = start;
        Exception? failure = null;
        var gate = new object();

        void Worker()
        {
            while (true)
            {
                slots.Wait();
                ulong k;
                lock (gate)
                {
                    if (cancel.IsCancellationRequested || failure != null || next >= total)
                    {
                        slots.Release();
                        return;
                    }
                    k = next++;
                }
                var r = RunSeedSafely(spec, seedAt(k));
                lock (gate)
                {
                    pending[k] = r;
                    while (failure == null && pending.Remove(delivered, out var d))
                    {
                        try
                        {
                            sink(d);
                        }
                        catch (Exception e)
                        {
                            failure = e;
                            slots.Release(jobs); // wake the workers waiting for a slot: they see the failure and stop
                            break;
                        }
                        delivered++;
                        slots.Release();
                    }
                }
            }
        }

        var threads = new Thread[jobs];
        for (var i = 0; i < jobs; i++)
        {
            threads[i] = new Thread(Worker) { IsBackground = true, Name = $"campaign-{i}" };
            threads[i].Start();
        }
        foreach (var t in threads) t.Join();
        if (failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return new StreamOutcome(delivered, delivered < total);
    }

    /// <summary>Run a list of seeds and keep everything in memory (tests, small runs).</summary>
    public static CampaignResult Run(CampaignSpec spec, IReadOnlyList<ulong> seeds, int jobs)
    {
        var plans = new List<CampaignPlan>();
        var records = new List<OpRecord>();
        Stream(spec, (ulong)seeds.Count, k => seeds[(int)k], 0, jobs, r =>
        {
            plans.Add(r.Plan);
            records.AddRange(r.Records);
        }, CancellationToken.None);
        return new CampaignResult(spec, plans, records);
    }
}
