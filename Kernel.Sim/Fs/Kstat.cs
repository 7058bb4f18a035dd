namespace KernelSim.Fs;

/// <summary>
/// struct kstat (include/linux/stat.h): what -&gt;getattr fills for stat(2) and statx(2). Times are nanoseconds since
/// the epoch of the machine's clock.
/// </summary>
public sealed class Kstat
{
    /// <summary>result_mask: the STATX_* fields that hold values.</summary>
    public uint ResultMask { get; set; }
    /// <summary>mode (S_IFMT | permissions).</summary>
    public int Mode { get; set; }
    /// <summary>nlink.</summary>
    public uint Nlink { get; set; }
    /// <summary>blksize: the preferred I/O size.</summary>
    public uint Blksize { get; set; }
    /// <summary>attributes: STATX_ATTR_* bits set for this file.</summary>
    public ulong Attributes { get; set; }
    /// <summary>attributes_mask: the STATX_ATTR_* bits the filesystem and VFS support (a clear bit there means "unknown").</summary>
    public ulong AttributesMask { get; set; }
    /// <summary>ino.</summary>
    public ulong Ino { get; set; }
    /// <summary>dev (major, minor) of the filesystem.</summary>
    public (uint Major, uint Minor) Dev { get; set; }
    /// <summary>rdev (major, minor) of a device node.</summary>
    public (uint Major, uint Minor) Rdev { get; set; }
    /// <summary>uid.</summary>
    public uint Uid { get; set; }
    /// <summary>gid.</summary>
    public uint Gid { get; set; }
    /// <summary>size in bytes.</summary>
    public long Size { get; set; }
    /// <summary>atime (ns).</summary>
    public long Atime { get; set; }
    /// <summary>mtime (ns).</summary>
    public long Mtime { get; set; }
    /// <summary>ctime (ns).</summary>
    public long Ctime { get; set; }
    /// <summary>btime (ns), valid with STATX_BTIME.</summary>
    public long Btime { get; set; }
    /// <summary>blocks: 512-byte units allocated.</summary>
    public long Blocks { get; set; }
    /// <summary>mnt_id (5.8+, with STATX_MNT_ID).</summary>
    public ulong MntId { get; set; }
}

/// <summary>
/// struct fileattr (include/linux/fileattr.h, 5.13+; the per-filesystem FS_IOC_* handlers before): the FS_*_FL flags
/// and the struct fsxattr fields of FS_IOC_FSGETXATTR / FS_IOC_FSSETXATTR, and which of the two forms is valid.
/// </summary>
public struct Fileattr
{
    /// <summary>flags: FS_*_FL.</summary>
    public uint Flags;
    /// <summary>fsx_xflags: FS_XFLAG_*.</summary>
    public uint Xflags;
    /// <summary>fsx_extsize.</summary>
    public uint Extsize;
    /// <summary>fsx_nextents.</summary>
    public uint Nextents;
    /// <summary>fsx_projid.</summary>
    public uint Projid;
    /// <summary>fsx_cowextsize.</summary>
    public uint Cowextsize;
    /// <summary>flags_valid: set by FS_IOC_SETFLAGS.</summary>
    public bool FlagsValid;
    /// <summary>fsx_valid: set by FS_IOC_FSSETXATTR.</summary>
    public bool FsxValid;

    /// <summary>fileattr_fill_xflags (fs/ioctl.c): fsx_xflags and the FS_*_FL twins of the common ones; the rest zero.</summary>
    public static Fileattr FromXflags(uint xflags)
    {
        var fa = new Fileattr { FsxValid = true, Xflags = xflags };
        foreach (var (x, f) in Pairs) if ((xflags & x) != 0) fa.Flags |= f;
        return fa;
    }

    /// <summary>fileattr_fill_flags (fs/ioctl.c): flags and the FS_XFLAG_* twins of the common ones; the rest zero.</summary>
    public static Fileattr FromFlags(uint flags)
    {
        var fa = new Fileattr { FlagsValid = true, Flags = flags };
        foreach (var (x, f) in Pairs) if ((flags & f) != 0) fa.Xflags |= x;
        return fa;
    }

    private static readonly (uint X, uint F)[] Pairs =
    [
        (Uapi.FsIoctl.FS_XFLAG_SYNC, Uapi.FsIoctl.FS_SYNC_FL), (Uapi.FsIoctl.FS_XFLAG_IMMUTABLE, Uapi.FsIoctl.FS_IMMUTABLE_FL),
        (Uapi.FsIoctl.FS_XFLAG_APPEND, Uapi.FsIoctl.FS_APPEND_FL), (Uapi.FsIoctl.FS_XFLAG_NODUMP, Uapi.FsIoctl.FS_NODUMP_FL),
        (Uapi.FsIoctl.FS_XFLAG_NOATIME, Uapi.FsIoctl.FS_NOATIME_FL), (Uapi.FsIoctl.FS_XFLAG_DAX, Uapi.FsIoctl.FS_DAX_FL),
        (Uapi.FsIoctl.FS_XFLAG_PROJINHERIT, Uapi.FsIoctl.FS_PROJINHERIT_FL),
    ];
}
