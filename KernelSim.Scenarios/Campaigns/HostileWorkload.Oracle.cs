using KernelSim.Drivers.Pmem;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The hostile workload's oracles. Data: the ramfs file (descriptor 0 or any descriptor on it) and the user buffer
/// are modelled like the file workloads' (<see cref="CampaignOracle"/>) wherever a call moves data between them
/// through one buffer range at a known position; a call whose effect the model cannot follow (a vectored call with
/// hostile entries, a shared mapping of the file, O_TRUNC, mmap/munmap/mprotect/madvise over the buffer) makes what it
/// may have touched unknown. f_pos must move by what read/write return. Isolation: after every call the return
/// value, the buffer, the iovec page and loaded bytes are scanned for canaries (<see cref="IsolationOracle"/>), and
/// the final check scans the files and the first MiB of /dev/pmem0 too.
/// </summary>
internal sealed partial class HostileWorkload
{
    /// <summary>What the oracles need from before a call.</summary>
    private readonly record struct CallInfo(int Call, int Fd, ulong A1, ulong Len, long Pos, int Flags, ulong Sel, KFile? File, long FposBefore,
        bool IsData, byte[]? Data = null, ulong Done = 0);

    /// <summary>Bytes of /dev/pmem0 scanned for canaries at the end (hostile positions land near the start).</summary>
    private const ulong MediaScan = 1UL << 20;

    private RamFs _ramfs = null!;
    private CallInfo _cur;
    private bool _dataShared;

    /// <summary>The kernel page holding the kernel canary.</summary>
    public KernelPtr KernelCanary { get; private set; }

    private CampaignOracle Oracle => _s.Oracle;

    private CallInfo Capture(int call, int fd, ulong a1, ulong len, long pos, int flags, ulong sel)
    {
        var f = _p.FileAt(fd);
        return new CallInfo(call, fd, a1, len, pos, flags, sel, f, f?.Pos ?? -1, f != null && f.Inode == _ramfs.Lookup("data"));
    }

    // The call's mismatches: one list of this workload, emptied per call (only read while the call is recorded).
    private readonly List<string> _mismatches = [];

    // The one buffer segment of a read or write the oracle follows (read only during that call).
    private readonly (ulong Off, ulong Len)[] _segment = new (ulong, ulong)[1];

    private (ulong Off, ulong Len)[] Segment(ulong off, ulong len)
    {
        _segment[0] = (off, len);
        return _segment;
    }

    /// <summary>Run the oracles on the call just made (<paramref name="raw"/>: its return, or NoReturn) and record it.</summary>
    private void Finish(int i, string desc, long raw, Outcome o, string detail)
    {
        var mismatches = _mismatches;
        mismatches.Clear();
        if (_p.Alive) FollowData(raw, mismatches);
        var leak = LeakAfterCall(raw);
        if (o != Outcome.SimBug)
        {
            if (leak != null)
            {
                o = Outcome.Leak;
                detail = leak;
            }
            else o = OutcomeClassifier.Judge(o, mismatches, ref detail);
        }
        _s.Add(i, desc, raw == Machine.NoReturn && mismatches.Count == 0 && leak == null ? null : raw, o, detail);
    }

    private bool InBuf(ulong a, ulong len, out ulong off)
    {
        off = a - _buf.Value;
        return a >= _buf.Value && len <= CampaignPlan.BufSize && off + len <= CampaignPlan.BufSize;
    }

    /// <summary>The buffer bytes in [a, a+len) (saturating) are no longer known.</summary>
    private void ForgetBuf(ulong a, ulong len)
    {
        var end = a + len < a ? ulong.MaxValue : a + len;
        var from = Math.Max(a, _buf.Value);
        var to = Math.Min(end, _buf.Value + CampaignPlan.BufSize);
        if (from < to) Oracle.User.Forget(from - _buf.Value, to - from);
    }

    /// <summary>The buffer pages [a, a+len) touch (the mm calls work on whole pages) are no longer known.</summary>
    private void ForgetPages(ulong a, ulong len) =>
        ForgetBuf(a & ~(PageDefs.PAGE_SIZE - 1), len > ulong.MaxValue - 2 * PageDefs.PAGE_SIZE ? ulong.MaxValue : len + (a & (PageDefs.PAGE_SIZE - 1)) + PageDefs.PAGE_SIZE - 1);

    private void ForgetFile()
    {
        Oracle.Lost(0, CampaignPlan.Region);
        Oracle.Size = null;
    }


