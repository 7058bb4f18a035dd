using KernelSim.Uapi;

namespace KernelSim.Mm;

/// <summary>
/// Sparse physical memory: registered ranges of DRAM, pmem and device windows; 4 KiB frames allocated
/// on first write (reads of untouched memory see zeros); poison per 64-byte line, latent until a load
/// consumes it. Also the (deterministic) page allocator for DRAM.
/// </summary>
public sealed partial class PhysicalMemory : IMemoryMedia
{
    // Frame bytes live in chunks of ChunkPages physically contiguous frames, allocated on the first write to any
    // frame in the chunk (reads of an unallocated chunk see ZeroChunk); a chunk's array covers its first SmallPages
    // pages until a page past them is reached (a sparse write at boot does not allocate 64 KiB). Keeping
    // neighbouring frames in one array lets the copy hot path move a physically contiguous run with one
    // span copy. Chunks are never freed, so the direct-mapped lookup cache below is never stale.
    internal const int ChunkShift = 4;
    internal const int ChunkPages = 1 << ChunkShift;
    internal const int ChunkBytes = ChunkPages << PageDefs.PAGE_SHIFT;
    private const int SmallPages = 3; // a boot reaches pages 1 and 2 of the first DRAM chunk (the BTT probe buffer, the nsio bounce)
    internal const int SmallBytes = SmallPages << PageDefs.PAGE_SHIFT;
    private const int ChunkCacheSize = 256;
    // All zeros from ZeroBase on, of which a chunk's length is used: reads of never-written memory copy from it. A group
    // array because that is the page-aligned kind (StorageArray), so these copies run between page-aligned frames too.
    private static readonly byte[] ZeroChunk = NewZeroChunk();
    private static readonly int ZeroBase = StorageArray.PageBase(ZeroChunk);

