using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// What the file and mmap workloads share: faults in the user buffer, the file operations on one descriptor
/// (read, write, pread, pwrite, the vectored calls, fsync), user-mode loads and stores, and the final check of
/// the buffer. Each operation is run, classified (<see cref="OutcomeClassifier"/>) and checked against the
/// oracle (<see cref="CampaignOracle"/>). A workload adds its devices, setup, media faults and region check.
/// </summary>
internal abstract class CampaignWorkload(SeedSession session) : ICampaignWorkload
{
    private long _fpos;

    protected SeedSession S { get; } = session;
    protected Machine M => S.Machine;
    protected Process P => S.Process;
    protected UserPtr Buf => S.Buf;
    protected CampaignOracle Oracle => S.Oracle;

    /// <summary>The descriptor the operations use (−errno when the open failed).</summary>
    protected int Fd { get; set; } = -1;

    public virtual void Configure(MachineBuilder builder)
    {
    }

    public virtual void Boot()
    {
    }

    public virtual int BufferMapping => Mman.MAP_PRIVATE;

    public virtual bool Open() => true;

    /// <summary>The file workloads: a failed open is one record and no operation runs.</summary>
    protected bool Opened()
    {
        if (Fd >= 0) return true;
        // The release has no such filesystem (virtio-fs is 5.4+) or the mount failed: one record, no operations.
        S.Add(0, "setup: open", Fd, Outcome.OtherErrno, $"open failed: {Errno.Describe(Fd)}; no operation ran");
        return false;
    }

    // ---- faults ---------------------------------------------------------------------------------------

    /// <summary>The index of the fault step being applied.</summary>
    protected int FaultStep { get; private set; }

    public int Inject(int index, PlanStep s, List<ulong> at)
    {
        FaultStep = index;
        var applied = 0;
        switch (s.Kind)
        {
            case StepKind.PoisonBuffer:
                applied = PoisonBuf(s.Off, at);
                break;
            case StepKind.StormBuffer:
                for (ulong k = 0; k < s.Len; k++) applied += PoisonBuf(s.Off + k * (ulong)s.Pos, at);
                break;
            case StepKind.UnmapPage:
                applied = P.Munmap(Buf.Value + s.Off, 4096) == 0 ? 1 : 0;
                if (applied == 1) at.Add(s.Off);
                break;
            case StepKind.ReadonlyPage:
                applied = P.Mprotect(Buf.Value + s.Off, 4096, Mman.PROT_READ) == 0 ? 1 : 0;
                if (applied == 1) at.Add(s.Off);
                break;
            case StepKind.SubpageHole:
                P.Mm.SetSubpageProtection(new UserPtr(Buf.Value + s.Off), s.Len, accessible: false);
                applied = 1;
                at.Add(s.Off);
                break;
            default:
                applied = InjectTarget(s, at);
                break;
        }
        return applied;
    }

    /// <summary>Faults in the workload's target (media lines, badblocks, the host file).</summary>
    protected virtual int InjectTarget(PlanStep s, List<ulong> at) =>
        throw new InvalidOperationException($"{s.Describe()}: the {CampaignSpec.NameOf(S.Plan.Workload)} workload has no such target");

