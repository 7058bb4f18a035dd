using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

public sealed partial class DaxFile
{
    /// <summary>
    /// -&gt;fallocate under i_rwsem (ext4_fallocate in spirit). Mode 0 / KEEP_SIZE: allocate unwritten extents over
    /// the holes (reading as zeros), growing i_size unless KEEP_SIZE. PUNCH_HOLE|KEEP_SIZE: zero the partial blocks
    /// at the edges (dax_zero_range: dax_memzero, −EIO on a known-bad page), unmap the whole pages of the range from
    /// every process and free their blocks. ZERO_RANGE: zero the mapped part in place — whole pages through
    /// dax_zero_page_range (which clears poison), partial ones through dax_memzero — and allocate unwritten blocks
    /// over holes. COLLAPSE/INSERT_RANGE → −EOPNOTSUPP; a directory → −EISDIR.
    /// </summary>
    public override int Fallocate(int mode, long offset, long len)
    {
        if (DInode.Node.IsDir) return -Errno.EISDIR;
        if ((mode & (Fcntl.FALLOC_FL_COLLAPSE_RANGE | Fcntl.FALLOC_FL_INSERT_RANGE)) != 0) return -Errno.EOPNOTSUPP;
        using var fn = Fs.Machine.Tracer.Fn("daxfs_fallocate", "fs");
        DInode.Rwsem.DownWrite();
        try
        {
            var keep = (mode & Fcntl.FALLOC_FL_KEEP_SIZE) != 0;
            int r;
            if ((mode & Fcntl.FALLOC_FL_PUNCH_HOLE) != 0) r = PunchHole(offset, len);
            else if ((mode & Fcntl.FALLOC_FL_ZERO_RANGE) != 0) r = ZeroRange(offset, len, keep);
            else r = AllocateRange(offset, len, keep);
            if (r == 0) DInode.UpdateTime(); // file_modified
            return r;
        }
        finally
        {
            DInode.Rwsem.UpWrite();
        }
    }

    private int AllocateRange(long offset, long len, bool keep)
    {
        const int shift = DaxFsVolume.BlockShift;
        var fblk = offset >> shift;
        var end = (offset + len + DaxFsVolume.BlockSize - 1) >> shift;
        while (fblk < end)
        {
            var e = DInode.Node.Extents.Lookup(fblk, out var hole);
            if (e != null)
            {
                fblk = e.FileEnd;
                continue;
            }
            var n = Math.Min(end - fblk, hole);
            var r = Fs.AllocateBlocks(DInode, fblk, n, unwritten: true, out var ne);
            if (r < 0) return (int)r;
            fblk += ne!.Count;
        }
        if (!keep && offset + len > DInode.Size) DInode.Size = offset + len;
        return 0;
    }

    private int PunchHole(long offset, long len)
    {
        var size = DInode.Size;
        if (offset >= size) return 0;
        var end = Math.Min(offset + len, size);
        const int bs = DaxFsVolume.BlockSize;
        var firstFull = (offset + bs - 1) / bs;
        var lastFull = end / bs;
        int r;
        if (firstFull > lastFull)
        {
            r = Fs.ZeroFileRange(DInode, offset, end - offset);
            if (r < 0) return r;
            return 0;
        }
        if (offset % bs != 0)
        {
            r = Fs.ZeroFileRange(DInode, offset, firstFull * bs - offset);
            if (r < 0) return r;
        }
        if (end % bs != 0 && lastFull * bs < end)
        {
            r = Fs.ZeroFileRange(DInode, lastFull * bs, end - lastFull * bs);
            if (r < 0) return r;
        }
        if (lastFull > firstFull)
        {
            DInode.UnmapMappingRange(firstFull * bs, (lastFull - firstFull) * bs);
            Fs.InvalidatePagecache(DInode, firstFull * bs, lastFull * bs);
            Fs.FreeBlocks(DInode, firstFull, lastFull - firstFull);
            DInode.DropDaxEntries((ulong)firstFull, (ulong)lastFull);
        }
        return 0;
    }

    private int ZeroRange(long offset, long len, bool keep)
    {
        var r = Fs.ZeroFileRange(DInode, offset, len);
        if (r < 0) return r;
        return AllocateRange(offset, len, keep);
    }
}