    /// <summary>No poisoned source lines: hostile calls run on a machine without injected poison.</summary>
    private static readonly HashSet<ulong> NoLines = [];

    private void FollowData(long raw, List<string> mismatches)
    {
        var c = _cur;
        var returned = raw != Machine.NoReturn;
        // A call that may have moved bytes: a count, an O_DIRECT error after some bios, or no return.
        var moved = !returned || raw > 0 || raw == -Errno.EIO;
        var append = c.File != null && (c.File.Flags & Fcntl.O_APPEND) != 0;
        if (_dataShared) ForgetFile();
        switch (c.Call)
        {
            case Read or Pread:
            {
                var at = c.Call == Read ? c.FposBefore : c.Pos;
                if (c.IsData && at >= 0 && InBuf(c.A1, c.Len, out var off))
                {
                    var n = returned && raw > 0 ? (ulong)raw : 0;
                    // One segment inside the buffer: the run-by-run read (same verdicts as the byte-by-byte one).
                    mismatches.AddRange(Oracle.Read(Segment(off, c.Len), (ulong)at, n, UserView.Of(_p, _buf.Value), NoLines, counted: returned && raw >= 0));
                }
                else if (moved) ForgetBuf(c.A1, c.Len);
                break;
            }
            case Write or Pwrite:
            {
                var at = c.Call == Write ? c.FposBefore : c.Pos;
                if (c.IsData && at >= 0 && !append && InBuf(c.A1, c.Len, out var off))
                    Oracle.Write(Segment(off, c.Len), (ulong)at, returned && raw > 0 ? (ulong)raw : 0, _ => false);
                else if (c.IsData && moved) ForgetFile();
                break;
            }
            case Readv or Preadv2:
                if (moved) ForgetBuf(0, ulong.MaxValue);
                break;
            case Writev or Pwritev2:
                if (c.IsData && moved) ForgetFile();
                break;
            case Load when c.Data != null && InBuf(c.A1, (ulong)c.Data.Length, out var off):
                mismatches.AddRange(Oracle.Load(off, c.Data, c.Done, _ => false));
                break;
            case Store when c.Data != null:
                if (InBuf(c.A1, (ulong)c.Data.Length, out var soff)) Oracle.Store(soff, (ulong)c.Data.Length, 0, c.Done);
                else ForgetBuf(c.A1, (ulong)c.Data.Length);
                break;
            case Mmap when returned && raw >= 0:
                ForgetPages((ulong)raw, c.Len);
                if (c.IsData && ((int)(c.Sel >> 32) & Mman.MAP_SHARED) != 0)
                {
                    _dataShared = true;
                    ForgetFile();
                }
                break;
            // madvise and mprotect act on the VMAs before a hole, then return -ENOMEM (madvise_walk_vmas).
            case Munmap or Mprotect or Madvise when raw == 0 || raw == -Errno.ENOMEM || !returned:
                ForgetPages(c.A1, c.Len);
                break;
            case Prctl when raw >= 0 || !returned:
                ForgetBuf(c.A1, 64);
                ForgetBuf(c.Len, 64);
                break;
            case OpenCall when returned && raw >= 0 && (c.Flags & Fcntl.O_TRUNC) != 0 && Paths[(c.Sel >> 24) % (ulong)Paths.Length] == "/mnt/ramfs/data":
                ForgetFile();
                break;
        }
        CheckFpos(c, raw, append, mismatches);
    }

    /// <summary>read/write (and preadv2/pwritev2 at −1) move f_pos by what they return; the positioned calls leave it.</summary>
    private void CheckFpos(in CallInfo c, long raw, bool append, List<string> mismatches)
    {
        if (c.File == null || append || raw == Machine.NoReturn || _p.FileAt(c.Fd) != c.File) return;
        var usesFpos = c.Call is Read or Write or Readv or Writev || (c.Call is Preadv2 or Pwritev2 && c.Pos == -1);
        if (c.Call is not (Read or Write or Pread or Pwrite or Readv or Writev or Preadv2 or Pwritev2)) return;
        var want = c.FposBefore + (usesFpos && raw > 0 ? raw : 0);
        if (c.File.Pos != want) mismatches.Add($"f_pos = {c.File.Pos}, expected {want}");
    }

