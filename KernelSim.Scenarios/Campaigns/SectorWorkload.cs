using System.Buffers.Binary;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// <c>sector</c>: O_DIRECT pread/pwrite of whole 512-byte sectors on /dev/pmem0s, a sector-mode namespace (the BTT).
/// Media faults land in the data block an LBA maps to when they are injected. The oracle follows the BTT map as it
/// is on the media (read by the debugger, not through the driver): a read covering an LBA whose current block is
/// bad (a poisoned line, a namespace badblock, or the map's error flag) must fail with EIO (btt_read_pg), a read
/// of good blocks must succeed with what was last written; a write that succeeds remaps (btt_write_pg), so the LBA
/// then reads back the written bytes.
/// </summary>
internal sealed class SectorWorkload(SeedSession session) : CampaignWorkload(session)
{
    private const uint MapZero = 0x80000000, MapErr = 0x40000000, MapLbaMask = 0x3FFFFFFF;

    private Btt _btt = null!;
    private INdNamespaceIo _ns = null!;

    /// <summary>A BTT arena needs more than 16 MiB (btt_arena_write_layout's minimum), so the namespace has at least 32 MiB.</summary>
    private const ulong MinSize = 32UL << 20;

    /// <summary>The sector-mode namespace's size for <paramref name="spec"/> (the scenario writer boots the same one).</summary>
    internal static ulong NamespaceSize(CampaignSpec spec) => Math.Max(spec.PmemSize, MinSize);

    public override void Configure(MachineBuilder builder) =>
        builder.AddPmem(new PmemNamespaceSpec(NamespaceSize(S.Spec), NamespaceMode.Sector) { Align = 2UL << 20 });

    public override void Boot()
    {
        _btt = M.NvdimmBus()!.Devices.OfType<NdClaim>().First(c => c.Btt != null).Btt!;
        _ns = _btt.Namespace;
        var pattern = ByteModel.Pattern(S.Plan.Seed, 0xD0D0, (int)CampaignPlan.Region);
        for (uint lba = 0; lba < CampaignPlan.Region / 512; lba++)
            if (BlockPhys(lba) is { } phys) M.Phys.PokeBytes(new PhysAddr(phys), pattern.AsSpan((int)lba * 512, 512));
    }

