using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// <c>devdax</c>: user-mode loads and stores through a MAP_SHARED mapping of /dev/dax0.0 (a devdax namespace of the
/// seed's alignment: 2 MiB, or 4 KiB / 1 GiB when machine.devdax-align lists them); the oracle's region is the first
/// 64 KiB of the device. A load that reaches a poisoned line must end in exactly SIGBUS BUS_MCEERR_AR
/// (memory_failure_dev_pagemap → kill_procs) with the release's si_addr — the 4 KiB page of the poisoned byte before
/// 5.17, the head of its aligned block from 5.17 (<c>DevDaxCompoundHead</c>) — and si_addr_lsb the mapping's shift
/// (12, 21, 30), after loading only bytes before the line; everything else loads what was last stored. Stores neither
/// consume nor clear poison (device-dax has no clear in place).
/// </summary>
internal sealed class DevdaxWorkload(SeedSession session) : CampaignWorkload(session)
{
    private readonly ulong _align = AlignOf(session.Spec, session.Plan.Seed);
    private DevDax _dev = null!;
    private ulong _map;

    /// <summary>The device offset of the first load or store: the fault that set the block's page-&gt;index.</summary>
    private ulong? _firstTouch;

    /// <summary>
    /// The device's alignment for a seed (the scenario writer boots the same device): the campaign's only
    /// machine.devdax-align, else one of them drawn from a <see cref="SimRandom"/> of its own seeded with
    /// <c>seed ^ 0xDA7A_A119</c>, so the plan (drawn from the seed's stream) is the same whatever the list.
    /// </summary>
    internal static ulong AlignOf(CampaignSpec spec, ulong seed) =>
        spec.DevdaxAligns.Count == 1 ? spec.DevdaxAligns[0] : spec.DevdaxAligns[(int)new SimRandom(seed ^ 0xDA7A_A119).Below((ulong)spec.DevdaxAligns.Count)];

    /// <summary>
    /// The devdax namespace's size (the scenario writer boots the same one): machine.pmem, at least 16 MiB; with 1 GiB
    /// alignment at least 2 GiB and a multiple of 1 GiB, since the info block and memmap take the first 1 GiB.
    /// </summary>
    internal static ulong NamespaceSize(CampaignSpec spec, ulong align)
    {
        var size = Math.Max(spec.PmemSize, 16UL << 20);
        return align == 1UL << 30 ? Math.Max(2UL << 30, (size + align - 1) / align * align) : size;
    }

    /// <summary>How much of the device the workload maps (MAP_SHARED, offset 0): one alignment unit, at least the 64 KiB region.</summary>
    internal static ulong MapLength(ulong align) => Math.Max(align, CampaignPlan.Region);

    /// <summary>
    /// The si_addr of the SIGBUS for a load consuming the poisoned line at device offset <paramref name="line"/>, as an
    /// offset into the mapping: the head of its <paramref name="align"/> block when the release gives device-dax
    /// compound pages (<c>KernelProfile.DevDaxCompoundHead</c>, 5.17+), else the 4 KiB page of the line
    /// (memory_failure_dev_pagemap → kill_procs with the page's address, si_addr_lsb = the mapping's shift).
    /// </summary>
    internal static ulong SiAddrOffset(bool compoundHead, ulong align, ulong line) =>
        compoundHead ? line / align * align : line & ~(PageDefs.PAGE_SIZE - 1);

    /// <summary>
    /// 5.17–6.11 (<c>DevDaxPgoffAlignUp</c>, docs/kernel/pmem.md DD7): dax_set_mapping indexes the compound head from
    /// ALIGN(vmf-&gt;address, fault size), so unless the block's first fault was in its first page the index names the
    /// next block — outside the workload's one-block mapping — and memory_failure signals nobody; the load stops at the
    /// poisoned line without a signal. 4 KiB devices are not compound and always get their own page.
    /// </summary>
    internal static bool NobodySignalled(bool pgoffAlignUp, ulong align, ulong firstTouch) =>
        pgoffAlignUp && align > PageDefs.PAGE_SIZE && firstTouch % align >= PageDefs.PAGE_SIZE;

    /// <summary>si_addr_lsb of that SIGBUS: the shift of the device's mapping size (PTE 12, PMD 21, PUD 30).</summary>
    internal static short SiAddrLsb(ulong align) => (short)System.Numerics.BitOperations.Log2(align);

    /// <summary>The physical address of /dev/dax0.0's first byte on a machine booted by this workload.</summary>
    internal static ulong DeviceStart(Machine m) => m.NvdimmBus()!.Devices.OfType<NdClaim>().First(c => c.DevDax != null).DevDax!.Start;

    public override void Configure(MachineBuilder builder) =>
        builder.AddPmem(new PmemNamespaceSpec(NamespaceSize(S.Spec, _align), NamespaceMode.Devdax) { Align = _align });

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
        var a = P.Mmap(0, MapLength(_align), Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, Fd, 0);
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
        _firstTouch ??= s.Off;
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
            if (bad is { } nb && NobodySignalled(M.Profile.DevDaxPgoffAlignUp, _align, _firstTouch.Value))
            {
                if (r.Signal != null) mismatches.Add($"load over the poisoned line at device offset {nb}: got {r.Signal}, expected no signal (the head's index names the next block, outside the mapping: DD7)");
                if (s.Off + r.Done > Math.Max(nb, s.Off)) mismatches.Add($"load returned {r.Done} bytes, past the poisoned line at device offset {nb}");
            }
            else if (bad is { } b)
            {
                var want = new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, _map + SiAddrOffset(M.Profile.DevDaxCompoundHead, _align, b), SiAddrLsb(_align), true);
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
