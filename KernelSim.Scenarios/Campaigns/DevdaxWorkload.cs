using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// <c>devdax</c>: user-mode loads and stores through a MAP_SHARED mapping of /dev/dax0.0 (a devdax namespace, 2 MiB
/// alignment); the oracle's region is the first 64 KiB of the device. A load that reaches a poisoned line must end in
/// exactly SIGBUS BUS_MCEERR_AR (memory_failure_dev_pagemap → kill_procs) with the release's si_addr — the 4 KiB page
/// of the poisoned byte up to 5.x, the head of its 2 MiB block from 6.12 (<c>DevDaxCompoundHead</c>) — and
/// si_addr_lsb 21, after loading only bytes before the line; everything else loads what was last stored. Stores
/// neither consume nor clear poison (device-dax has no clear in place).
/// </summary>
internal sealed class DevdaxWorkload(SeedSession session) : CampaignWorkload(session)
{
    private const ulong Align = 2UL << 20;
    private const short AlignLsb = 21;

    private DevDax _dev = null!;
    private ulong _map;

    public override void Configure(MachineBuilder builder) =>
        builder.AddPmem(new PmemNamespaceSpec(Math.Max(S.Spec.PmemSize, 16UL << 20), NamespaceMode.Devdax) { Align = Align });

    public override void Boot()
    {
        _dev = M.NvdimmBus()!.Devices.OfType<NdClaim>().First(c => c.DevDax != null).DevDax!;
        M.Phys.PokeBytes(new PhysAddr(_dev.Start), ByteModel.PatternOf(S.Plan.Seed, 0xD0D0, (int)CampaignPlan.Region));
    }

    public override int BufferMapping => Mman.MAP_SHARED;

    public override bool Open()
    {
        Fd = (int)P.Open("/dev/dax0.0", Fcntl.O_RDWR);
        if (!Opened()) return false;
        var a = P.Mmap(0, Align, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, Fd, 0);
        if (a < 0)
        {
            S.Add(0, "setup: mmap /dev/dax0.0", a, Outcome.OtherErrno, $"mmap failed: {Errno.Describe(a)}; no operation ran");
            return false;
        }
        _map = (ulong)a;
        return true;
    }

    protected override int InjectTarget(PlanStep s, List<ulong> at)
    {
        if (s.Kind != StepKind.PoisonDevice || s.Off >= CampaignPlan.Region || M.InjectPoison(new PhysAddr(_dev.Start + s.Off)) != 0) return 0;
        at.Add(s.Off);
        return 1;
    }

    private bool Poisoned(ulong off) => M.Phys.PoisonedFrameCount != 0 && M.Phys.IsPoisoned(new PhysAddr(_dev.Start + off));

    public override void Operate(int i, PlanStep s)
    {
        if (s.Kind is not (StepKind.Load or StepKind.Store))
        {
            base.Operate(i, s);
            return;
        }
        var sigBefore = P.SignalsReceived.Count;
        var ptr = new UserPtr(_map + s.Off);
        var data = new byte[s.Len];
        List<string> mismatches = [];
        UserAccessResult r;
        if (s.Kind == StepKind.Load)
        {
            ulong? bad = null;
            for (var line = s.Off & ~63UL; line < s.Off + s.Len && bad == null; line += 64)
                if (Poisoned(line)) bad = line;
            r = P.Load(ptr, data);
            if (bad is { } b)
            {
                var page = M.Profile.DevDaxCompoundHead ? b / Align * Align : b & ~(PageDefs.PAGE_SIZE - 1);
                var want = new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, _map + page, AlignLsb, true);
                if (r.Signal != want) mismatches.Add($"load over the poisoned line at device offset {b}: got {r.Signal?.ToString() ?? "no signal"}, expected {want}");
                if (s.Off + r.Done > Math.Max(b, s.Off)) mismatches.Add($"load returned {r.Done} bytes, past the poisoned line at device offset {b}");
            }
            else if (!r.Completed(s.Len)) mismatches.Add($"load of clean device bytes stopped after {r.Done} of {s.Len} ({r.Signal?.ToString() ?? r.Outcome})");
            for (ulong k = 0; k < r.Done && k < s.Len && mismatches.Count < CampaignOracle.MaxReported; k++)
                if (!Oracle.Region.Allows(s.Off + k, data[k]))
                    mismatches.Add($"loaded 0x{data[k]:x2} at device offset {s.Off + k}, expected {Oracle.Region.Expected(s.Off + k)}");
        }
        else
        {
            Array.Fill(data, s.Fill);
            r = P.Store(ptr, data);
            if (!r.Completed(s.Len)) mismatches.Add($"store stopped after {r.Done} of {s.Len} ({r.Signal?.ToString() ?? r.Outcome})");
            for (ulong k = 0; k < r.Done && k < s.Len; k++) Oracle.Region.Set(s.Off + k, s.Fill);
        }
        var o = OutcomeClassifier.UserAccess(r, s.Len, Observation.After(M, P, Machine.NoReturn, sigBefore), out var detail);
        o = OutcomeClassifier.Judge(o, mismatches, ref detail);
        S.Add(i, S.Call(i), (long)r.Done, o, detail);
    }

    protected override void CheckTarget(List<string> mismatches, List<string> notes) => CheckMedia(mismatches);

    protected override void CheckAfterCrash(List<string> mismatches, List<string> notes) => CheckMedia(mismatches);

    /// <summary>The device's first 64 KiB must hold the model, except poisoned lines.</summary>
    private void CheckMedia(List<string> mismatches)
    {
        var media = new byte[CampaignPlan.Region];
        M.Phys.PeekBytes(new PhysAddr(_dev.Start), media);
        Oracle.CheckMedia(media, Poisoned, mismatches);
    }
}
