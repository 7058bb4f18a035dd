using KernelSim.Dax;

namespace KernelSim.Fs.Dax;

/// <summary>IOMAP_* mapping types (include/linux/iomap.h).</summary>
public enum IomapType
{
    /// <summary>IOMAP_HOLE: no blocks allocated; reads see zeros.</summary>
    IOMAP_HOLE = 0,
    /// <summary>IOMAP_DELALLOC: delayed allocation (not used by the DAX filesystem).</summary>
    IOMAP_DELALLOC = 1,
    /// <summary>IOMAP_MAPPED: blocks allocated and written.</summary>
    IOMAP_MAPPED = 2,
    /// <summary>IOMAP_UNWRITTEN: blocks allocated but reading as zeros (fallocate).</summary>
    IOMAP_UNWRITTEN = 3,
    /// <summary>IOMAP_INLINE: data inline in metadata.</summary>
    IOMAP_INLINE = 4,
}

/// <summary>iomap-&gt;flags (IOMAP_F_*).</summary>
[Flags]
public enum IomapFlags
{
    None = 0,
    /// <summary>IOMAP_F_NEW: blocks allocated (or converted) by this iomap_begin.</summary>
    IOMAP_F_NEW = 0x01,
    /// <summary>IOMAP_F_DIRTY: the inode has uncommitted metadata (MAP_SYNC faults must fsync first).</summary>
    IOMAP_F_DIRTY = 0x02,
    /// <summary>IOMAP_F_SHARED: shared (reflinked) blocks: write is copy-on-write.</summary>
    IOMAP_F_SHARED = 0x04,
}

/// <summary>The flags an iomap_begin caller passes (IOMAP_WRITE, IOMAP_ZERO, …).</summary>
[Flags]
public enum IomapOpFlags
{
    None = 0,
    /// <summary>IOMAP_WRITE.</summary>
    IOMAP_WRITE = 1 << 0,
    /// <summary>IOMAP_ZERO.</summary>
    IOMAP_ZERO = 1 << 1,
    /// <summary>IOMAP_REPORT (fiemap).</summary>
    IOMAP_REPORT = 1 << 2,
    /// <summary>IOMAP_FAULT.</summary>
    IOMAP_FAULT = 1 << 3,
    /// <summary>IOMAP_DIRECT.</summary>
    IOMAP_DIRECT = 1 << 4,
    /// <summary>IOMAP_NOWAIT: do not block (-EAGAIN instead).</summary>
    IOMAP_NOWAIT = 1 << 5,
    /// <summary>IOMAP_DAX.</summary>
    IOMAP_DAX = 1 << 8,
}

/// <summary>
/// struct iomap (include/linux/iomap.h): one mapping of a file range [Offset, Offset+Length) to the device
/// (Addr, a byte offset on the device; <see cref="NullAddr"/> for holes) as iomap_begin returns it.
/// </summary>
public sealed class Iomap
{
    /// <summary>IOMAP_NULL_ADDR.</summary>
    public const ulong NullAddr = ulong.MaxValue;

    /// <summary>Device byte offset of <see cref="Offset"/> (IOMAP_NULL_ADDR for holes).</summary>
    public ulong Addr { get; set; } = NullAddr;
    /// <summary>File offset the mapping starts at.</summary>
    public long Offset { get; set; }
    /// <summary>Length of the mapping in bytes.</summary>
    public ulong Length { get; set; }
    /// <summary>Mapping type.</summary>
    public IomapType Type { get; set; }
    /// <summary>IOMAP_F_* flags.</summary>
    public IomapFlags Flags { get; set; }
    /// <summary>iomap-&gt;dax_dev: the DAX device for DAX I/O (null for block I/O).</summary>
    public DaxDevice? DaxDev
    {
        get => _hasDaxDev ? _daxDev : null;
        set
        {
            // The same device on every call of a mount: no reference store (a GC write barrier) per iomap_begin.
            if (!ReferenceEquals(_daxDev, value)) _daxDev = value;
            _hasDaxDev = true;
        }
    }

    // dax_dev as last set, and whether it was set since the last Reset (Reset clears the flag, not the reference).
    private DaxDevice? _daxDev;
    private bool _hasDaxDev;
    /// <summary>iomap-&gt;private: the filesystem's own cookie between iomap_begin and iomap_end (fuse_iomap_begin keeps its dax mapping here).</summary>
    public object? Private { get; set; }

    /// <summary>Back to a zeroed struct iomap (iomap_iter clears iter-&gt;iomap before each -&gt;iomap_begin).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void Reset()
    {
        Addr = NullAddr;
        Offset = 0;
        Length = 0;
        Type = IomapType.IOMAP_HOLE;
        Flags = IomapFlags.None;
        _hasDaxDev = false; // reads as null until set again
        Private = null;
    }

    /// <summary>dax_iomap_pgoff(iomap, pos) (fs/dax.c): the device page offset of file position pos.</summary>
    public ulong PgOff(long pos) => unchecked(Addr + ((ulong)pos & KernelSim.Mm.PageDefs.PAGE_MASK) - (ulong)Offset) >> KernelSim.Mm.PageDefs.PAGE_SHIFT;

    /// <inheritdoc/>
    public override string ToString() => $"iomap {Type} off={Offset} len={Length} addr={(Addr == NullAddr ? "null" : $"0x{Addr:x}")} flags={Flags}";
}

/// <summary>struct iomap_ops: how a filesystem maps file ranges (-&gt;iomap_begin / -&gt;iomap_end).</summary>
public interface IIomapOps
{
    /// <summary>
    /// -&gt;iomap_begin(inode, pos, length, flags, &amp;iomap, &amp;srcmap): fill <paramref name="iomap"/> for a range
    /// starting at pos (it may be shorter than length); IOMAP_WRITE allocates. 0 or −errno.
    /// </summary>
    int IomapBegin(Inode inode, long pos, long length, IomapOpFlags flags, Iomap iomap);

    /// <summary>-&gt;iomap_end(inode, pos, length, written, flags, iomap): 0 or −errno.</summary>
    int IomapEnd(Inode inode, long pos, long length, long written, IomapOpFlags flags, Iomap iomap);
}