    /// <summary>A canary in the return value, the buffer, the iovec page or the loaded bytes: what leaked where; else null.</summary>
    private string? LeakAfterCall(long raw)
    {
        if (raw != Machine.NoReturn && IsolationOracle.WordArea((ulong)raw) is { } area) return $"return value 0x{raw:x} is a canary word of {area}";
        if (_cur.Call == Load && _cur.Data != null && IsolationOracle.Find(_cur.Data.AsSpan(0, (int)Math.Min(_cur.Done, (ulong)_cur.Data.Length))) is { } l)
            return $"load of 0x{_cur.A1:x} returned a canary of {l.Area} at byte {l.Offset}";
        if (!_p.Alive) return null;
        if (IsolationOracle.FindInUser(_p, _buf.Value, CampaignPlan.BufSize) is { } b) return $"buf+0x{b.Offset:x} holds a canary of {b.Area}";
        if (IsolationOracle.FindInUser(_p, _vec.Value, PageDefs.PAGE_SIZE) is { } v) return $"the iovec page +0x{v.Offset:x} holds a canary of {v.Area}";
        return null;
    }

    /// <summary>
    /// The first <paramref name="len"/> bytes of a page-cache file (holes read as zeros), without reading the rest, in this
    /// thread's <see cref="SeedScratch.File"/> buffer.
    /// </summary>
    private Span<byte> Head(Inode inode, int len)
    {
        var b = SeedScratch.File(len);
        for (var at = 0; at < len; at += (int)PageDefs.PAGE_SIZE)
        {
            var page = b.Slice(at, Math.Min((int)PageDefs.PAGE_SIZE, len - at));
            if (inode.Mapping?.Find((ulong)at >> PageDefs.PAGE_SHIFT) is { } folio) _m.Phys.PeekBytes(new PhysAddr(folio.Pfn << PageDefs.PAGE_SHIFT), page);
            else page.Clear();
        }
        return b;
    }

    /// <summary>The first canary in the cached pages of <paramref name="mapping"/> (page by page): file offset and area.</summary>
    private (ulong Offset, string Area)? FindInCache(AddressSpace? mapping)
    {
        Span<byte> page = stackalloc byte[(int)PageDefs.PAGE_SIZE];
        foreach (var folio in mapping?.Folios ?? [])
        {
            _m.Phys.PeekBytes(new PhysAddr(folio.Pfn << PageDefs.PAGE_SHIFT), page);
            if (IsolationOracle.Find(page) is { } f) return ((folio.Index << PageDefs.PAGE_SHIFT) + (ulong)f.Offset, f.Area);
        }
        return null;
    }

    /// <summary>
    /// The final check: deferred work, then the buffer and the ramfs file against the model (while the machine is up;
    /// after a panic nothing of them survives), and the canary scan of the caller's files and the start of /dev/pmem0.
    /// </summary>
    public void FinalCheck(int index)
    {
        var mismatches = new List<string>();
        var notes = new List<string>();
        string? leak = null;
        if (_m.State.Alive)
        {
            _m.Run(() => _m.WorkQueue.RunPending());
            if (_p.Alive)
            {
                Oracle.CheckBuffer(UserView.Of(_p, _buf.Value), mismatches);
                leak = LeakAfterCall(0);
            }
            if (_dataShared) ForgetFile();
            if (_ramfs.Lookup("data") is { } data)
                Oracle.CheckFile(Head(data, (int)Math.Min(data.Size, (long)CampaignPlan.Region)), "file", mismatches, data.Size);
            foreach (var (name, inode) in _ramfs.Files)
                if (leak == null && name != "secret" && FindInCache(inode.Mapping) is { } f) leak = $"file {name} offset {f.Offset} holds a canary of {f.Area}";
        }
        else notes.Add($"machine {_m.State.Status.ToString().ToLowerInvariant()}: the buffer and ramfs are gone");
        if (leak == null && _m.Pmem("pmem0") is { } pmem)
        {
            // pmem persists: what the caller wrote there must not hold a canary, up or down.
            if (IsolationOracle.FindInPhys(_m.Phys, pmem.DataPhys(0), MediaScan) is { } f) leak = $"/dev/pmem0 offset {f.Offset} holds a canary of {f.Area}";
            if (leak == null && FindInCache(pmem.Disk.Inode?.Mapping) is { } g) leak = $"/dev/pmem0 page cache offset {g.Offset} holds a canary of {g.Area}";
        }
        var detail = string.Join("; ", notes);
        var o = leak != null ? Outcome.Leak : OutcomeClassifier.Judge(Outcome.Complete, mismatches, ref detail);
        _s.Add(index, "final-check", null, o, leak ?? detail);
    }
}
