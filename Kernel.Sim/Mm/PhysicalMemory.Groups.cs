namespace KernelSim.Mm;

// PhysicalMemory's storage groups (StorageArray): busy chunks move into one pinned array per group of neighbouring
// chunks, and a copy run that crosses chunks there is one host copy.
public sealed partial class PhysicalMemory
{
    /// <summary>
    /// Move a busy chunk's bytes to its place in its storage group's array (<see cref="StorageArray"/>; the memory makes
    /// the array when the group's first chunk moves, from the pool if it has one): the pages reached so far; the others
    /// are zeroed when reached, as before. A chunk on a small array moves too (a 4 KiB buffer often lies in one); one on
    /// a shared array does not (its first write copies it anyway). The old array goes back to the pool when the memory
    /// is released.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Rehome(ChunkStore c)
    {
        if (c.Shared || c.Data.Length == 0 || StorageArray.IsGroup(c.Data)) return;
        var group = c.Owner.GroupArray(c.Key);
        CopyReached(c, group, GroupBase(group, c.Key));
        c.Owner.Retire(c.Data);
        c.MoveToGroup(group);
    }

    /// <summary>Where frame 0 of chunk <paramref name="key"/> lies in its group's array.</summary>
    private static int GroupBase(byte[] group, ulong key) =>
        StorageArray.PageBase(group) + (int)(key & (StorageArray.GroupChunks - 1)) * ChunkBytes;

    // The storage groups' arrays this memory made (Rehome), by group number (chunk key >> GroupShift): a machine has
    // a few busy groups, so a list.
    private List<(ulong Group, byte[] Array)>? _groups;

    /// <summary>The array of the storage group chunk <paramref name="key"/> belongs to, made (or taken from the pool) if the memory has none yet.</summary>
    private byte[] GroupArray(ulong key)
    {
        var g = key >> StorageArray.GroupShift;
        if (_groups != null)
            foreach (var (group, array) in _groups)
                if (group == g) return array;
        var a = ChunkStore.Scribbled(_pool?.TakeGroup() ?? StorageArray.NewGroup());
        (_groups ??= []).Add((g, a));
        return a;
    }

    /// <summary>
    /// <see cref="CopyRun"/> of a run that crosses a chunk boundary on either side (at most to the end of a storage
    /// group: <see cref="CopyRunLimit"/>). When each side lies in one group's array with every page reached, the
    /// per-chunk copies below would move the same bytes between the same places and change nothing else, so one host
    /// copy does it; unless the two overlap, where the order of those copies decides the result.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void CopyAcrossChunks(ulong sp, int so, ulong dp, int dof, int len)
    {
        if (TryGroupRun(sp, so, len, write: false, out var src) && TryGroupRun(dp, dof, len, write: true, out var dst) && !src.Overlaps(dst))
        {
            src.CopyTo(dst);
            return;
        }
        while (len > 0)
        {
            var n = Math.Min(len, Math.Min(RunLimit(sp, so), RunLimit(dp, dof)));
            CopyInChunk(sp, so, dp, dof, n);
            len -= n;
            sp += (ulong)((so + n) >> PageDefs.PAGE_SHIFT);
            so = (so + n) & (int)(PageDefs.PAGE_SIZE - 1);
            dp += (ulong)((dof + n) >> PageDefs.PAGE_SHIFT);
            dof = (dof + n) & (int)(PageDefs.PAGE_SIZE - 1);
        }
    }

    /// <summary>
    /// The storage of [offset, offset+len) from frame pfn on, when every chunk it crosses lies in one storage group's
    /// array and every page is reached: for reading, zeroed or written (what <see cref="ReadRun"/> would return without
    /// zeroing); for writing, also with its struct page (what <see cref="WriteRun"/> would return without making one).
    /// </summary>
    private bool TryGroupRun(ulong pfn, int offset, int len, bool write, out Span<byte> run)
    {
        run = default;
        var first = Chunk(pfn, create: false);
        if (first == null || !StorageArray.IsGroup(first.Data)) return false;
        var at = ChunkOffset(pfn, offset);
        var c = first;
        for (int left = len, o = offset; ; c = Chunk(pfn, create: false))
        {
            if (c == null || !ReferenceEquals(c.Data, first.Data)) return false;
            var n = Math.Min(left, RunLimit(pfn, o));
            var want = PageMask(pfn, o, n);
            if (((write ? c.FramesMade & c.Zeroed : c.Zeroed) & want) != want) return false;
            left -= n;
            if (left == 0) break;
            pfn = (pfn | (ChunkPages - 1)) + 1; // the next chunk's first frame
            o = 0;
        }
        run = first.At(at, len); // on through the next chunks' places in the group's array
        return true;
    }

    /// <summary>Bytes from pfn+offset up to the end of its storage group: how far one <see cref="CopyRun"/> can reach.</summary>
    internal static int CopyRunLimit(ulong pfn, int offset) =>
        StorageArray.GroupBytes - (int)((pfn & (GroupPages - 1)) << PageDefs.PAGE_SHIFT) - offset;

    private const int GroupPages = ChunkPages << StorageArray.GroupShift;
}
