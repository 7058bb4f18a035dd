namespace KernelSim.Fs.Dax;

/// <summary>One extent: <see cref="Count"/> file blocks from <see cref="FileBlock"/> stored at device block <see cref="DevBlock"/>.</summary>
/// <param name="FileBlock">First file block (file offset / 4096).</param>
/// <param name="DevBlock">First device block (device byte offset / 4096).</param>
/// <param name="Count">Number of blocks.</param>
/// <param name="Unwritten">Allocated but reading as zeros (fallocate).</param>
public sealed record Extent(long FileBlock, long DevBlock, long Count, bool Unwritten)
{
    /// <summary>One past the last file block.</summary>
    public long FileEnd => FileBlock + Count;

    /// <summary>Device block of file block <paramref name="fblk"/> (inside the extent).</summary>
    public long DevOf(long fblk) => DevBlock + (fblk - FileBlock);
}

/// <summary>
/// The extent map of one file (an ext4 extent tree / XFS bmap btree, kept in host memory): extents sorted by
/// file block, never overlapping; neighbours that continue each other on the device in the same state are merged.
/// </summary>
public sealed class ExtentTree
{
    private readonly SortedList<long, Extent> _ext = [];
    /// <summary>The extent the last lookup found (a read walks one extent page after page); every change to the tree forgets it.</summary>
    private Extent? _last;

    /// <summary>The extents in file order.</summary>
    public IList<Extent> Extents => _ext.Values;

    /// <summary>The extent containing fblk, or null with the number of hole blocks up to the next extent (long.MaxValue if none).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public Extent? Lookup(long fblk, out long holeBlocks)
    {
        holeBlocks = long.MaxValue;
        var last = _last;
        if (last is not null && fblk >= last.FileBlock && fblk < last.FileEnd) return last; // "is": the record's == runs Equals
        return Search(fblk, out holeBlocks);
    }

    /// <summary><see cref="Lookup"/> past the remembered extent: a binary search of the sorted keys.</summary>
    private Extent? Search(long fblk, out long holeBlocks)
    {
        holeBlocks = long.MaxValue;
        var keys = _ext.Keys;
        int lo = 0, hi = keys.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (keys[mid] <= fblk)
            {
                found = mid;
                lo = mid + 1;
            }
            else hi = mid - 1;
        }
        if (found >= 0 && _ext.Values[found].FileEnd > fblk) return _last = _ext.Values[found];
        var next = found + 1;
        if (next < keys.Count) holeBlocks = keys[next] - fblk;
        return null;
    }

    /// <summary>Insert an extent over a hole, merging with contiguous neighbours of the same state.</summary>
    public void Insert(Extent e)
    {
        _last = null;
        var idx = IndexBefore(e.FileBlock);
        if (idx >= 0)
        {
            var prev = _ext.Values[idx];
            if (prev.FileEnd == e.FileBlock && prev.DevBlock + prev.Count == e.DevBlock && prev.Unwritten == e.Unwritten)
            {
                _ext.RemoveAt(idx);
                e = prev with { Count = prev.Count + e.Count };
            }
        }
        if (_ext.TryGetValue(e.FileEnd, out var next) && next.DevBlock == e.DevBlock + e.Count && next.Unwritten == e.Unwritten)
        {
            _ext.Remove(next.FileBlock);
            e = e with { Count = e.Count + next.Count };
        }
        _ext[e.FileBlock] = e;
    }

    private int IndexBefore(long fblk)
    {
        var keys = _ext.Keys;
        int lo = 0, hi = keys.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (keys[mid] < fblk)
            {
                found = mid;
                lo = mid + 1;
            }
            else hi = mid - 1;
        }
        return found;
    }

    /// <summary>Split extents so that fblk is an extent boundary.</summary>
    private void SplitAt(long fblk)
    {
        var e = Lookup(fblk, out _);
        if (e == null || e.FileBlock == fblk) return;
        _last = null;
        _ext.Remove(e.FileBlock);
        var left = e with { Count = fblk - e.FileBlock };
        var right = new Extent(fblk, e.DevOf(fblk), e.FileEnd - fblk, e.Unwritten);
        _ext[left.FileBlock] = left;
        _ext[right.FileBlock] = right;
    }

    /// <summary>Remove the mapping of file blocks [fblk, fblk+count); the freed device ranges are added to <paramref name="freed"/>.</summary>
    public void Remove(long fblk, long count, List<(long DevBlock, long Count)> freed)
    {
        var end = count == long.MaxValue ? long.MaxValue : fblk + count;
        SplitAt(fblk);
        if (end != long.MaxValue) SplitAt(end);
        var gone = new List<Extent>();
        foreach (var e in _ext.Values) if (e.FileBlock >= fblk && e.FileBlock < end) gone.Add(e);
        _last = null;
        foreach (var e in gone)
        {
            _ext.Remove(e.FileBlock);
            freed.Add((e.DevBlock, e.Count));
        }
    }

    /// <summary>Mark file blocks [fblk, fblk+count) written (unwritten → written conversion), merging afterwards.</summary>
    public void MarkWritten(long fblk, long count)
    {
        SplitAt(fblk);
        SplitAt(fblk + count);
        var conv = new List<Extent>();
        foreach (var e in _ext.Values) if (e.FileBlock >= fblk && e.FileBlock < fblk + count && e.Unwritten) conv.Add(e);
        _last = null;
        foreach (var e in conv)
        {
            _ext.Remove(e.FileBlock);
            Insert(e with { Unwritten = false });
        }
    }

    /// <summary>Blocks mapped (allocated) in total.</summary>
    public long BlockCount
    {
        get
        {
            long n = 0;
            foreach (var e in _ext.Values) n += e.Count;
            return n;
        }
    }
}
