using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>
/// The iomap_ops of <see cref="DaxFs"/> (ext4_iomap_begin / xfs_direct_write_iomap_begin in spirit). A mapping
/// covers the blocks of the requested range, clipped to the extent (or hole) holding pos. With IOMAP_WRITE
/// (and not IOMAP_ZERO) holes are allocated and unwritten blocks converted, zeroed first, and reported as
/// IOMAP_MAPPED | IOMAP_F_NEW; IOMAP_NOWAIT refuses to allocate (−EAGAIN). IOMAP_F_DIRTY marks uncommitted
/// metadata for MAP_SYNC faults.
/// </summary>
public sealed class DaxFsIomapOps : IIomapOps
{
    private readonly DaxFs _fs;
    private readonly KernelSim.Trace.Tracer _trace;

    internal DaxFsIomapOps(DaxFs fs)
    {
        _fs = fs;
        _trace = fs.Machine.Tracer;
    }

    /// <summary>How many recent calls <see cref="Log"/> keeps.</summary>
    public const int LogCapacity = 256;

    /// <summary>The most recent iomap_begin calls (for tests and walkthroughs): request and resulting mapping.</summary>
    public RecentLog<(long Pos, long Length, IomapOpFlags Flags, IomapType Type, long Offset, ulong MapLength, ulong Addr, IomapFlags MapFlags)> Log { get; } = new(LogCapacity);

    /// <inheritdoc/>
    public int IomapBegin(Inode inode, long pos, long length, IomapOpFlags flags, Iomap iomap)
    {
        if (_trace.Enabled) return IomapBeginTraced(inode, pos, length, flags, iomap);
        return IomapBeginBody(inode, pos, length, flags, iomap); // tracing off: no traced frame at all
    }

    // The traced frame out of line: the untraced path is a plain call that iomap_iter can inline.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private int IomapBeginTraced(Inode inode, long pos, long length, IomapOpFlags flags, Iomap iomap)
    {
        using var fn = _trace.Fn("daxfs_iomap_begin", "fs");
        return IomapBeginBody(inode, pos, length, flags, iomap);
    }

    private int IomapBeginBody(Inode inode, long pos, long length, IomapOpFlags flags, Iomap iomap)
    {
        if (inode is not DaxInode di) return -Errno.EINVAL;
        if (length <= 0 || pos < 0) return -Errno.EINVAL;
        const int shift = DaxFsVolume.BlockShift;
        var fblk = pos >> shift;
        var last = (pos + length - 1) >> shift;
        var nblk = last - fblk + 1;
        var write = (flags & IomapOpFlags.IOMAP_WRITE) != 0 && (flags & IomapOpFlags.IOMAP_ZERO) == 0;
        var tree = di.Node.Extents;
        var e = tree.Lookup(fblk, out var hole);
        iomap.DaxDev = di.IsDax ? _fs.DaxDev : null;
        iomap.Offset = fblk << shift;
        if (e is null) // not the record's ==, which calls Equals on every hit
        {
            var n = Math.Min(nblk, hole);
            if (write)
            {
                if ((flags & IomapOpFlags.IOMAP_NOWAIT) != 0) return -Errno.EAGAIN;
                var r = _fs.AllocateBlocks(di, fblk, n, unwritten: false, out var ne);
                if (r < 0) return (int)r;
                iomap.Type = IomapType.IOMAP_MAPPED;
                iomap.Flags |= IomapFlags.IOMAP_F_NEW;
                iomap.Addr = (ulong)(ne!.DevBlock << shift);
                iomap.Length = (ulong)(ne.Count << shift);
            }
            else
            {
                iomap.Type = IomapType.IOMAP_HOLE;
                iomap.Addr = Iomap.NullAddr;
                iomap.Length = (ulong)(n << shift);
            }
        }
        else
        {
            var n = Math.Min(nblk, e.FileEnd - fblk);
            iomap.Addr = (ulong)(e.DevOf(fblk) << shift);
            iomap.Length = (ulong)(n << shift);
            if (e.Unwritten && write)
            {
                if ((flags & IomapOpFlags.IOMAP_NOWAIT) != 0) return -Errno.EAGAIN;
                var r = _fs.ConvertUnwritten(di, e, fblk, n);
                if (r < 0) return r;
                iomap.Type = IomapType.IOMAP_MAPPED;
                iomap.Flags |= IomapFlags.IOMAP_F_NEW;
            }
            else
            {
                iomap.Type = e.Unwritten ? IomapType.IOMAP_UNWRITTEN : IomapType.IOMAP_MAPPED;
            }
        }
        if (di.MetadataDirty && (flags & (IomapOpFlags.IOMAP_WRITE | IomapOpFlags.IOMAP_FAULT)) == (IomapOpFlags.IOMAP_WRITE | IomapOpFlags.IOMAP_FAULT))
            iomap.Flags |= IomapFlags.IOMAP_F_DIRTY;
        // The log entry written field by field in its slot (a whole tuple built on the stack is copied with wide loads
        // that cannot be forwarded from its narrow stores).
        ref var entry = ref Log.AddSlot();
        entry.Pos = pos;
        entry.Length = length;
        entry.Flags = flags;
        entry.Type = iomap.Type;
        entry.Offset = iomap.Offset;
        entry.MapLength = iomap.Length;
        entry.Addr = iomap.Addr;
        entry.MapFlags = iomap.Flags;
        return 0;
    }

    /// <inheritdoc/>
    public int IomapEnd(Inode inode, long pos, long length, long written, IomapOpFlags flags, Iomap iomap) => 0;
}
