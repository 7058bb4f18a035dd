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
    /// <summary>Region offsets of the 512-byte sectors of the running write that were known badblocks before it.</summary>
    private readonly List<ulong> _badBefore = [];

    protected PmemDevice Pmem { get; private set; } = null!;

    public override void Configure(MachineBuilder builder) => builder.AddPmem(new PmemNamespaceSpec(S.Spec.PmemSize)).AddDaxFs();

    public override void Boot()
    {
        Pmem = M.Pmem("pmem0");
        Format();
    }

    /// <summary>After boot: fill the media with the region's pattern (or format a filesystem on it).</summary>
    protected virtual void Format() =>
        M.Phys.PokeBytes(new PhysAddr(Pmem.DataPhys(0)), ByteModel.PatternOf(S.Plan.Seed, 0xD0D0, (int)CampaignPlan.Region));

    /// <summary>The device offset (relative to the data area of /dev/pmem0) holding region byte <paramref name="off"/>, or −1.</summary>
    protected virtual long DevOffset(ulong off) => (long)off;

    /// <summary>
    /// <see cref="DevOffset"/> of every region line (entry i for region byte 64·i), in a table of
    /// this thread (valid until the next call).
    /// </summary>
    protected virtual long[] DevOffsets()
    {
        var dev = LineTable;
        for (var i = 0; i < dev.Length; i++) dev[i] = DevOffset((ulong)i * 64);
        return dev;
    }

    /// <summary>This thread's table of device offsets per region line.</summary>
    protected static long[] LineTable => _lineTable ??= new long[CampaignPlan.Region / 64];

    [ThreadStatic] private static long[]? _lineTable;
    [ThreadStatic] private static byte[]? _media;

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
                if (applied == 1)
                {
                    at.Add((ulong)sector); // the block given to ndctl (a scenario's ndctl step repeats it)
                    // ndctl injects min(512, clear_err_unit) bytes at the start of each block.
                    var poisoned = (long)Math.Min(512u, M.NvdimmBus()?.Firmware?.ClearErrUnit ?? 512u);
                    var dev = DevOffsets();
                    for (var i = 0; i < dev.Length; i++)
                        if (dev[i] is var d && d >= sector * 512 && d < (sector + (long)s.Len) * 512 && d % 512 < poisoned)
                            S.Poison.Injected((ulong)i * 64, FaultStep);
                }
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
        S.Poison.Injected(off, FaultStep);
        return 1;
    }

    protected override bool MediaLinePoisoned(ulong off) => DevOffset(off) is >= 0 and var dev && LinePoisoned(new PhysAddr(Pmem.DataPhys((ulong)dev)));

    /// <summary>
    /// Buffered reads draw from the bdev page cache when the page is cached (blkdev_read_iter → filemap_read), else
    /// from the media the page is filled from (pmem_submit_bio); O_DIRECT and DAX reads from the media.
    /// </summary>
    protected override bool ReadSourcePoisoned(ulong line) =>
        ReadsMedia ? MediaLinePoisoned(line) : CachedLinePoisoned(Pmem.Disk.Inode?.Mapping, line) ?? MediaLinePoisoned(line);

    /// <summary>
    /// Whether a write the kernel reports complete must have cleared the known-bad sectors it covered: O_DIRECT writes
    /// reach pmem_do_write at once (the buffered and DAX paths clear at writeback or in a recovery write, if at all).
    /// </summary>
    protected virtual bool ClearsOnWrite => false;

    protected override void WriteStarting(int step, ulong pos, ulong len)
    {
        _badBefore.Clear();
        if (!ClearsOnWrite || Pmem.Bb.Count == 0) return;
        for (var sec = pos & ~511UL; sec < pos + len && sec < CampaignPlan.Region; sec += 512)
            if (DevOffset(sec) is >= 0 and var dev && Pmem.Bb.Check(dev / 512, 1) != 0) _badBefore.Add(sec);
    }

    protected override void Wrote(int step, ulong pos, ulong len, long ret)
    {
        // pmem_do_write clears the bio segment it writes (O_DIRECT: inside the 512-aligned range); writeback and DAX
        // recovery writes whole pages.
        S.Poison.Touched(pos, len, step, ClearsOnWrite ? 512UL : 4096UL);
        if (ret < 0 || (ulong)ret != len) return;
        foreach (var sec in _badBefore)
        {
            var from = Math.Max(sec, pos);
            var to = Math.Min(sec + 512, pos + len);
            if (to > from) S.Poison.Cleared(from, to - from, step);
        }
    }

    /// <summary>Write-back of [pos, pos+len) (fsync): pmem_do_write may clear the poison of the pages it writes.</summary>
    protected void WrittenBack(ulong pos, ulong len) => S.Poison.Touched(pos, len, S.Records.Count, 4096);

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
        // Where each region line lives on the device (−1: nowhere), asked once per line; the media read in runs of lines
        // that follow each other on the device (a line not on the device is left as it was: it is never compared).
        var dev = DevOffsets();
        var media = _media ??= new byte[CampaignPlan.Region];
        for (var i = 0; i < dev.Length;)
        {
            var j = i + 1;
            if (dev[i] < 0)
            {
                media.AsSpan(i * 64, 64).Clear();
                i = j;
                continue;
            }
            while (j < dev.Length && dev[j] == dev[j - 1] + 64) j++;
            M.Phys.PeekBytes(new PhysAddr(Pmem.DataPhys((ulong)dev[i])), media.AsSpan(i * 64, (j - i) * 64));
            i = j;
        }
        var lines = MediaLines(dev);
        Oracle.CheckMedia(media, line => lines[(int)(line / 64)] != PoisonModel.LineClean || (!persisted && Volatile(line)), mismatches);
        S.Poison.Check(lines, mismatches);
    }

    [ThreadStatic] private static byte[]? _mediaLines;

    /// <summary>
    /// Each region line on the media now (<see cref="PoisonModel.LineClean"/>, <see cref="PoisonModel.LinePoisoned"/>,
    /// <see cref="PoisonModel.LineNotOnMedia"/>), from <see cref="Mm.PhysicalMemory.IsPoisoned"/> of the line's address with
    /// the frame looked up once per page; a table of this thread, valid until the next call.
    /// </summary>
    private byte[] MediaLines(long[] dev)
    {
        var lines = _mediaLines ??= new byte[CampaignPlan.Region / 64];
        var anyPoison = M.Phys.PoisonedFrameCount != 0;
        var framePfn = ulong.MaxValue;
        PageFrame? frame = null;
        for (var i = 0; i < lines.Length; i++)
        {
            if (dev[i] < 0)
            {
                lines[i] = PoisonModel.LineNotOnMedia;
                continue;
            }
            lines[i] = PoisonModel.LineClean;
            if (!anyPoison) continue;
            var pa = Pmem.DataPhys((ulong)dev[i]);
            if (pa >> PageDefs.PAGE_SHIFT != framePfn) frame = M.Phys.Peek(framePfn = pa >> PageDefs.PAGE_SHIFT);
            if (frame != null && frame.IsLinePoisoned(PageDefs.OffsetInPage(pa))) lines[i] = PoisonModel.LinePoisoned;
        }
        return lines;
    }
}
