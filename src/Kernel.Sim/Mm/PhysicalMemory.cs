using KernelSim.Uapi;

namespace KernelSim.Mm;

/// <summary>
/// Sparse physical memory: registered ranges of DRAM, pmem and device windows; 4 KiB frames allocated
/// on first write (reads of untouched memory see zeros); poison per 64-byte line, latent until a load
/// consumes it. Also the (deterministic) page allocator for DRAM.
/// </summary>
public sealed class PhysicalMemory
{
    private static readonly byte[] ZeroPage = new byte[PageDefs.PAGE_SIZE];
    private readonly Dictionary<ulong, PageFrame> _frames = [];
    private readonly List<PhysRange> _ranges = [];
    private readonly SortedSet<ulong> _freePfns = [];
    private ulong _nextFreePfn;
    private ulong _dramEndPfn;
    private int _poisonedFrames;

    /// <summary>Registered ranges, in address order.</summary>
    public IReadOnlyList<PhysRange> Ranges => _ranges;

    /// <summary>Number of frames currently holding any poisoned line (0 lets copies skip poison checks).</summary>
    public int PoisonedFrameCount => _poisonedFrames;

    /// <summary>Register a physical range (boot-time DRAM, or a driver's pmem region or device window).</summary>
    public PhysRange Register(PhysAddr start, ulong size, MemoryKind kind, string name)
    {
        if (size == 0 || !PageDefs.IsPageAligned(start.Value) || !PageDefs.IsPageAligned(size))
            throw new ArgumentException($"physical range {name} must be non-empty and page aligned");
        foreach (var r in _ranges)
        {
            if (start.Value < r.End.Value && r.Start.Value < start.Value + size)
                throw new ArgumentException($"physical range {name} overlaps {r.Name}");
        }
        var range = new PhysRange(start, size, kind, name);
        _ranges.Add(range);
        _ranges.Sort((a, b) => a.Start.Value.CompareTo(b.Start.Value));
        if (kind == MemoryKind.Dram && _dramEndPfn == 0)
        {
            _nextFreePfn = start.Pfn;
            _dramEndPfn = range.End.Pfn;
        }
        return range;
    }

    /// <summary>The range containing pa, or null (memory outside kernel control).</summary>
    public PhysRange? FindRange(PhysAddr pa)
    {
        foreach (var r in _ranges)
        {
            if (r.Contains(pa)) return r;
        }
        return null;
    }

    /// <summary>The frame's struct page, or null if it was never touched.</summary>
    public PageFrame? Peek(ulong pfn) => _frames.GetValueOrDefault(pfn);

    /// <summary>The frame's struct page, created if needed.</summary>
    public PageFrame Frame(ulong pfn)
    {
        if (!_frames.TryGetValue(pfn, out var f))
        {
            f = new PageFrame(pfn);
            _frames.Add(pfn, f);
        }
        return f;
    }

    /// <summary>Bytes of a frame for reading; untouched frames read as zeros.</summary>
    internal ReadOnlySpan<byte> ReadSpan(ulong pfn, int offset, int len)
    {
        var f = Peek(pfn);
        return f?.Data is { } d ? d.AsSpan(offset, len) : ZeroPage.AsSpan(offset, len);
    }

    /// <summary>Bytes of a frame for writing; allocates its storage on first write.</summary>
    internal Span<byte> WriteSpan(ulong pfn, int offset, int len)
    {
        var f = Frame(pfn);
        f.Data ??= new byte[PageDefs.PAGE_SIZE];
        return f.Data.AsSpan(offset, len);
    }

    /// <summary>Read physical memory directly, bypassing any CPU semantics (a debugger's view; never consumes poison).</summary>
    public void PeekBytes(PhysAddr pa, Span<byte> into)
    {
        var done = 0;
        while (done < into.Length)
        {
            var a = pa.Value + (ulong)done;
            var off = (int)PageDefs.OffsetInPage(a);
            var n = Math.Min(into.Length - done, (int)PageDefs.PAGE_SIZE - off);
            ReadSpan(a >> PageDefs.PAGE_SHIFT, off, n).CopyTo(into.Slice(done, n));
            done += n;
        }
    }

    /// <summary>Write physical memory directly (test setup; never clears poison).</summary>
    public void PokeBytes(PhysAddr pa, ReadOnlySpan<byte> data)
    {
        var done = 0;
        while (done < data.Length)
        {
            var a = pa.Value + (ulong)done;
            var off = (int)PageDefs.OffsetInPage(a);
            var n = Math.Min(data.Length - done, (int)PageDefs.PAGE_SIZE - off);
            data.Slice(done, n).CopyTo(WriteSpan(a >> PageDefs.PAGE_SHIFT, off, n));
            done += n;
        }
    }

