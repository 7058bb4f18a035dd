using System.Runtime.CompilerServices;

namespace KernelSim.Fs.Dax;

/// <summary>
/// struct iomap_iter and iomap_iter() (fs/iomap/iter.c, 5.15+; iomap_apply before): walks a file range one
/// mapping at a time. Each step ends the previous mapping (-&gt;iomap_end with what was processed), stops on an
/// error or on no progress, advances by the bytes processed and begins the next mapping (-&gt;iomap_begin).
/// </summary>
public sealed class IomapIter
{
    private bool _started;

    /// <summary>Start an iteration over [pos, pos+len) of inode.</summary>
    public IomapIter(Inode inode, long pos, long len, IomapOpFlags flags)
    {
        Inode = inode;
        Pos = pos;
        Len = len;
        Flags = flags;
    }

    /// <summary>Start a new iteration on this object (as a fresh iomap_iter on the stack), so callers can reuse it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Reset(Inode inode, long pos, long len, IomapOpFlags flags)
    {
        if (!ReferenceEquals(Inode, inode)) Inode = inode; // the same inode again on most calls: no reference store
        Pos = pos;
        Len = len;
        Flags = flags;
        Processed = 0;
        _started = false;
        Iomap.Reset();
    }

    /// <summary>iter-&gt;inode.</summary>
    public Inode Inode { get; private set; }
    /// <summary>iter-&gt;pos: the current file position.</summary>
    public long Pos { get; private set; }
    /// <summary>iter-&gt;len: bytes remaining.</summary>
    public long Len { get; private set; }
    /// <summary>iter-&gt;flags.</summary>
    public IomapOpFlags Flags { get; private set; }
    /// <summary>iter-&gt;iomap: the current mapping (one object, cleared before each -&gt;iomap_begin).</summary>
    public Iomap Iomap { get; } = new();
    /// <summary>iter-&gt;processed (≤6.14; iter-&gt;status plus the advance from 6.15): bytes done in this mapping, or −errno.</summary>
    public long Processed { get; set; }

    /// <summary>iomap_length(iter): bytes of the current mapping from pos, clipped to what remains.</summary>
    public long Length
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Math.Min((long)((ulong)Iomap.Offset + Iomap.Length - (ulong)Pos), Len);
    }

    /// <summary>
    /// iomap_iter(iter, ops): &gt;0 to process the next mapping, 0 when done, −errno on error. daxfs's ops are called
    /// directly (a sealed type test instead of an interface dispatch per call; the same calls in the same order).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Next(IIomapOps ops)
    {
        var daxfs = ops as DaxFsIomapOps;
        if (_started)
        {
            if (daxfs == null) ops.IomapEnd(Inode, Pos, Length, Processed > 0 ? Processed : 0, Flags, Iomap);
            else daxfs.IomapEnd(Inode, Pos, Length, Processed > 0 ? Processed : 0, Flags, Iomap);
            if (Processed < 0) return (int)Processed;
            if (Processed == 0) return 0;
            Pos += Processed;
            Len -= Processed;
            if (Len <= 0) return 0;
        }
        _started = true;
        Processed = 0;
        Iomap.Reset();
        var r = daxfs != null ? daxfs.IomapBegin(Inode, Pos, Len, Flags, Iomap) : ops.IomapBegin(Inode, Pos, Len, Flags, Iomap);
        if (r < 0) return r;
        if (Iomap.Length == 0 || Iomap.Offset > Pos || (ulong)Iomap.Offset + Iomap.Length <= (ulong)Pos) return -KernelSim.Uapi.Errno.EIO; // iomap_iter_done WARNs
        return 1;
    }
}