    private int PoisonBuf(ulong off, List<ulong> at)
    {
        if (off >= CampaignPlan.BufSize) return 0;
        var va = Buf.Value + off;
        if (P.Mm.PfnAt(va) is not { } pfn) return 0;
        if (M.InjectPoison(new PhysAddr((pfn << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(va))) != 0) return 0;
        at.Add(off);
        return 1;
    }

    // PhysicalMemory.IsPoisoned with the last frame looked up kept, while a loop over the lines of one call runs
    // (BatchLineChecks): nothing adds or poisons a frame there, and a call asks up to 1 024 lines, 64 per page.
    private bool _lineBatch;
    private ulong _linePfn = ulong.MaxValue;
    private PageFrame? _lineFrame;

    /// <summary>Whether the line holding <paramref name="pa"/> is poisoned now (<see cref="Mm.PhysicalMemory.IsPoisoned"/>).</summary>
    protected bool LinePoisoned(PhysAddr pa)
    {
        if (!_lineBatch) return M.Phys.IsPoisoned(pa);
        if (pa.Pfn != _linePfn) _lineFrame = M.Phys.Peek(_linePfn = pa.Pfn);
        return _lineFrame != null && _lineFrame.IsLinePoisoned(PageDefs.OffsetInPage(pa.Value));
    }

    /// <summary>
    /// Which loop of line checks is running (0: none): what a workload looks up per line (a file block's device
    /// offset) may be kept while it stays the same, since nothing in the loop changes the machine.
    /// </summary>
    protected int LineBatch => _lineBatch ? _lineBatchStamp : 0;

    private int _lineBatchStamp;

    /// <summary>Start (true) or end (false) a loop of <see cref="LinePoisoned"/> checks that changes no frame.</summary>
    private void BatchLineChecks(bool on)
    {
        _lineBatch = on;
        if (on && ++_lineBatchStamp == 0) _lineBatchStamp = 1;
        _linePfn = ulong.MaxValue;
        _lineFrame = null;
    }

    // ---- operations -----------------------------------------------------------------------------------

    /// <summary>True when reads come from the media (O_DIRECT, DAX): a poisoned media line must not reach user space.</summary>
    protected virtual bool ReadsMedia => false;

    /// <summary>Whether the media line holding region byte <paramref name="off"/> is poisoned.</summary>
    protected virtual bool MediaLinePoisoned(ulong off) => false;

    /// <summary>
    /// Whether a read of region line <paramref name="line"/> would draw from a poisoned line: the media for O_DIRECT
    /// and DAX, the page-cache page when it is cached (else the media it is filled from). Asked of the hardware
    /// (<see cref="Mm.PhysicalMemory"/>), never of the <see cref="Mm.IMemoryMedia"/> seam the kernel consults.
    /// </summary>
    protected virtual bool ReadSourcePoisoned(ulong line) => ReadsMedia && MediaLinePoisoned(line);

    /// <summary>Whether the page-cache page of <paramref name="mapping"/> holding region byte <paramref name="off"/> is cached on a frame whose line there is poisoned; null when not cached.</summary>
    protected bool? CachedLinePoisoned(Fs.AddressSpace? mapping, ulong off) =>
        mapping?.Find(off >> PageDefs.PAGE_SHIFT) is { } folio
            ? LinePoisoned(new PhysAddr((folio.Pfn << PageDefs.PAGE_SHIFT) | (off & (PageDefs.PAGE_SIZE - 1))))
            : null;

    /// <summary>Step <paramref name="step"/>, a write of <paramref name="len"/> bytes at <paramref name="pos"/>, is about to run.</summary>
    protected virtual void WriteStarting(int step, ulong pos, ulong len)
    {
    }

    /// <summary>Step <paramref name="step"/>, a write of <paramref name="len"/> bytes at <paramref name="pos"/>, ran and returned <paramref name="ret"/>.</summary>
    protected virtual void Wrote(int step, ulong pos, ulong len, long ret)
    {
    }

    /// <summary>fsync returned <paramref name="ret"/>.</summary>
    protected virtual void Synced(long ret)
    {
    }

    /// <summary>
    /// The step's segments (one for the plain calls), in this thread's array for that many segments: valid until the next
    /// call (the oracle reads them only during the operation), so an operation makes no array.
    /// </summary>
    private static (ulong Off, ulong Len)[] Segments(PlanStep s)
    {
        var count = s.Segs == null ? 1 : s.Segs.Length / 2;
        var bySize = _segments ??= new (ulong, ulong)[8][];
        var r = count < bySize.Length ? bySize[count] ??= new (ulong, ulong)[count] : new (ulong, ulong)[count];
        if (s.Segs == null) r[0] = (s.Off, s.Len);
        else
            for (var k = 0; k < r.Length; k++) r[k] = (s.Segs[2 * k], s.Segs[2 * k + 1]);
        return r;
    }

    [ThreadStatic] private static (ulong Off, ulong Len)[]?[]? _segments;

    /// <summary>The poisoned lines (buffer offsets) under the segments, before the call (the call may unmap them).</summary>
    /// <summary>Whether every segment lies in the buffer.</summary>
    private static bool InBuffer((ulong Off, ulong Len)[] segs)
    {
        foreach (var (off, len) in segs)
            if (off > CampaignPlan.BufSize || len > CampaignPlan.BufSize - off) return false;
        return true;
    }

    private HashSet<ulong> PoisonedBufLines(ReadOnlySpan<(ulong Off, ulong Len)> segs)
    {
        var set = PoisonedLines();
        if (M.Phys.PoisonedFrameCount == 0) return set;
        BatchLineChecks(true);
        try
        {
            // The page's pfn is looked up once per page, not once per line.
            var page = ulong.MaxValue;
            ulong? pfn = null;
            foreach (var (off, len) in segs)
                for (var line = off & ~63UL; line < off + len && line < CampaignPlan.BufSize; line += 64)
                {
                    var va = Buf.Value + line;
                    if (va >> PageDefs.PAGE_SHIFT != page) pfn = P.Mm.PfnAt((page = va >> PageDefs.PAGE_SHIFT) << PageDefs.PAGE_SHIFT);
                    if (pfn is { } f && LinePoisoned(new PhysAddr((f << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(va)))) set.Add(line);
                }
        }
        finally
        {
            BatchLineChecks(false);
        }
        return set;
    }

    // One set of poisoned source lines per workload, cleared for each operation (it is read only during that operation),
    // and its Contains as one delegate: a set and a delegate per operation were garbage.
    private readonly HashSet<ulong> _poisonedLines = [];
    private Func<ulong, bool>? _poisonedContains;

    /// <summary>The workload's set of poisoned source lines, emptied for a new operation.</summary>
    private HashSet<ulong> PoisonedLines()
    {
        _poisonedLines.Clear();
        return _poisonedLines;
    }

    private Func<ulong, bool> PoisonedContains => _poisonedContains ??= _poisonedLines.Contains;

    /// <summary>This thread's buffer for a user-mode load or store's bytes (at most 8 KiB in a plan; grown if asked for more).</summary>
    private static byte[] AccessBuffer(ulong len)
    {
        var b = _access;
        if (b == null || (ulong)b.Length < len) _access = b = new byte[Math.Max(len, 8192)];
        return b;
    }

    [ThreadStatic] private static byte[]? _access;

    public virtual void Operate(int i, PlanStep s)
    {
        var sigBefore = P.SignalsReceived.Count;
        var call = S.Call(i);
        switch (s.Kind)
        {
            case StepKind.Load or StepKind.Store:
                UserAccess(i, s, call, sigBefore);
                return;
            case StepKind.Hostile:
                throw new InvalidOperationException($"{call}: a hostile call in the {CampaignSpec.NameOf(S.Plan.Workload)} workload");
            case StepKind.Fsync:
            {
                var r = P.Fsync(Fd);
                Synced(r);
                var o = OutcomeClassifier.Classify(Observation.After(M, P, r, sigBefore), 0, out var d);
                var fm = NewMismatches();
                CheckFpos(r, fm);
                o = OutcomeClassifier.Judge(o, fm, ref d);
                S.Add(i, call, r, o, d);
                return;
            }
        }
        var write = s.Kind is StepKind.Write or StepKind.Pwrite or StepKind.Writev or StepKind.Pwritev;
        var positioned = s.Kind is StepKind.Pread or StepKind.Pwrite or StepKind.Preadv or StepKind.Pwritev;
        var segs = Segments(s);
        var total = s.TotalLen;
        var pos = positioned ? s.Pos : _fpos;

        // What the oracle needs from before the call: the poisoned lines of the source (buffer or region space).
        HashSet<ulong> poisonedSource;
        if (write) WriteStarting(i, (ulong)pos, total);
        if (write) poisonedSource = PoisonedBufLines(segs);
        else
        {
            // A line can be poisoned only while some frame holds poison (each ReadSourcePoisoned asks the frames).
            poisonedSource = PoisonedLines();
            if (M.Phys.PoisonedFrameCount != 0)
            {
                BatchLineChecks(true);
                try
                {
                    for (var line = (ulong)pos & ~63UL; line < (ulong)pos + total; line += 64)
                        if (ReadSourcePoisoned(line)) poisonedSource.Add(line);
                }
                finally
                {
                    BatchLineChecks(false);
                }
            }
        }

        long ret;
        UserAccessResult? vecStore = null;
        if (s.Segs == null)
        {
            var ptr = new UserPtr(Buf.Value + s.Off);
            ret = s.Kind switch
            {
                StepKind.Read => P.Read(Fd, ptr, s.Len),
                StepKind.Write => P.Write(Fd, ptr, s.Len),
                StepKind.Pread => P.Pread64(Fd, ptr, s.Len, s.Pos),
                _ => P.Pwrite64(Fd, ptr, s.Len, s.Pos),
            };
        }
        else
        {
            // The iovec array as the program builds it (a plan has at most four segments: on the stack).
            Span<byte> raw = segs.Length <= 16 ? stackalloc byte[256] : new byte[segs.Length * 16];
            raw = raw[..(segs.Length * 16)];
            for (var k = 0; k < segs.Length; k++)
            {
                BitConverter.TryWriteBytes(raw.Slice(k * 16, 8), Buf.Value + segs[k].Off);
                BitConverter.TryWriteBytes(raw.Slice(k * 16 + 8, 8), segs[k].Len);
            }
            // The program's own store of its iovec array is a user access too: on a frame that came back from munmap with
            // latent poison it takes SIGBUS, and the call is never made (the step's outcome is that store's).
            var st = P.Store(S.Vec, raw);
            if (!st.Completed((ulong)raw.Length)) vecStore = st;
            ret = vecStore != null ? Machine.NoReturn : s.Kind switch
            {
                StepKind.Readv => P.Readv(Fd, S.Vec, segs.Length),
                StepKind.Writev => P.Writev(Fd, S.Vec, segs.Length),
                StepKind.Preadv => P.Preadv(Fd, S.Vec, segs.Length, s.Pos),
                _ => P.Pwritev(Fd, S.Vec, segs.Length, s.Pos),
            };
        }
        string detail;
        var outcome = vecStore is { } vs
            ? OutcomeClassifier.UserAccess(vs, (ulong)(segs.Length * 16), Observation.After(M, P, ret, sigBefore), out detail)
            : OutcomeClassifier.Classify(Observation.After(M, P, ret, sigBefore), total, out detail);
        var n = ret >= 0 && ret != Machine.NoReturn ? (ulong)Math.Min(ret, (long)total) : 0;
        List<string> mismatches;
        if (write)
        {
            var accepted = Oracle.Write(segs, (ulong)pos, n, PoisonedContains);
            outcome = OutcomeClassifier.Write(outcome, accepted, n, ref detail);
            mismatches = NewMismatches();
            Wrote(i, (ulong)pos, total, ret);
        }
        else
        {
            var counted = ret >= 0 && ret != Machine.NoReturn;
            if (P.Alive && CampaignOracle.RangeReadable(segs))
            {
                // Only the pages the check reads: the segments and their guard bytes.
                ulong lo = CampaignPlan.BufSize, hi = 0;
                foreach (var (off, len) in segs)
                {
                    lo = Math.Min(lo, off >= CampaignOracle.Guard ? off - CampaignOracle.Guard : 0);
                    hi = Math.Max(hi, off + len + CampaignOracle.Guard);
                }
                mismatches = Oracle.Read(segs, (ulong)pos, n, UserView.Of(P, Buf.Value, lo, hi), poisonedSource, counted);
            }
            else if (P.Alive && InBuffer(segs))
                mismatches = Oracle.ReadOverlapping(segs, (ulong)pos, n, UserView.Of(P, Buf.Value), poisonedSource, counted);
            else
            {
                _view = P.Alive ? UserView.Of(P, Buf.Value) : null;
                mismatches = Oracle.Read(segs, (ulong)pos, n, BufByte, PoisonedContains, counted);
                _view = null;
            }
        }
        if (!positioned && ret >= 0 && ret != Machine.NoReturn) _fpos += ret;
        CheckFpos(ret, mismatches);
        outcome = OutcomeClassifier.Judge(outcome, mismatches, ref detail);
        S.Add(i, call, mismatches.Count > 0 || ret != Machine.NoReturn ? ret : null, outcome, detail);
    }

    // An empty list of mismatches for an operation the oracle returns none for (read only while the operation is recorded).
    private readonly List<string> _mismatches = [];

    private List<string> NewMismatches()
    {
        _mismatches.Clear();
        return _mismatches;
    }

    // The byte-by-byte read check's source of buffer bytes, as one delegate of this workload (a closure per call was garbage).
    private UserView? _view;
    private Func<ulong, byte?>? _bufByte;

    private Func<ulong, byte?> BufByte => _bufByte ??= off => _view != null && off < CampaignPlan.BufSize ? _view[off] : P.Peek(new UserPtr(Buf.Value + off), 1)[0];

    /// <summary>
    /// f_pos after a call that returned <paramref name="ret"/>: read(2)/write(2) advance it by what they return
    /// (ksys_read stores the position only for ret ≥ 0), the positioned calls and fsync leave it.
    /// </summary>
    private void CheckFpos(long ret, List<string> mismatches)
    {
        if (ret == Machine.NoReturn || !P.Alive || P.FileAt(Fd) is not { } f || f.Pos == _fpos) return;
        if (mismatches.Count < CampaignOracle.MaxReported) mismatches.Add($"f_pos = {f.Pos}, expected {_fpos}");
        _fpos = f.Pos;
    }

    private void UserAccess(int i, PlanStep s, string call, int sigBefore)
    {
        var ptr = new UserPtr(Buf.Value + s.Off);
        UserAccessResult r;
        var data = AccessBuffer(s.Len).AsSpan(0, (int)s.Len);
        // A load's poisoned source lines, before it runs (PoisonedContains asks them); a store needs none.
        if (s.Kind == StepKind.Load) PoisonedBufLines([(s.Off, s.Len)]);
        if (s.Kind == StepKind.Load) r = P.Load(ptr, data);
        else
        {
            data.Fill(s.Fill);
            r = P.Store(ptr, data);
        }
        List<string> mismatches;
        if (s.Kind == StepKind.Load) mismatches = Oracle.Load(s.Off, data, r.Done, PoisonedContains);
        else
        {
            Oracle.Store(s.Off, s.Len, s.Fill, r.Done);
            mismatches = NewMismatches();
        }
        var o = OutcomeClassifier.UserAccess(r, s.Len, Observation.After(M, P, Machine.NoReturn, sigBefore), out var detail);
        o = OutcomeClassifier.Judge(o, mismatches, ref detail);
        S.Add(i, call, (long)r.Done, o, detail);
    }

    // ---- the final check ------------------------------------------------------------------------------

    public virtual void FinalCheck(int idx)
    {
        var mismatches = new List<string>();
        var notes = new List<string>();
        if (!M.State.Alive)
        {
            // What a reboot finds: the user buffer and the page cache are gone, persistent media and host files stay.
            notes.Add($"machine {M.State.Status.ToString().ToLowerInvariant()}: compared what a reboot finds");
            CheckAfterCrash(mismatches, notes);
        }
        else
        {
            M.Run(() => M.WorkQueue.RunPending());
            if (P.Alive) Oracle.CheckBuffer(UserView.Of(P, Buf.Value), mismatches);
            CheckTarget(mismatches, notes);
        }
        var detail = string.Join("; ", notes);
        var o = OutcomeClassifier.Judge(Outcome.Complete, mismatches, ref detail);
        S.Add(idx, "final-check", null, o, detail);
    }

    /// <summary>After a panic or shutdown: compare what survives a reboot (DRAM does not).</summary>
    protected virtual void CheckAfterCrash(List<string> mismatches, List<string> notes) => notes.Add("nothing persists (DRAM only)");

    /// <summary>The final check of the file or the media (after the buffer's).</summary>
    protected virtual void CheckTarget(List<string> mismatches, List<string> notes)
    {
    }
}
