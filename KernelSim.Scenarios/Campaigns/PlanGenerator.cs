using KernelSim.Lib;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// Draws a seed's plan from <see cref="SimRandom"/> (xoshiro256** seeded with the seed): the workload by
/// weight, in swarm mode a random subset of the fault kinds, then operations with faults interleaved.
/// </summary>
public static class PlanGenerator
{
    private const ulong Page = 4096;

    public static CampaignPlan Generate(CampaignSpec spec, ulong seed)
    {
        var rng = new SimRandom(seed);
        Span<int> ww = stackalloc int[spec.Workloads.Count];
        for (var i = 0; i < ww.Length; i++) ww[i] = spec.Workloads[i].Weight;
        var workload = spec.Workloads[rng.Weighted(ww)].Kind;

        // Lists sized for what they get: growth copies were a fifth of a plan's garbage.
        var kinds = new List<(FaultKind Kind, int Weight)>(spec.Faults.Count);
        foreach (var (k, w) in spec.Faults)
        {
            if (w == 0 || !Applies(k, workload)) continue;
            if (spec.Swarm && !rng.Chance(1, 2)) continue;
            kinds.Add((k, w));
        }
        var workManual = kinds.Exists(k => k.Kind == FaultKind.WorkTiming);
        var injectable = kinds.FindAll(k => k.Kind != FaultKind.WorkTiming);

        var ops = new List<PlanStep>(spec.Operations);
        for (var i = 0; i < spec.Operations; i++) ops.Add(workload == WorkloadKind.Hostile ? HostileWorkload.Generate(rng) : Op(rng, workload));

        var faultsAt = new List<(int At, PlanStep Step)>(3);
        if (injectable.Count > 0)
        {
            var n = rng.Range(1, 3);
            Span<int> fw = stackalloc int[injectable.Count];
            for (var i = 0; i < fw.Length; i++) fw[i] = injectable[i].Weight;
            for (var i = 0; i < n; i++)
            {
                var kind = injectable[rng.Weighted(fw)].Kind;
                faultsAt.Add((rng.Range(0, spec.Operations - 1), Fault(rng, kind, workload)));
            }
        }
        var steps = new List<PlanStep>(ops.Count + faultsAt.Count);
        for (var i = 0; i < ops.Count; i++)
        {
            foreach (var (at, f) in faultsAt)
                if (at == i) steps.Add(f);
            steps.Add(ops[i]);
        }
        return new CampaignPlan(seed, workload, workManual, kinds.ConvertAll(k => k.Kind), steps);
    }

    private static bool Applies(FaultKind k, WorkloadKind w) => k switch
    {
        _ when w == WorkloadKind.Devdax => k == FaultKind.PoisonLine,
        FaultKind.Badblocks => CampaignSpec.IsPmem(w) || w == WorkloadKind.Sector,
        FaultKind.WorkTiming => CampaignSpec.IsPmem(w),
        FaultKind.HostTruncate => w == WorkloadKind.Virtiofs,
        _ => w != WorkloadKind.Hostile,
    };

    private static PlanStep Fault(SimRandom rng, FaultKind kind, WorkloadKind w)
    {
        var pmem = CampaignSpec.IsPmem(w);
        switch (kind)
        {
            case FaultKind.PoisonLine when w is WorkloadKind.Sector or WorkloadKind.Devdax:
                return new PlanStep(StepKind.PoisonDevice, Off: rng.Below(CampaignPlan.Region / 64) * 64);
            case FaultKind.Badblocks when w == WorkloadKind.Sector:
                return new PlanStep(StepKind.Badblocks, Off: rng.Below(CampaignPlan.Region / 512), Len: 1);
            case FaultKind.PoisonLine when pmem:
                return new PlanStep(StepKind.PoisonDevice, Off: rng.Below(CampaignPlan.Region / 64) * 64);
            case FaultKind.PoisonLine:
            case FaultKind.PoisonedBuffer:
                return new PlanStep(StepKind.PoisonBuffer, Off: rng.Below(CampaignPlan.BufSize / 64) * 64);
            case FaultKind.Badblocks:
                return new PlanStep(StepKind.Badblocks, Off: rng.Below(CampaignPlan.Region / 512), Len: (ulong)rng.Range(1, 8));
            case FaultKind.McStorm:
            {
                var lines = (ulong)rng.Range(4, 32);
                var stride = 64L * rng.Range(1, 32);
                var span = lines * (ulong)stride;
                var limit = pmem ? CampaignPlan.Region : CampaignPlan.BufSize;
                var start = span >= limit ? 0 : rng.Below((limit - span) / 64) * 64;
                return new PlanStep(pmem ? StepKind.StormDevice : StepKind.StormBuffer, Off: start, Len: lines, Pos: stride);
            }
            case FaultKind.HostTruncate:
                return new PlanStep(StepKind.HostTruncate, Off: rng.Below(CampaignPlan.Region / Page) * Page);
            case FaultKind.UnmappedPage:
                return new PlanStep(StepKind.UnmapPage, Off: rng.Below(CampaignPlan.BufSize / Page) * Page);
            case FaultKind.ReadonlyPage:
                return new PlanStep(StepKind.ReadonlyPage, Off: rng.Below(CampaignPlan.BufSize / Page) * Page);
            default:
            {
                var page = rng.Below(CampaignPlan.BufSize / Page) * Page;
                var granules = (ulong)rng.Range(1, 16);
                var at = rng.Below(Page / 16 - granules + 1) * 16;
                return new PlanStep(StepKind.SubpageHole, Off: page + at, Len: granules * 16);
            }
        }
    }

