using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>What a seed run leaves behind: one record per step (plus the final check) and the machine.</summary>
public sealed record SeedRun(CampaignPlan Plan, KernelVersion Profile, IReadOnlyList<OpRecord> Records, Machine Machine,
    IReadOnlyDictionary<int, List<ulong>> Applied)
{
    /// <summary>The worst outcome of the run.</summary>
    public Outcome Worst
    {
        get
        {
            var w = Outcome.Injected;
            foreach (var r in Records)
                if (r.Outcome > w) w = r.Outcome;
            return w;
        }
    }
}

/// <summary>The live state of a seed run, given to the after-step hook (tests corrupt memory through it).</summary>
internal sealed class SeedContext
{
    public required Machine Machine { get; init; }
    public required Process Process { get; init; }
    public required UserPtr Buf { get; init; }
    public required PlanStep Step { get; init; }
    public int Index { get; init; }
}

/// <summary>
/// Runs one plan on one profile: boots the machine its workload (<see cref="ICampaignWorkload"/>) asks for,
/// maps and fills the user buffer, lets the workload open its file, then runs each step (a fault or an
/// operation) and the workload's final check. Each operation is classified (<see cref="OutcomeClassifier"/>)
/// and checked by an oracle that knows every byte (<see cref="CampaignOracle"/>); a mismatch is silent
/// corruption.
/// </summary>
internal static class SeedRunner
{
    /// <summary>KERNELSIM_CAMPAIGN_DEBUG=1 prints each step on stderr before it runs (to find a hang).</summary>
    private static readonly bool Debug = Environment.GetEnvironmentVariable("KERNELSIM_CAMPAIGN_DEBUG") == "1";

    public static SeedRun Run(CampaignSpec spec, CampaignPlan plan, KernelVersion profile, bool trace = false, Action<SeedContext>? afterStep = null,
        string? planId = null, string[]? calls = null, FramePool? pool = null)
    {
        var s = new SeedSession(spec, plan, profile, planId, calls);
        try
        {
            Execute(s, trace, afterStep, pool);
        }
        catch (Exception e)
        {
            // The campaign boundary: any .NET exception escaping the simulator is a bug, reported with its seed.
            s.Add(s.Records.Count, "(simulator)", null, Outcome.SimBug, $"{e.GetType().FullName}: {e.Message}");
        }
        s.Release();
        return new SeedRun(plan, profile, s.Records, s.Machine, s.AppliedOrNone);
    }

    /// <summary>The workload class of a plan's workload.</summary>
    internal static ICampaignWorkload WorkloadOf(SeedSession s) => s.Plan.Workload switch
    {
        WorkloadKind.RamfsRw => new RamfsWorkload(s),
        WorkloadKind.PmemBuffered => new PmemBufferedWorkload(s),
        WorkloadKind.PmemDirect => new PmemDirectWorkload(s),
        WorkloadKind.Fsdax => new FsdaxWorkload(s),
        WorkloadKind.Virtiofs => new VirtioFsWorkload(s),
        WorkloadKind.MmapPrivate => new MmapWorkload(s, shared: false),
        WorkloadKind.MmapShared => new MmapWorkload(s, shared: true),
        WorkloadKind.Sector => new SectorWorkload(s),
        WorkloadKind.Devdax => new DevdaxWorkload(s),
        _ => new HostileWorkload(s),
    };

    /// <summary>
    /// The images prepared for a campaign spec, by profile, workload and work timing: one per key for the whole process,
    /// shared by every worker thread (<see cref="MachineImage.Boot(FramePool?)"/> is thread-safe), kept as long as the <see cref="CampaignSpec"/> is.
    /// </summary>
    private static readonly ConditionalWeakTable<CampaignSpec, ConcurrentDictionary<(KernelVersion, WorkloadKind, bool), Lazy<MachineImage>>> Images = new();

