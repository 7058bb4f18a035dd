namespace KernelSim.Mm;

/// <summary>
/// Frame storage that released machines gave back, for the next machines built with the same pool
/// (<see cref="Kernel.MachineBuilder.WithFramePool"/>, <see cref="Kernel.MachineImage.Boot(FramePool?)"/>): a machine
/// disposed with <see cref="Kernel.Machine.Dispose"/> returns the arrays that held its frames' bytes, and the next
/// machine's first writes take them instead of allocating. A reused array is never cleared (frame storage zeroes each
/// page when an access first reaches it, so no machine sees another's bytes) and never one a machine image shares.
/// Not thread-safe: one pool per thread (a campaign worker), used by one machine at a time or by machines of one
/// thread. Holds at most <see cref="MaxBytes"/> bytes; arrays returned beyond that are left to the GC.
/// </summary>
public sealed class FramePool(long maxBytes = FramePool.DefaultMaxBytes)
{
    /// <summary>The default bound: 64 storage chunks of 64 KiB (a campaign machine uses a handful).</summary>
    public const long DefaultMaxBytes = 4L << 20;

    private readonly Stack<byte[]> _chunks = new();
    private readonly Stack<byte[]> _groups = new();
    private readonly Stack<byte[]> _small = new();
    private long _bytes;

    /// <summary>The most bytes the pool keeps.</summary>
    public long MaxBytes { get; } = maxBytes;

    /// <summary>Bytes of storage the pool holds now: the arrays' lengths (a storage group's page of room included).</summary>
    public long Bytes => _bytes;

    /// <summary>Arrays handed out again instead of allocated (since the pool was made).</summary>
    public long Reused { get; private set; }

    /// <summary>A pooled storage array holding exactly <paramref name="length"/> bytes (contents undefined), or null.</summary>
    internal byte[]? Take(int length) => Pop(StackOf(length));

    /// <summary>A pooled storage group's array (<see cref="StorageArray.NewGroup"/>), or null.</summary>
    internal byte[]? TakeGroup() => Pop(_groups);

    private byte[]? Pop(Stack<byte[]>? s)
    {
        if (s == null || !s.TryPop(out var d)) return null;
        _bytes -= d.Length;
        Reused++;
        return d;
    }

    /// <summary>Keep <paramref name="data"/> for a later <see cref="Take"/> (the caller no longer reaches it).</summary>
    internal void Return(byte[] data)
    {
        var s = StorageArray.IsGroup(data) ? _groups : StackOf(data.Length);
        if (s == null || _bytes + data.Length > MaxBytes) return;
        s.Push(data);
        _bytes += data.Length;
    }

    // One released memory's chunk lookup cache and struct-page dictionary, cleared (a worker's machines run one at a time).
    private object? _chunkCache;
    private Dictionary<ulong, PageFrame>? _frames;

    internal object? TakeChunkCache()
    {
        var c = _chunkCache;
        _chunkCache = null;
        return c;
    }

    internal void ReturnChunkCache(object cleared) => _chunkCache ??= cleared;

    internal Dictionary<ulong, PageFrame>? TakeFrames()
    {
        var f = _frames;
        _frames = null;
        return f;
    }

    internal void ReturnFrames(Dictionary<ulong, PageFrame> cleared) => _frames ??= cleared;

    // One released memory's chunk dictionary (its key type is private to PhysicalMemory) and list of page tables that
    // borrowed from the pool, cleared.
    private object? _chunkDict;
    private List<IPoolBorrower>? _lenders;

    internal object? TakeChunks()
    {
        var c = _chunkDict;
        _chunkDict = null;
        return c;
    }

    internal void ReturnChunks(object cleared) => _chunkDict ??= cleared;

    internal List<IPoolBorrower>? TakeLenders()
    {
        var l = _lenders;
        _lenders = null;
        return l;
    }

    internal void ReturnLenders(List<IPoolBorrower> cleared) => _lenders ??= cleared;

