namespace KernelSim.Mm;

// PhysicalMemory's frame storage: the chunks that hold frame bytes, their lazy zeroing and growth, and the run
// accessors of the copy hot path (kept apart from the ranges, poison and page allocator).
public sealed partial class PhysicalMemory
{
    /// <summary>The bytes of ChunkPages neighbouring frames, and which of them already have a PageFrame.</summary>
    private sealed class ChunkStore(ulong key, PhysicalMemory owner)
    {
        public ulong Key = key;
        /// <summary>The memory whose pool (if any) <see cref="NewData"/> takes arrays from and outgrown arrays go back to.</summary>
        public PhysicalMemory Owner = owner;

        /// <summary>A released memory's chunk (emptied by <see cref="Release"/>) made new for <paramref name="key"/> of <paramref name="owner"/>.</summary>
        public ChunkStore Reuse(ulong key, PhysicalMemory owner)
        {
            Key = key;
            Owner = owner;
            Data = [];
            Zeroed = FramesMade = SharedFramesMade = 0;
            Copies = 0;
            Shared = false;
            return this;
        }
        // Not cleared when allocated or taken from the pool (a sparse write would pay for zeroing 64 KiB): each page is
        // zeroed the first time a read or write reaches it (Zeroed), so no access ever sees the array's initial contents.
        // Covers every Zeroed page (Cover grows it before a bit is set): SmallPages pages, or the whole chunk. Frame 0
        // of the chunk is at Base: 0 in a plain array; in its storage group's array (MoveToGroup), its place there.
        public byte[] Data
        {
            get => _data;
            set
            {
                System.Diagnostics.Debug.Assert(!StorageArray.IsGroup(value), "a group array is entered with MoveToGroup");
                _data = value;
                Base = 0;
            }
        }
        private byte[] _data = [];
        public int Base;

        /// <summary>Hold the chunk's bytes at its place in <paramref name="group"/>, its storage group's array (<see cref="Rehome"/>).</summary>
        public void MoveToGroup(byte[] group)
        {
            _data = group;
            Base = GroupBase(group, Key);
        }
        /// <summary>Copies and writes that reached the chunk since it was made; the <see cref="RehomeAfter"/>-th moves it (<see cref="Rehome"/>).</summary>
        public int Copies;
        /// <summary>The bytes of the chunk (from page 0) that <see cref="Data"/> holds.</summary>
        public int Bytes => StorageArray.IsGroup(_data) ? ChunkBytes : _data.Length;
        /// <summary>The storage of [at, at+len) of the chunk.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public Span<byte> At(int at, int len) => _data.AsSpan(Base + at, len);
        public byte[] NewData(int bytes) => Scribbled(Owner._pool?.Take(bytes) ?? StorageArray.New(bytes));

        internal static byte[] Scribbled(byte[] d)
        {
#if DEBUG
            d.AsSpan().Fill(0xCC); // debug builds (the tests) see garbage wherever a page was not zeroed first, reused or not
#endif
            return d;
        }
        /// <summary>Bit i set once page i of <see cref="Data"/> holds the frame's bytes (zeros until written).</summary>
        public uint Zeroed;
        /// <summary>Bit i set once frame Key*ChunkPages+i has its PageFrame (frames are never removed).</summary>
        public uint FramesMade;
        /// <summary>
        /// Data is a <see cref="SharedPages"/> array other machines read too: FramesMade is held in SharedFramesMade and
        /// reads 0 meanwhile, so the first write goes through MakeFrames, which copies the array first (<see cref="Unshare"/>).
        /// </summary>
        public bool Shared;
        public uint SharedFramesMade;
    }

    /// <summary>The chunk's bit mask of the pages that [offset, offset+len) of the run starting in pfn touches.</summary>
    private static uint PageMask(ulong pfn, int offset, int len)
    {
        var first = (int)(pfn & (ChunkPages - 1));
        var pages = ((offset + Math.Max(len, 1) - 1) >> PageDefs.PAGE_SHIFT) + 1;
        return (uint)(((1UL << pages) - 1) << first);
    }

