namespace KernelSim.Mm;

// The end of a machine's physical memory: its frame storage goes back to a FramePool for the next machine, and any
// later access to frame bytes fails instead of reading an array another machine now owns.
public sealed partial class PhysicalMemory
{
    private static readonly ChunkStore?[] NoChunkCache = new ChunkStore?[ChunkCacheSize];
    private static readonly Dictionary<ulong, PageFrame> NoFrames = [];
    private FramePool? _pool;
    private bool _released;
    private bool _claimed;
    // Arrays chunks outgrew (Grow): given to the pool only on Release, never while an access of this machine may still
    // hold a span over one.
    private List<byte[]>? _retired;

    // Page tables holding (or about to hold) a full-size TLB while this memory has a pool: their TLBs go back on Release.
    private List<PageTable>? _tlbUsers;

    /// <summary>A cleared full-size TLB for <paramref name="table"/> from the pool (null: allocate); it returns on <see cref="Release"/>.</summary>
    internal object? LendTlb(PageTable table)
    {
        if (_pool == null || _released) return null;
        (_tlbUsers ??= []).Add(table);
        return _pool.TakeTlb();
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
        foreach (var c in _chunks.Values)
        {
            if (!c.Shared && c.Data.Length != 0) _pool?.Return(c.Data);
            c.Data = [];
            c.Zeroed = 0;
        }
        if (_retired != null)
        {
            foreach (var d in _retired) _pool?.Return(d);
            _retired = null;
        }
        if (_tlbUsers != null)
        {
            foreach (var t in _tlbUsers)
                if (t.DropTlb() is { } tlb) _pool?.ReturnTlb(tlb);
            _tlbUsers = null;
        }
        _chunks.Clear();
        // The lookup cache and the struct-page dictionary serve the next memory too (cleared); this one keeps empty ones
        // (so a lookup finds nothing and a byte access throws).
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