    // Released memories' chunk descriptors (their type is private to PhysicalMemory; emptied, made new when taken).
    private readonly Stack<object> _chunkStores = new();
    private const int MaxChunkStores = 256;

    internal object? TakeChunkStore() => _chunkStores.TryPop(out var c) ? c : null;

    internal void ReturnChunkStore(object emptied)
    {
        if (_chunkStores.Count < MaxChunkStores) _chunkStores.Push(emptied);
    }

    // Page caches' xarray leaf nodes (their type is private to the xarray) and folios of released machines, cleared.
    private readonly Stack<object> _xaLeaves = new();
    private readonly Stack<KernelSim.Fs.Folio> _folios = new();

    /// <summary>The most xarray leaves the pool keeps (one per 64 cached pages of a file).</summary>
    private const int MaxXaLeaves = 64;

    internal object? TakeXaLeaf() => _xaLeaves.TryPop(out var n) ? n : null;

    internal void ReturnXaLeaf(object cleared)
    {
        if (_xaLeaves.Count < MaxXaLeaves) _xaLeaves.Push(cleared);
    }

    /// <summary>A released page cache's folio made new for <paramref name="index"/> on <paramref name="pfn"/>, or null.</summary>
    internal KernelSim.Fs.Folio? TakeFolio(ulong index, ulong pfn)
    {
        if (!_folios.TryPop(out var f)) return null;
        f.Reuse(index, pfn);
        return f;
    }

    /// <summary>Keep a released page cache's folio (nothing of that machine uses it any more); it is reset here.</summary>
    internal void ReturnFolio(KernelSim.Fs.Folio f)
    {
        if (_folios.Count >= MaxPageFrames) return;
        f.Reset();
        _folios.Push(f);
    }

    // Software TLBs of released page tables, cleared, by size (full or small; a machine has a few address spaces).
    private readonly Stack<object> _tlbs = new();
    private readonly Stack<object> _smallTlbs = new();
    private const int MaxTlbs = 8;

    internal object? TakeTlb(bool full) => (full ? _tlbs : _smallTlbs).TryPop(out var t) ? t : null;

    internal void ReturnTlb(object cleared, bool full)
    {
        var s = full ? _tlbs : _smallTlbs;
        if (s.Count < MaxTlbs) s.Push(cleared);
    }

    // The PTE dictionaries of released page tables, cleared (one per address space that mapped a page).
    private readonly Stack<Dictionary<ulong, Pte>> _ptes = new();

    /// <summary>Entries a pooled PTE dictionary may have room for (a bigger one, e.g. after a PMD mapping, goes to the GC).</summary>
    internal const int MaxPteCapacity = 1024;

    internal Dictionary<ulong, Pte>? TakePtes() => _ptes.TryPop(out var d) ? d : null;

    internal void ReturnPtes(Dictionary<ulong, Pte> cleared)
    {
        if (_ptes.Count < MaxTlbs) _ptes.Push(cleared);
    }

    // The struct pages of released memories, made new again by the next memory (PageFrame.Reuse), with their rmap lists.
    private readonly Stack<PageFrame> _pageFrames = new();

    /// <summary>The most struct pages the pool keeps (a campaign machine makes a few dozen).</summary>
    internal const int MaxPageFrames = 4096;

    /// <summary>A released struct page made new for <paramref name="pfn"/>, or null.</summary>
    internal PageFrame? TakePageFrame(ulong pfn)
    {
        if (!_pageFrames.TryPop(out var f)) return null;
        f.Reuse(pfn);
        return f;
    }

    /// <summary>Keep a released memory's struct page (nothing of that memory uses it any more); it is reset here.</summary>
    internal void ReturnPageFrame(PageFrame f)
    {
        if (_pageFrames.Count >= MaxPageFrames) return;
        f.Reset();
        _pageFrames.Push(f);
    }

    private Stack<byte[]>? StackOf(int length) => length switch
    {
        PhysicalMemory.ChunkBytes => _chunks,
        PhysicalMemory.SmallBytes => _small,
        _ => null,
    };
}