    private static byte[] NewZeroChunk()
    {
        var z = StorageArray.NewGroup();
        z.AsSpan().Clear();
        return z;
    }
    // NoChunks (empty, never written) until the first chunk is made (ChunkMiss), then a pooled dictionary or a new one.
    private Dictionary<ulong, ChunkStore> _chunks = NoChunks;
    // NoChunkCache (all null, never written) until the first chunk is made (ChunkMiss), then the memory's own or a pooled one.
    private ChunkStore?[] _chunkCache = NoChunkCache;
    // NoFrames (empty, never written) until the first struct page is made (Frame), then a pooled dictionary or one sized
    // for a booted machine and a small experiment (about 50 struct pages), so the first faults do not regrow it.
    private Dictionary<ulong, PageFrame> _frames = NoFrames;
    private readonly List<PhysRange> _ranges = [];
    // The two ranges FindRange found last (ranges never overlap; Unregister resets them): a kernel copy between two
    // ranges (pmem to DRAM in a bio) alternates between them. A hit on either changes nothing (swapping them would be
    // two reference stores, each with a GC write barrier, on every alternating lookup).
    private PhysRange? _lastRange, _prevRange;
    private readonly SortedSet<ulong> _freePfns = [];
    private ulong _nextFreePfn;
    private ulong _dramEndPfn;
    private ulong _dramStartPfn;
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
            _dramStartPfn = start.Pfn;
            _dramEndPfn = range.End.Pfn;
        }
        return range;
    }

    /// <summary>
    /// Remove a range registered with <see cref="Register"/> (a driver unmapping its namespace: devm_memunmap_pages /
    /// release_mem_region). The bytes and poison of its frames stay (they are the media). False when not registered.
    /// </summary>
    public bool Unregister(PhysRange range)
    {
        if (!_ranges.Remove(range)) return false;
        if (ReferenceEquals(_lastRange, range)) _lastRange = null;
        if (ReferenceEquals(_prevRange, range)) _prevRange = null;
        return true;
    }

    /// <summary>Number of ranges with a <see cref="PhysRange.WindowHandler"/> (0 keeps the CPU's second-stage check off).</summary>
    internal int WindowHandlerCount { get; private set; }

    /// <summary>
    /// Attach the host side of a <see cref="MemoryKind.DeviceWindow"/> range: from now on every CPU access to its
    /// pages is translated (and possibly failed) by <paramref name="handler"/>.
    /// </summary>
    public void SetWindowHandler(PhysRange range, IDeviceWindowHandler handler)
    {
        if (range.Kind != MemoryKind.DeviceWindow) throw new ArgumentException("only device windows have a host-side handler", nameof(range));
        if (range.WindowHandler == null) WindowHandlerCount++;
        range.WindowHandler = handler;
    }

    /// <summary>The range containing pa, or null (memory outside kernel control).</summary>
    public PhysRange? FindRange(PhysAddr pa)
    {
        // "is null" patterns: PhysRange is a record, whose == and != call its field-by-field Equals.
        var last = _lastRange;
        if (last is not null && last.Contains(pa)) return last;
        var prev = _prevRange;
        if (prev is not null && prev.Contains(pa)) return prev;
        return FindRangeSlow(pa);
    }

    private PhysRange? FindRangeSlow(PhysAddr pa)
    {
        var ranges = _ranges;
        for (var i = 0; i < ranges.Count; i++)
        {
            var r = ranges[i];
            if (!r.Contains(pa)) continue;
            _prevRange = _lastRange;
            return _lastRange = r;
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
            f = _pool?.TakePageFrame(pfn) ?? new PageFrame(pfn);
            if (ReferenceEquals(_frames, NoFrames)) _frames = _pool?.TakeFrames() ?? new(64);
            _frames.Add(pfn, f);
        }
        return f;
    }

    /// <summary>Bytes of a frame for reading; untouched frames read as zeros.</summary>
    internal ReadOnlySpan<byte> ReadSpan(ulong pfn, int offset, int len)
    {
        CheckInPage(offset, len);
        return ReadRun(pfn, offset, len);
    }

    /// <summary>Bytes of a frame for writing; allocates its storage on first write.</summary>
    internal Span<byte> WriteSpan(ulong pfn, int offset, int len)
    {
        CheckInPage(offset, len);
        return WriteRun(pfn, offset, len);
    }

    private static void CheckInPage(int offset, int len)
    {
        if ((uint)offset > PageDefs.PAGE_SIZE || (uint)len > PageDefs.PAGE_SIZE - (uint)offset)
            throw new ArgumentOutOfRangeException(nameof(len), "span must lie within one page");
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
        return f != null && f.IsLinePoisoned(PageDefs.OffsetInPage(pa.Value));
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

    int IMemoryMedia.FirstPoisonInFrame(ulong pfn, int offsetInPage, int len) => FirstPoisonInFrame(pfn, offsetInPage, len);

    /// <summary>Every poisoned line's physical address, in order (for inspection, tests and the firmware's ARS).</summary>
    public IEnumerable<PhysAddr> PoisonedLines()
    {
        // Only the frames that hold poison are sorted (the ARS of every ndctl run asks; a machine has thousands of frames).
        if (_poisonedFrames == 0) yield break;
        var poisoned = new List<ulong>(_poisonedFrames);
        foreach (var (pfn, f) in _frames)
        {
            if (f.PoisonMask != 0) poisoned.Add(pfn);
        }
        poisoned.Sort();
        foreach (var pfn in poisoned)
        {
            var mask = _frames[pfn].PoisonMask;
            for (var l = 0; l < 64; l++)
            {
                if ((mask & (1UL << l)) != 0) yield return new PhysAddr((pfn << PageDefs.PAGE_SHIFT) + ((ulong)l << PageDefs.CACHELINE_SHIFT));
            }
        }
    }

    private ulong _zeroPfn = ulong.MaxValue;

    /// <summary>
    /// ZERO_PAGE(0) / my_zero_pfn (mm/memory.c): the shared, reserved page of zeros that a read fault on untouched
    /// private anonymous memory maps (do_anonymous_page without FAULT_FLAG_WRITE). Allocated on first use; −1 when
    /// memory is exhausted.
    /// </summary>
    public long ZeroPfn()
    {
        if (_zeroPfn != ulong.MaxValue) return (long)_zeroPfn;
        var p = AllocPage();
        if (p < 0) return -1;
        _zeroPfn = (ulong)p;
        Frame(_zeroPfn).SetReserved();
        return p;
    }

    /// <summary>is_zero_pfn: <paramref name="pfn"/> is the zero page (false before anything mapped it).</summary>
    public bool IsZeroPfn(ulong pfn) => pfn == _zeroPfn;

    /// <summary>
    /// Allocate one DRAM page (the buddy allocator, made deterministic: lowest freed pfn first, then the
    /// next never-used pfn). Returns -1 when memory is exhausted. The page is zeroed and never poisoned
    /// pages are not handed out again (they were taken off the free lists by memory_failure).
    /// </summary>
    public long AllocPage()
    {
        ulong pfn;
        while (true)
        {
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
            // take_page_off_buddy: a page memory_failure poisoned while free is never handed out.
            if (Peek(pfn) is not { IsHwPoison: true }) break;
        }
        var f = Frame(pfn);
        if (Chunk(pfn, create: false) is { } c)
        {
            // Only a page an access already zeroed (and maybe wrote) needs clearing: one no access has reached still reads as
            // zeros and is zeroed on its first access (FramesMade stays clear for it, so a write still zeroes it first).
            var bit = 1u << (int)(pfn & (ChunkPages - 1));
            if ((c.Zeroed & bit) != 0)
            {
                c.At(ChunkOffset(pfn, 0), (int)PageDefs.PAGE_SIZE).Clear();
                c.FramesMade |= bit;
            }
        }
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

    /// <summary>
    /// Allocate <paramref name="count"/> never-used DRAM pages starting on a multiple of <paramref name="align"/> pages
    /// (a gigantic or huge page from the buddy allocator); the pages skipped to reach the alignment go to the free
    /// lists. −1 when DRAM is exhausted.
    /// </summary>
    public long AllocContiguousAligned(int count, ulong align)
    {
        if (count <= 0 || align == 0) return -1;
        var first = (_nextFreePfn + align - 1) / align * align;
        if (first + (ulong)count > _dramEndPfn) return -1;
        for (var p = _nextFreePfn; p < first; p++) _freePfns.Add(p);
        _nextFreePfn = first + (ulong)count;
        for (var i = 0UL; i < (ulong)count; i++) Frame(first + i).Flags = PageFlags.None;
        return (long)first;
    }

    /// <summary>Pages the allocator can still hand out (nr_free_pages): never used, or freed and not HWPoison.</summary>
    public ulong NrFreePages
    {
        get
        {
            var n = _dramEndPfn - _nextFreePfn;
            foreach (var p in _freePfns) if (Peek(p) is not { IsHwPoison: true }) n++;
            return n;
        }
    }

    /// <summary>The DRAM pfn range [first, end) the allocator manages (totalram_pages = end − first).</summary>
    public (ulong First, ulong End) DramPfns => (_dramStartPfn, _dramEndPfn);

    /// <summary>Every frame that has a struct page here, in pfn order (for drop_caches and inspection).</summary>
    internal IEnumerable<PageFrame> FramesInOrder() => _frames.Keys.Order().Select(k => _frames[k]).ToArray();

    /// <summary>Return a DRAM page to the allocator; a HWPoison page is never reused.</summary>
    public void FreePage(ulong pfn)
    {
        var f = Peek(pfn);
        if (f != null && f.IsHwPoison) return;
        if (f != null)
        {
            f.Flags = PageFlags.None;
            f.ShmemOwner = null;
            f.CacheFolio = null;
            f.Huge = null;
        }
        _freePfns.Add(pfn);
    }
}
