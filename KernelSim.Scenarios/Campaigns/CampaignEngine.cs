using KernelSim.Mm;
using KernelSim.Profiles;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>The records of a campaign run held in memory (small runs and tests), sorted by seed, then profile order, then step.</summary>
public sealed record CampaignResult(CampaignSpec Spec, IReadOnlyList<CampaignPlan> Plans, IReadOnlyList<OpRecord> Records);

/// <summary>One seed's plan and its records on every profile.</summary>
public sealed record SeedResult(ulong Seed, CampaignPlan Plan, IReadOnlyList<OpRecord> Records)
{
    /// <summary>The plan's <see cref="CampaignPlan.Describe()"/>, when the run already made it (null: describe it again).</summary>
    internal string? PlanText { get; init; }

    /// <summary>The seed's result and plan lines, serialised on its worker (null: the writer serialises them).</summary>
    internal EncodedSeed? Encoded { get; set; }
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
    private static (CampaignPlan Plan, string Text, List<OpRecord> Records) RunSeedDescribed(CampaignSpec spec, ulong seed, bool trace = false, Action<KernelVersion, SeedRun>? onRun = null,
        FramePool? pool = null)
    {
        var plan = PlanGenerator.Generate(spec, seed);
        var calls = plan.StepTexts();
        var text = plan.Describe(calls);
        var id = CampaignPlan.IdOf(text);
        var records = new List<OpRecord>((plan.Steps.Count + 1) * spec.Profiles.Count);
        foreach (var profile in spec.Profiles)
        {
            var run = SeedRunner.Run(spec, plan, profile, trace, planId: id, calls: calls, pool: pool);
            records.AddRange(run.Records);
            onRun?.Invoke(profile, run);
            if (pool != null) run.Machine?.Dispose(); // its frame storage goes to the next machine of this worker
        }
        return (plan, text, records);
    }

    /// <summary>One seed, never throwing: plan generation or a runner failure is a sim-bug record with the seed.</summary>
    public static SeedResult RunSeedSafely(CampaignSpec spec, ulong seed) => RunSeedSafely(spec, seed, null);

    /// <summary><see cref="RunSeedSafely(CampaignSpec, ulong)"/>, each machine built with <paramref name="pool"/> and released after its run.</summary>
    internal static SeedResult RunSeedSafely(CampaignSpec spec, ulong seed, FramePool? pool)
    {
        try
        {
            var (plan, text, records) = RunSeedDescribed(spec, seed, pool: pool);
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
    /// hand each result to <paramref name="sink"/> in seed order (one call at a time). <paramref name="prepare"/>,
    /// when given, runs on the worker that ran the seed before the seed is queued (the results writer serialises
    /// the seed's lines there, in parallel). When <paramref name="cancel"/> fires, no new seed starts; the seeds in
    /// flight finish and are delivered, so what was delivered is always a prefix of the seed order. An exception of
    /// the sink stops the run and is rethrown.
    /// </summary>
    public static StreamOutcome Stream(CampaignSpec spec, SeedSet seeds, ulong start, int jobs, Action<SeedResult> sink, CancellationToken cancel = default, Action<SeedResult>? prepare = null) =>
        Stream(spec, seeds.Count, seeds.At, start, jobs, sink, cancel, prepare);

    /// <summary>Reorder-buffer slots per job of <see cref="Stream(CampaignSpec, SeedSet, ulong, int, Action{SeedResult}, CancellationToken, Action{SeedResult}?)"/>: the most seeds taken and not yet delivered.</summary>
    public const int ReorderSlotsPerJob = 32;

    private static StreamOutcome Stream(CampaignSpec spec, ulong total, Func<ulong, ulong> seedAt, ulong start, int jobs, Action<SeedResult> sink, CancellationToken cancel, Action<SeedResult>? prepare)
    {
        jobs = Math.Max(1, jobs);
        // At most `window` seeds are taken and not yet delivered, so seed k waits in ring[k % window] (a slot is
        // reused only after its seed was delivered): the reorder buffer is bounded and taking or queueing a seed
        // takes no lock. The worker that queues a seed delivers what is ready, in order, unless another worker is
        // delivering (then it goes on at once, and the deliverer picks the seed up). 32 slots per job: a worker
        // waits for a slot only while another worker's seed has taken as long as 31 average seeds (a window of 4
        // per job stalled the workers 2-4 % of their time at --jobs 2, docs/performance.md, tenth round).
        var window = ReorderSlotsPerJob * jobs;
        using var slots = new SemaphoreSlim(window);
        var ring = new SeedResult?[window];
        var next = (long)start; // the next seed index to take (may pass total at the end of the run)
        var delivered = start;  // written only under `deliver`
        var deliver = new object();
        Exception? failure = null;

        void Worker()
        {
            var pool = new FramePool(); // this worker's machines reuse each other's frame storage
            while (true)
            {
                slots.Wait();
                if (cancel.IsCancellationRequested || Volatile.Read(ref failure) != null) return;
                var k = (ulong)(Interlocked.Increment(ref next) - 1);
                if (k >= total) return;
                var r = RunSeedSafely(spec, seedAt(k), pool);
                prepare?.Invoke(r);
                Volatile.Write(ref ring[k % (ulong)window], r);
                Interlocked.MemoryBarrier();
                Deliver();
            }
        }

        void Deliver()
        {
            // Re-checked after the lock is let go: a seed queued while it was held, by a worker that then went on.
            while (Volatile.Read(ref failure) == null && Volatile.Read(ref ring[Volatile.Read(ref delivered) % (ulong)window]) != null)
            {
                if (!Monitor.TryEnter(deliver)) return;
                try
                {
                    while (failure == null && ring[delivered % (ulong)window] is { } d)
                    {
                        ring[delivered % (ulong)window] = null;
                        try
                        {
                            sink(d);
                        }
                        catch (Exception e)
                        {
                            Volatile.Write(ref failure, e);
                            slots.Release(jobs); // wake the workers waiting for a slot: they see the failure and stop
                            break;
                        }
                        Volatile.Write(ref delivered, delivered + 1);
                        slots.Release();
                    }
                }
                finally
                {
                    Monitor.Exit(deliver);
                }
                Interlocked.MemoryBarrier();
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
        }, CancellationToken.None, null);
        return new CampaignResult(spec, plans, records);
    }
}
