using KernelSim.Fs.Dax;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// What the /dev/pmem0 workloads share (buffered, O_DIRECT, fsdax): the namespace, media faults (poison lines,
/// storms, badblocks through ndctl) placed under region offsets, and the final check of the media.
/// </summary>
internal abstract class PmemWorkload(SeedSession session) : CampaignWorkload(session)
{
    protected PmemDevice Pmem { get; private set; } = null!;

    public override void Configure(MachineBuilder builder) => builder.AddPmem(new PmemNamespaceSpec(S.Spec.PmemSize)).AddDaxFs();

    public override void Boot()
    {
        Pmem = M.Pmem("pmem0");
        Format();
    }

    /// <summary>After boot: fill the media with the region's pattern (or format a filesystem on it).</summary>
    protected virtual void Format() =>
        M.Phys.PokeBytes(new PhysAddr(Pmem.DataPhys(0)), ByteModel.Pattern(S.Plan.Seed, 0xD0D0, (int)CampaignPlan.Region));

    /// <summary>The device offset (relative to the data area of /dev/pmem0) holding region byte <paramref name="off"/>, or −1.</summary>
    protected virtual long DevOffset(ulong off) => (long)off;

    /// <summary>The sector given to ndctl for region block <paramref name="block"/> (512 bytes), or −1.</summary>
    protected virtual long SectorOf(ulong block) => (long)block;

    protected override int InjectTarget(PlanStep s, List<ulong> at)
    {
        var applied = 0;
        switch (s.Kind)
        {
            case StepKind.PoisonDevice:
                applied = PoisonDev(s.Off, at);
                break;
            case StepKind.StormDevice:
                for (ulong k = 0; k < s.Len; k++) applied += PoisonDev(s.Off + k * (ulong)s.Pos, at);
                break;
            case StepKind.Badblocks:
            {
                var sector = SectorOf(s.Off);
                var ndctl = M.Scheduler.Processes.FirstOrDefault(x => x.Alive && x.Comm == "ndctl") ?? M.Spawn("ndctl");
                var rc = sector < 0 ? -1 : Ndctl.Run(ndctl, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"inject-error {Pmem.NamespaceName} -B {sector} -n {s.Len}")).Rc;
                applied = rc == 0 ? 1 : 0;
                if (applied == 1) at.Add((ulong)sector); // the block given to ndctl (a scenario's ndctl step repeats it)
                break;
            }
            default:
                return base.InjectTarget(s, at);
        }
        return applied;
    }

    private int PoisonDev(ulong off, List<ulong> at)
    {
        var dev = DevOffset(off);
        if (off >= CampaignPlan.Region || dev < 0 || M.InjectPoison(new PhysAddr(Pmem.DataPhys((ulong)dev))) != 0) return 0;
        at.Add(off);
        return 1;
    }

    protected override bool MediaLinePoisoned(ulong off) => DevOffset(off) is >= 0 and var dev && M.Phys.IsPoisoned(new PhysAddr(Pmem.DataPhys((ulong)dev)));

    /// <summary>
    /// Buffered reads draw from the bdev page cache when the page is cached (blkdev_read_iter → filemap_read), else
    /// from the media the page is filled from (pmem_submit_bio); O_DIRECT and DAX reads from the media.
    /// </summary>
    protected override bool ReadSourcePoisoned(ulong line) =>
        ReadsMedia ? MediaLinePoisoned(line) : CachedLinePoisoned(Pmem.Disk.Inode?.Mapping, line) ?? MediaLinePoisoned(line);

    /// <summary>Whether region line <paramref name="line"/> may differ between the page cache and the media (written since the last fsync).</summary>
    protected virtual bool Volatile(ulong line) => false;

    /// <summary>Before the media is compared: write back what is dirty. False when it could not be (dirty lines are then not compared).</summary>
    protected virtual bool Persist(List<string> notes) => true;

    protected override void CheckTarget(List<string> mismatches, List<string> notes)
    {
        var persisted = Persist(notes);
        if (!persisted) notes.Add("dirty lines not compared (they could not be written back)");
        CheckMedia(persisted, mismatches);
    }

    /// <summary>pmem persists across a reboot: the media must hold the model, except lines that were only in the page cache.</summary>
    protected override void CheckAfterCrash(List<string> mismatches, List<string> notes) => CheckMedia(false, mismatches);

    private void CheckMedia(bool persisted, List<string> mismatches)
    {
        var media = new byte[CampaignPlan.Region];
        Span<byte> lineBytes = stackalloc byte[64];
        for (ulong line = 0; line < CampaignPlan.Region; line += 64)
        {
            var dev = DevOffset(line);
            if (dev < 0) continue;
            M.Phys.PeekBytes(new PhysAddr(Pmem.DataPhys((ulong)dev)), lineBytes);
            lineBytes.CopyTo(media.AsSpan((int)line, 64));
        }
        Oracle.CheckMedia(media, line => MediaLinePoisoned(line) || DevOffset(line) < 0 || (!persisted && Volatile(line)), mismatches);
    }
}
