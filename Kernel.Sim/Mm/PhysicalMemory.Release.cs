namespace KernelSim.Mm;

// The end of a machine's physical memory: its frame storage goes back to a FramePool for the next machine, and any
// later access to frame bytes fails instead of reading an array another machine now owns.
public sealed partial class PhysicalMemory
{
    private static readonly ChunkStore?[] NoChunkCache = new ChunkStore?[ChunkCacheSize];
    private static readonly Dictionary<ulong, PageFrame> NoFrames = [];
    private static readonly Dictionary<ulong, ChunkStore> NoChunks = [];
    private FramePool? _pool;
    private bool _released;
    private bool _claimed;
    // Arrays chunks outgrew (Grow): given to the pool only on Release, never while an access of this machine may still
    // hold a span over one.
    private List<byte[]>? _retired;

    // Page tables and page caches that borrowed (or are about to hold) a TLB, an entry dictionary, xarray leaves or folios
    // while this memory has a pool: what they hold goes back on Release.
    private List<IPoolBorrower>? _lenders;

    /// <summary>
    /// A cleared TLB (full-size or small) for <paramref name="table"/> from the pool (null: allocate); the table's TLB returns on
    /// <see cref="Release"/>.
    /// </summary>
    internal object? LendTlb(PageTable table, bool full) => Enlist(table) ? _pool!.TakeTlb(full) : null;

    /// <summary>A cleared small TLB a page table outgrew (it borrowed from the pool): the pool keeps it unless this memory was released.</summary>
    internal void GiveBackTlb(object cleared)
    {
        if (!_released) _pool?.ReturnTlb(cleared, full: false);
    }

    /// <summary>A cleared PTE dictionary for <paramref name="table"/> from the pool (null: allocate); it returns on <see cref="Release"/>.</summary>
    internal Dictionary<ulong, Pte>? LendPtes(PageTable table) => Enlist(table) ? _pool!.TakePtes() : null;

    /// <summary>A cleared leaf node for <paramref name="xarray"/>'s tree from the pool (null: allocate); it returns on <see cref="Release"/>.</summary>
    internal object? LendXaLeaf(IPoolBorrower xarray) => Enlist(xarray) ? _pool!.TakeXaLeaf() : null;

    /// <summary>
    /// A folio for the page cache: a released machine's (reset) from the pool, or null (allocate). Only an
    /// <see cref="IPoolBorrower"/> page cache that holds it gives it back.
    /// </summary>
    internal KernelSim.Fs.Folio? TakeFolio(ulong index, ulong pfn) => _pool != null && !_released ? _pool.TakeFolio(index, pfn) : null;

    private bool Enlist(IPoolBorrower borrower)
    {
        if (_pool == null || _released) return false;
        if (!borrower.Lent)
        {
            borrower.Lent = true;
            (_lenders ??= _pool.TakeLenders() ?? []).Add(borrower);
        }
        return true;
    }

    private void Retire(byte[] data)
    {
        if (_pool != null) (_retired ??= []).Add(data);
    }

    /// <summary>
    /// The machine being built takes this memory as its own (the first machine to do so; a memory a caller registered as
    /// an instance for several machines belongs to the first). Only the owner releases it.
    /// </summary>
    internal bool Claim()
    {
        if (_claimed) return false;
        _claimed = true;
        return true;
    }

    /// <summary>
    /// Take storage arrays from <paramref name="pool"/> and give them back there on <see cref="Release"/>. Only before
    /// anything was stored (chunks made before would not be the pool's); false otherwise.
    /// </summary>
    internal bool UsePool(FramePool pool)
    {
        if (_pool != null || _released || _chunks.Count != 0) return false;
        _pool = pool;
        return true;
    }

    /// <summary>True once <see cref="Release"/> ran: every access to frame bytes throws <see cref="ObjectDisposedException"/>.</summary>
    internal bool Released => _released;

    /// <summary>
    /// Drop the frame storage: the arrays this memory owns go back to its pool (if any); arrays shared with a machine image
    /// (<see cref="SharedPages"/>) are never returned, other machines still read them. Afterwards a read or write of frame
    /// bytes throws <see cref="ObjectDisposedException"/> (the chunk lookup misses and checks); the memory has no struct
    /// pages any more (they went with its dictionary), its ranges stay.
    /// </summary>
    internal void Release()
    {
        if (_released) return;
        _released = true;
        foreach (var (_, c) in _chunks)
        {
            if (!c.Shared && c.Data.Length != 0 && !StorageArray.IsGroup(c.Data)) _pool?.Return(c.Data); // groups below, once each
            c.Data = [];
            c.Zeroed = 0;
            if (_pool == null) continue;
            c.Owner = null!; // only the pool reaches it now (Reuse sets the next owner): this memory stays collectable
            _pool.ReturnChunkStore(c);
        }
        if (_groups != null)
        {
            foreach (var (_, a) in _groups) _pool?.Return(a);
            _groups = null;
        }
        if (_retired != null)
        {
            foreach (var d in _retired) _pool?.Return(d);
            _retired = null;
        }
        if (_lenders != null)
        {
            foreach (var t in _lenders) t.ReturnLent(_pool!);
            _lenders.Clear();
            _pool!.ReturnLenders(_lenders);
            _lenders = null;
        }
        if (!ReferenceEquals(_chunks, NoChunks))
        {
            _chunks.Clear();
            _pool?.ReturnChunks(_chunks);
            _chunks = NoChunks;
        }
        // The chunk dictionary, the lookup cache and the struct-page dictionary serve the next memory too (cleared); this
        // one keeps empty ones (so a lookup finds nothing and a byte access throws).
        if (!ReferenceEquals(_chunkCache, NoChunkCache))
        {
            Array.Clear(_chunkCache);
            _pool?.ReturnChunkCache(_chunkCache);
            _chunkCache = NoChunkCache;
        }
        if (!ReferenceEquals(_frames, NoFrames))
        {
            if (_pool != null)
            {
                foreach (var (_, f) in _frames) _pool.ReturnPageFrame(f);
                _frames.Clear();
                _pool.ReturnFrames(_frames);
            }
            _frames = NoFrames;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowReleased() =>
        throw new ObjectDisposedException(nameof(PhysicalMemory), "the machine was released (Machine.Dispose): its frame storage went back to its pool");
}