    /// <summary>
    /// The seed's machine. Workloads whose machine depends only on the campaign file, the profile and the work timing boot from an
    /// image prepared once per process (the container is composed once); the seed only sets <see cref="MachineOptions.Seed"/>,
    /// which the kernel does not read at boot. A spec hook (<see cref="CampaignSpec.ConfigureMachine"/>, which may register
    /// instances), tracing, and the workloads that configure per seed (virtio-fs file data, devdax alignment) build afresh.
    /// </summary>
    private static Machine Boot(SeedSession s, ICampaignWorkload w, bool trace, FramePool? pool)
    {
        var plan = s.Plan;
        var cacheable = !trace && s.Spec.ConfigureMachine == null && plan.Workload is not (WorkloadKind.Virtiofs or WorkloadKind.Devdax);
        if (!cacheable) return Builder(s, w, trace).WithFramePool(pool).Build();
        var images = Images.GetOrCreateValue(s.Spec);
        var key = (s.Profile, plan.Workload, plan.WorkManual);
        var image = images.TryGetValue(key, out var prepared) ? prepared : Prepare(images, key, s, w);
        var booted = image.Value.Boot(pool);
        booted.Options.Seed = plan.Seed;
        return booted;
    }

    /// <summary>
    /// The first seed of a key prepares its image (other threads wanting it wait for that one). A method of its own, so
    /// that the closure capturing the seed is made only here, not on every boot.
    /// </summary>
    private static Lazy<MachineImage> Prepare(ConcurrentDictionary<(KernelVersion, WorkloadKind, bool), Lazy<MachineImage>> images,
        (KernelVersion, WorkloadKind, bool) key, SeedSession s, ICampaignWorkload w) =>
        images.GetOrAdd(key, new Lazy<MachineImage>(() => Builder(s, w, trace: false).Prepare()));

    /// <summary>The builder of the seed's machine: the campaign's CPU and DRAM, the workload's devices, the campaign's hook.</summary>
    private static MachineBuilder Builder(SeedSession s, ICampaignWorkload w, bool trace)
    {
        var b = new MachineBuilder().WithKernel(s.Profile).WithCpu(s.Spec.Cpu).WithDram(s.Spec.Dram)
            .WithWorkTiming(s.Plan.WorkManual ? WorkTiming.Manual : WorkTiming.AtSyscallExit)
            .WithSeed(s.Plan.Seed).WithTrace(trace);
        w.Configure(b);
        s.Spec.ConfigureMachine?.Invoke(b);
        return b;
    }

    // A fault record's detail: "not applied" or "applied N" (N up to a storm's 32 lines made once, not per fault).
    private static readonly string[] AppliedTexts = [.. Enumerable.Range(0, 33).Select(n => n == 0 ? "not applied" : $"applied {n}")];

    private static string AppliedText(int applied) => (uint)applied < (uint)AppliedTexts.Length ? AppliedTexts[applied] : $"applied {applied}";

    private static void Execute(SeedSession s, bool trace, Action<SeedContext>? afterStep, FramePool? pool)
    {
        var plan = s.Plan;
        var w = WorkloadOf(s);
        var m = s.Machine = Boot(s, w, trace, pool);
        w.Boot();
        var p = s.Process = m.Spawn("app");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        p.SetSignalHandler(Sig.SIGSEGV, SignalDisposition.Catch);
        var addr = p.Mmap(0, CampaignPlan.BufSize, Mman.PROT_READ | Mman.PROT_WRITE, w.BufferMapping | Mman.MAP_ANONYMOUS);
        if (addr < 0) throw new InvalidOperationException($"setup mmap failed: {Errno.Describe(addr)}");
        s.Buf = new UserPtr((ulong)addr);
        var st = p.Store(s.Buf, ByteModel.PatternOf(plan.Seed, 0xB0B0, (int)CampaignPlan.BufSize));
        if (!st.Completed(CampaignPlan.BufSize)) throw new InvalidOperationException("setup: filling the buffer failed");
        var vr = p.Mmap(0x10000, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        if (vr < 0) throw new InvalidOperationException($"setup mmap of the iovec page failed: {Errno.Describe(vr)}");
        s.Vec = new UserPtr((ulong)vr);
        if (!w.Open()) return;
        m.Tracer.Clear();

        for (var i = 0; i < plan.Steps.Count; i++)
        {
            if (!m.State.Alive || !p.Alive) break;
            var step = plan.Steps[i];
            if (Debug) Console.Error.WriteLine($"# seed {plan.Seed} {s.Profile} step {i}: {step.Describe()}");
            if (step.IsFault)
            {
                var at = s.Applied[i] = [];
                var applied = w.Inject(i, step, at);
                s.Add(i, s.Call(i), null, Outcome.Injected, AppliedText(applied));
            }
            else w.Operate(i, step);
            afterStep?.Invoke(new SeedContext { Machine = m, Process = p, Buf = s.Buf, Step = step, Index = i });
        }
        w.FinalCheck(plan.Steps.Count);
    }
}