    private static PlanStep Op(SimRandom rng, WorkloadKind w)
    {
        if (w is WorkloadKind.MmapPrivate or WorkloadKind.MmapShared or WorkloadKind.Devdax)
        {
            var len = (ulong)rng.Range(1, 8192);
            var off = rng.Below(CampaignPlan.BufSize - len + 1);
            return rng.Chance(1, 2)
                ? new PlanStep(StepKind.Load, Off: off, Len: len)
                : new PlanStep(StepKind.Store, Off: off, Len: len, Fill: (byte)rng.Below(256));
        }
        if (w == WorkloadKind.Sector) return SectorOp(rng);
        var direct = w == WorkloadKind.PmemDirect;
        Span<int> weights = [2, 2, 3, 3, 1, 1, 2, 2, w == WorkloadKind.PmemBuffered ? 1 : 0];
        var kind = rng.Weighted(weights) switch
        {
            0 => StepKind.Read,
            1 => StepKind.Write,
            2 => StepKind.Pread,
            3 => StepKind.Pwrite,
            4 => StepKind.Readv,
            5 => StepKind.Writev,
            6 => StepKind.Preadv,
            7 => StepKind.Pwritev,
            _ => StepKind.Fsync,
        };
        if (kind == StepKind.Fsync) return new PlanStep(kind);
        // O_DIRECT wants 512-byte alignment; 1 in 16 is left misaligned on purpose (EINVAL).
        var unit = direct && !rng.Chance(1, 16) ? 512UL : 1UL;
        ulong RandLen(ulong max) => direct && unit == 512 ? 512 * (ulong)rng.Range(1, (int)(max / 512)) : (ulong)rng.Range(1, (int)max);
        if (kind is StepKind.Readv or StepKind.Writev or StepKind.Preadv or StepKind.Pwritev)
        {
            var n = rng.Range(1, 4);
            var segs = new ulong[n * 2];
            ulong total = 0;
            for (var i = 0; i < n; i++)
            {
                var len = RandLen(4096);
                segs[i * 2] = rng.Below((CampaignPlan.BufSize - len) / unit + 1) * unit;
                segs[i * 2 + 1] = len;
                total += len;
            }
            var pos = (long)(rng.Below((CampaignPlan.Region - Math.Min(total, CampaignPlan.Region)) / unit + 1) * unit);
            return new PlanStep(kind, Pos: pos, Segs: segs);
        }
        {
            var len = RandLen(16384);
            var off = rng.Below((CampaignPlan.BufSize - len) / unit + 1) * unit;
            var pos = (long)(rng.Below((CampaignPlan.Region - len) / unit + 1) * unit);
            return new PlanStep(kind, Off: off, Len: len, Pos: pos);
        }
    }

    /// <summary>The sector workload: pread or pwrite of 1..8 whole sectors at a sector-aligned offset (1 in 16 misaligned: EINVAL).</summary>
    private static PlanStep SectorOp(SimRandom rng)
    {
        var kind = rng.Chance(1, 2) ? StepKind.Pread : StepKind.Pwrite;
        var unit = rng.Chance(1, 16) ? 1UL : 512UL;
        var len = 512 * (ulong)rng.Range(1, 8) - (unit == 1 ? (ulong)rng.Range(1, 511) : 0);
        var off = rng.Below((CampaignPlan.BufSize - len) / unit + 1) * unit;
        var pos = (long)(rng.Below((CampaignPlan.Region - len) / unit + 1) * unit);
        return new PlanStep(kind, Off: off, Len: len, Pos: pos);
    }
}