    /// <summary>The chunk's bit mask of the pages that [offset, offset+len) of the run starting in pfn covers entirely.</summary>
    private static uint FullPages(ulong pfn, int offset, int len)
    {
        var start = ChunkOffset(pfn, offset);
        var first = (start + (int)PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT;
        var end = (start + len) >> PageDefs.PAGE_SHIFT;
        return end > first ? (uint)(((1UL << (end - first)) - 1) << first) : 0;
    }

    /// <summary>Make the chunk's array reach the last page of <paramref name="want"/> (before any of its bits is set in Zeroed).</summary>
    private static void Cover(ChunkStore c, uint want)
    {
        var pages = 32 - System.Numerics.BitOperations.LeadingZeroCount(want);
        if (pages << PageDefs.PAGE_SHIFT > c.Bytes) Grow(c, pages);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Grow(ChunkStore c, int pages)
    {
        var d = c.NewData(pages <= SmallPages ? SmallBytes : ChunkBytes);
        CopyReached(c, d);
        // The outgrown array goes to the pool when the machine is released (a span a caller still holds may read it
        // until then), unless a machine image shares it.
        if (c.Shared) Owned(c);
        else if (c.Data.Length != 0) c.Owner.Retire(c.Data);
        c.Data = d;
    }

    /// <summary>
    /// Copy the chunk's reached (Zeroed) pages into <paramref name="d"/>, a new array for it with its frame 0 at
    /// <paramref name="dBase"/>; the other pages hold no bytes and are zeroed when first reached.
    /// </summary>
    private static void CopyReached(ChunkStore c, byte[] d, int dBase = 0)
    {
        for (var z = c.Zeroed; z != 0; z &= z - 1)
        {
            var at = System.Numerics.BitOperations.TrailingZeroCount(z) << PageDefs.PAGE_SHIFT;
            c.At(at, (int)PageDefs.PAGE_SIZE).CopyTo(d.AsSpan(dBase + at));
        }
    }

    /// <summary>Zero the pages of <paramref name="want"/> that no access has reached yet.</summary>
    private static void EnsureZeroed(ChunkStore c, uint want)
    {
        Cover(c, want);
        var todo = want & ~c.Zeroed;
        if (todo != 0 && c.Shared) Unshare(c);
        while (todo != 0)
        {
            var i = System.Numerics.BitOperations.TrailingZeroCount(todo);
            c.At(i << PageDefs.PAGE_SHIFT, (int)PageDefs.PAGE_SIZE).Clear();
            todo &= todo - 1;
        }
        c.Zeroed |= want;
    }

    /// <summary>The storage chunk holding pfn, or null if nothing in it was ever written.</summary>
    private ChunkStore? Chunk(ulong pfn, bool create)
    {
        var key = pfn >> ChunkShift;
        ref var slot = ref _chunkCache[(int)(key & (ChunkCacheSize - 1))];
        var c = slot;
        if (c != null && c.Key == key) return c;
        return ChunkMiss(key, create, ref slot);
    }

    // Out of line so that the cache hit above stays small enough to inline into the copy loops.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ChunkStore? ChunkMiss(ulong key, bool create, ref ChunkStore? slot)
    {
        if (!_chunks.TryGetValue(key, out var c))
        {
            if (_released) ThrowReleased();
            if (!create) return null;
            c = (_pool?.TakeChunkStore() as ChunkStore)?.Reuse(key, this) ?? new ChunkStore(key, this);
            if (ReferenceEquals(_chunks, NoChunks)) _chunks = _pool?.TakeChunks() as Dictionary<ulong, ChunkStore> ?? [];
            _chunks.Add(key, c);
        }
        if (ReferenceEquals(_chunkCache, NoChunkCache))
        {
            // The first chunk: the memory's own cache (a pooled one comes cleared).
            _chunkCache = _pool?.TakeChunkCache() as ChunkStore?[] ?? new ChunkStore?[ChunkCacheSize];
            slot = ref _chunkCache[(int)(key & (ChunkCacheSize - 1))];
        }
        slot = c;
        return c;
    }

    private static int ChunkOffset(ulong pfn, int offset) => (int)((pfn & (ChunkPages - 1)) << PageDefs.PAGE_SHIFT) + offset;

    /// <summary>Bytes from pfn+offset up to the end of its storage chunk: how far <see cref="ReadRun"/>/<see cref="WriteRun"/> can reach.</summary>
    internal static int RunLimit(ulong pfn, int offset) => ChunkBytes - ChunkOffset(pfn, offset);

    /// <summary>
    /// Bytes of physically contiguous frames starting in pfn, for reading; len may run past the page into the
    /// following frames but not past <see cref="RunLimit"/>.
    /// </summary>
    internal ReadOnlySpan<byte> ReadRun(ulong pfn, int offset, int len)
    {
        var c = Chunk(pfn, create: false);
        if (c == null) return ZeroChunk.AsSpan(ZeroBase + ChunkOffset(pfn, offset), len);
        var want = PageMask(pfn, offset, len);
        if ((c.Zeroed & want) != want)
        {
            // Pages no access reached read as zeros without being zeroed (the zero page stays "never reached", so copies
            // from it are recognised by CopyRun).
            if ((c.Zeroed & want) == 0) return ZeroChunk.AsSpan(ZeroBase + ChunkOffset(pfn, offset), len);
            EnsureZeroed(c, want);
        }
        return c.At(ChunkOffset(pfn, offset), len);
    }

    /// <summary>
    /// <c>ReadRun(sp, so, len).CopyTo(WriteRun(dp, dof, len))</c> for each piece of the run within one chunk on both
    /// sides, in order (len may reach <see cref="CopyRunLimit"/>), except that a copy from pages no access reached (they
    /// hold zeros: the zero page, a never-written block) to whole pages writes no bytes: the destination pages only
    /// read as zeros from then on (each gets its struct page, as a write gives it). The copy of ZERO_PAGE that zeroes a
    /// newly allocated pmem block (dax_zero_page_range) then costs no 4 KiB move.
    /// </summary>
    internal void CopyRun(ulong sp, int so, ulong dp, int dof, int len)
    {
        if (len > RunLimit(sp, so) || len > RunLimit(dp, dof))
        {
            CopyAcrossChunks(sp, so, dp, dof, len);
            return;
        }
        CopyInChunk(sp, so, dp, dof, len);
    }

    /// <summary><see cref="CopyRun"/> within one chunk on each side.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void CopyInChunk(ulong sp, int so, ulong dp, int dof, int len)
    {
        var sc = Chunk(sp, create: false);
        if (sc != null)
        {
            var want = PageMask(sp, so, len);
            var reached = sc.Zeroed & want;
            if (reached != 0)
            {
                // ReadRun's path, with the chunk looked up once (the common case: a copy of written memory).
                if (reached != want) EnsureZeroed(sc, want);
                if (++sc.Copies == RehomeAfter) Rehome(sc);
                sc.At(ChunkOffset(sp, so), len).CopyTo(WriteRun(dp, dof, len));
                return;
            }
        }
        if (ZeroWholePages(dp, dof, len)) return;
        ZeroChunk.AsSpan(ZeroBase + ChunkOffset(sp, so), len).CopyTo(WriteRun(dp, dof, len));
    }

    /// <summary>The destination of a copy of zeros, when it covers whole pages only: forget their bytes. False otherwise.</summary>
    private bool ZeroWholePages(ulong pfn, int offset, int len)
    {
        var want = PageMask(pfn, offset, len);
        if (FullPages(pfn, offset, len) != want) return false;
        var c = Chunk(pfn, create: false);
        if (c == null)
        {
            // No storage yet: the pages already read as zeros.
            for (var i = 0UL; i < (ulong)System.Numerics.BitOperations.PopCount(want); i++) Frame(pfn + i);
            return true;
        }
        if ((c.FramesMade & want) != want) MakeFrames(c, pfn, want, 0);
        c.Zeroed &= ~want;
        return true;
    }

    /// <summary>
    /// Like <see cref="ReadRun"/>, for writing: every frame written gets its struct page, and the storage is allocated on
    /// first write. The caller overwrites the whole span (every caller copies, fills or clears it), so a page the span
    /// covers entirely is not zeroed first; only the pages it covers in part are.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal Span<byte> WriteRun(ulong pfn, int offset, int len)
    {
        var c = Chunk(pfn, create: true)!;
        var want = PageMask(pfn, offset, len);
        // A page whose bytes CopyRun dropped has its struct page but is not Zeroed: it goes through MakeFrames again.
        if ((c.FramesMade & c.Zeroed & want) != want) MakeFrames(c, pfn, want, want & ~FullPages(pfn, offset, len));
        if (++c.Copies == RehomeAfter) Rehome(c);
        return c.At(ChunkOffset(pfn, offset), len);
    }

    /// <summary>Copies and writes after which a chunk on a plain array moves into its storage group (<see cref="Rehome"/>, <see cref="StorageArray"/>).</summary>
    internal const int RehomeAfter = 64;

    /// <summary>The first write to frames of a chunk: zero them and give each its struct page.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void MakeFrames(ChunkStore c, ulong pfn, uint want, uint zero)
    {
        if (c.Shared) Unshare(c);
        // Pages the caller overwrites entirely (want & ~zero) need no zeroing first.
        Cover(c, want);
        EnsureZeroed(c, zero);
        c.Zeroed |= want;
        // In pfn order, only the frames not made yet (the order in which struct pages are created is kept).
        var todo = want & ~c.FramesMade;
        var first = (ulong)System.Numerics.BitOperations.TrailingZeroCount(want);
        while (todo != 0)
        {
            Frame(pfn + (ulong)System.Numerics.BitOperations.TrailingZeroCount(todo) - first);
            todo &= todo - 1;
        }
        c.FramesMade |= want;
    }
}