    /// <summary>
    /// Make the 64-byte line containing pa hold latent uncorrectable poison: what ACPI EINJ error type
    /// 0x10 (memory uncorrectable non-fatal) with notrigger does. Returns 0 or -EINVAL when pa is not
    /// in a registered range (einj's address check).
    /// </summary>
    public int InjectPoison(PhysAddr pa)
    {
        if (FindRange(pa) == null) return -Errno.EINVAL;
        var f = Frame(pa.Pfn);
        var bit = 1UL << (int)(PageDefs.OffsetInPage(pa.Value) >> PageDefs.CACHELINE_SHIFT);
        if (f.PoisonMask == 0) _poisonedFrames++;
        f.PoisonMask |= bit;
        return 0;
    }

    /// <summary>
    /// Remove media poison from every line overlapping [pa, pa+len) (what a firmware clear-error
    /// command or a full-line overwrite on real media does). Returns the number of lines cleared.
    /// </summary>
    public int ClearPoison(PhysAddr pa, ulong len)
    {
        var cleared = 0;
        if (len == 0) return 0;
        var first = pa.Value & ~(PageDefs.CACHELINE - 1);
        var end = pa.Value + len;
        for (var line = first; line < end; line += PageDefs.CACHELINE)
        {
            var f = Peek(line >> PageDefs.PAGE_SHIFT);
            if (f == null || f.PoisonMask == 0) continue;
            var bit = 1UL << (int)(PageDefs.OffsetInPage(line) >> PageDefs.CACHELINE_SHIFT);
            if ((f.PoisonMask & bit) == 0) continue;
            f.PoisonMask &= ~bit;
            cleared++;
            if (f.PoisonMask == 0) _poisonedFrames--;
        }
        return cleared;
    }

    /// <summary>True if the line containing pa is poisoned.</summary>
    public bool IsPoisoned(PhysAddr pa)
    {
        var f = Peek(pa.Pfn);
        return f != null && (f.PoisonMask & (1UL << (int)(PageDefs.OffsetInPage(pa.Value) >> PageDefs.CACHELINE_SHIFT))) != 0;
    }

    /// <summary>
    /// Offset (from offsetInPage) of the first byte of the first poisoned line that a load of
    /// [offsetInPage, offsetInPage+len) in frame pfn touches, or -1. A load starting inside a poisoned
    /// line faults at its own first byte (offset 0).
    /// </summary>
    internal int FirstPoisonInFrame(ulong pfn, int offsetInPage, int len)
    {
        if (_poisonedFrames == 0) return -1;
        var f = Peek(pfn);
        if (f == null || f.PoisonMask == 0) return -1;
        var firstLine = offsetInPage >> PageDefs.CACHELINE_SHIFT;
        var lastLine = (offsetInPage + len - 1) >> PageDefs.CACHELINE_SHIFT;
        for (var l = firstLine; l <= lastLine; l++)
        {
            if ((f.PoisonMask & (1UL << l)) != 0)
                return Math.Max(0, (l << PageDefs.CACHELINE_SHIFT) - offsetInPage);
        }
        return -1;
    }

    /// <summary>Every poisoned line's physical address, in order (for inspection and tests).</summary>
    public IEnumerable<PhysAddr> PoisonedLines()
    {
        foreach (var pfn in _frames.Keys.Order())
        {
            var mask = _frames[pfn].PoisonMask;
            for (var l = 0; l < 64; l++)
            {
                if ((mask & (1UL << l)) != 0) yield return new PhysAddr((pfn << PageDefs.PAGE_SHIFT) + ((ulong)l << PageDefs.CACHELINE_SHIFT));
            }
        }
    }

    /// <summary>
    /// Allocate one DRAM page (the buddy allocator, made deterministic: lowest freed pfn first, then the
    /// next never-used pfn). Returns -1 when memory is exhausted. The page is zeroed and never poisoned
    /// pages are not handed out again (they were taken off the free lists by memory_failure).
    /// </summary>
    public long AllocPage()
    {
        ulong pfn;
        if (_freePfns.Count > 0)
        {
            pfn = _freePfns.Min;
            _freePfns.Remove(pfn);
        }
        else if (_nextFreePfn < _dramEndPfn)
        {
            pfn = _nextFreePfn++;
        }
        else
        {
            return -1;
        }
        var f = Frame(pfn);
        if (f.Data != null) Array.Clear(f.Data);
        f.Flags = PageFlags.None;
        return (long)pfn;
    }

    /// <summary>Allocate <paramref name="count"/> physically contiguous DRAM pages (never-used pfns); -1 if none.</summary>
    public long AllocContiguous(int count)
    {
        if (count <= 0 || _nextFreePfn + (ulong)count > _dramEndPfn) return -1;
        var first = _nextFreePfn;
        _nextFreePfn += (ulong)count;
        for (var i = 0UL; i < (ulong)count; i++) Frame(first + i).Flags = PageFlags.None;
        return (long)first;
    }

    /// <summary>Return a DRAM page to the allocator; a HWPoison page is never reused.</summary>
    public void FreePage(ulong pfn)
    {
        var f = Peek(pfn);
        if (f != null && f.IsHwPoison) return;
        if (f != null)
        {
            f.Flags = PageFlags.None;
            f.ShmemOwner = null;
        }
        _freePfns.Add(pfn);
    }
}