    public override bool Open()
    {
        Fd = (int)P.Open("/dev/pmem0s", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        return Opened();
    }

    private BttArena Arena => _btt.Arenas[0];

    /// <summary>The raw map entry of <paramref name="lba"/> as it is on the media (btt_map_read's source).</summary>
    private uint MapEntry(uint lba)
    {
        Span<byte> b = stackalloc byte[4];
        M.Phys.PeekBytes(new PhysAddr(_ns.Start + _btt.InitialOffset + Arena.Mapoff + lba * 4UL), b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    /// <summary>The namespace offset of the data block <paramref name="lba"/> maps to now; null when trimmed.</summary>
    private ulong? BlockNsOffset(uint lba, out bool errFlag)
    {
        var e = MapEntry(lba);
        errFlag = (e & (MapZero | MapErr)) == MapErr;
        if ((e & (MapZero | MapErr)) == MapZero) return null;
        var postmap = (e & (MapZero | MapErr)) == 0 ? lba : e & MapLbaMask;
        return Arena.ToNamespaceOffset(postmap) + _btt.InitialOffset;
    }

    private ulong? BlockPhys(uint lba) => BlockNsOffset(lba, out _) is { } o ? _ns.Start + o : null;

    /// <summary>Whether a read of <paramref name="lba"/> must fail: its block is poisoned, a known badblock, or flagged in the map.</summary>
    private bool BlockBad(uint lba)
    {
        if (BlockNsOffset(lba, out var err) is not { } nsoff) return false;
        if (err || (_ns.Bb.Count != 0 && _ns.Bb.Check((long)(nsoff >> 9), 1) != 0)) return true;
        if (M.Phys.PoisonedFrameCount == 0) return false;
        for (ulong l = 0; l < 512; l += 64)
            if (M.Phys.IsPoisoned(new PhysAddr(_ns.Start + nsoff + l))) return true;
        return false;
    }

    /// <summary>
    /// poison-line: the line at byte <c>Off % 512</c> of the block the LBA maps to now; <paramref name="at"/> gets its
    /// physical address (the map moves on with every write, so the scenario writer needs where it was, not the LBA).
    /// badblocks: the physical address of the block's first line, poisoned and then found by an ndctl start-scrub.
    /// </summary>
    protected override int InjectTarget(PlanStep s, List<ulong> at)
    {
        var lba = (uint)(s.Off / 512);
        switch (s.Kind)
        {
            case StepKind.PoisonDevice when BlockPhys(lba) is { } phys:
                if (M.InjectPoison(new PhysAddr(phys + s.Off % 512)) != 0) return 0;
                at.Add(phys + s.Off % 512);
                return 1;
            case StepKind.Badblocks when BlockNsOffset((uint)s.Off, out _) is { } nsoff:
            {
                // ndctl inject-error refuses a BTT namespace (ndctl_namespace_get_injection_bounds: -EOPNOTSUPP); a
                // block becomes known-bad the way btt-errors.sh's users meet it: latent poison that an address range
                // scrub finds (ars_complete → NVDIMM_REVALIDATE_POISON → nd_pmem_notify fills the namespace's badblocks).
                var ndctl = M.Scheduler.Processes.FirstOrDefault(x => x.Alive && x.Comm == "ndctl") ?? M.Spawn("ndctl");
                var pa = _ns.Start + nsoff;
                if (M.InjectPoison(new PhysAddr(pa)) != 0 || Ndctl.Run(ndctl, "start-scrub").Rc != 0) return 0;
                at.Add(pa);
                return 1;
            }
            default:
                return 0;
        }
    }

    public override void Operate(int i, PlanStep s)
    {
        if (s.Kind is not (StepKind.Pread or StepKind.Pwrite))
        {
            base.Operate(i, s);
            return;
        }
        bool? mustFail = null;
        if (s.Kind == StepKind.Pread && s.Pos % 512 == 0 && s.Len % 512 == 0 && s.Off % 512 == 0)
        {
            mustFail = false;
            for (var lba = (uint)(s.Pos / 512); lba < (s.Pos + (long)s.Len) / 512 && lba < CampaignPlan.Region / 512; lba++)
                mustFail |= BlockBad(lba);
        }
        var before = S.Records.Count;
        base.Operate(i, s);
        if (mustFail is not { } bad || S.Records.Count != before + 1) return;
        var rec = S.Records[^1];
        // A bad block never yields data; a read of good blocks never fails with EIO (other errors, e.g. EFAULT from
        // the user buffer, are the generic oracle's business).
        if (rec.Ret is { } r && (bad ? r >= 0 : r == -Errno.EIO) && rec.Outcome is not Outcome.SimBug)
            S.Records[^1] = rec with
            {
                Outcome = Outcome.SilentCorruption,
                Detail = $"{rec.Detail}; the BTT map says {(bad ? "a block in range is bad: expected EIO" : "every block in range is good: expected no EIO")}, got {r}".TrimStart(';', ' '),
            };
    }

    protected override bool ReadsMedia => true;

    /// <summary>A read draws from the data block its LBA maps to now; a bad block must not reach user space.</summary>
    protected override bool ReadSourcePoisoned(ulong line) => line < CampaignPlan.Region && BlockBad((uint)(line / 512));

    protected override void CheckTarget(List<string> mismatches, List<string> notes) => CheckMedia(mismatches);

    protected override void CheckAfterCrash(List<string> mismatches, List<string> notes) => CheckMedia(mismatches);

    /// <summary>Each LBA's current data block must hold the model, except bad blocks (their reads fail).</summary>
    private void CheckMedia(List<string> mismatches)
    {
        var media = new byte[CampaignPlan.Region];
        var skip = new bool[CampaignPlan.Region / 512];
        for (uint lba = 0; lba < skip.Length; lba++)
        {
            skip[lba] = BlockBad(lba) || BlockPhys(lba) is null;
            if (!skip[lba]) M.Phys.PeekBytes(new PhysAddr(BlockPhys(lba)!.Value), media.AsSpan((int)lba * 512, 512));
        }
        Oracle.CheckMedia(media, line => skip[line / 512], mismatches);
    }
}
