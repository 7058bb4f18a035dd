namespace KernelSim.Uapi;

/// <summary>
/// include/uapi/linux/stat.h and fcntl.h for stat(2) / statx(2): the STATX_* request and result bits, the STATX_ATTR_*
/// attributes, the AT_* flags and the x86-64 sizes of struct stat and struct statx.
/// </summary>
public static class Stat
{
    /// <summary>sizeof(struct stat) on x86-64.</summary>
    public const int StatSize = 144;
    /// <summary>sizeof(struct statx).</summary>
    public const int StatxSize = 256;

    /// <summary>STATX_TYPE: stx_mode &amp; S_IFMT.</summary>
    public const uint STATX_TYPE = 0x0001;
    /// <summary>STATX_MODE: stx_mode &amp; ~S_IFMT.</summary>
    public const uint STATX_MODE = 0x0002;
    /// <summary>STATX_NLINK.</summary>
    public const uint STATX_NLINK = 0x0004;
    /// <summary>STATX_UID.</summary>
    public const uint STATX_UID = 0x0008;
    /// <summary>STATX_GID.</summary>
    public const uint STATX_GID = 0x0010;
    /// <summary>STATX_ATIME.</summary>
    public const uint STATX_ATIME = 0x0020;
    /// <summary>STATX_MTIME.</summary>
    public const uint STATX_MTIME = 0x0040;
    /// <summary>STATX_CTIME.</summary>
    public const uint STATX_CTIME = 0x0080;
    /// <summary>STATX_INO.</summary>
    public const uint STATX_INO = 0x0100;
    /// <summary>STATX_SIZE.</summary>
    public const uint STATX_SIZE = 0x0200;
    /// <summary>STATX_BLOCKS.</summary>
    public const uint STATX_BLOCKS = 0x0400;
    /// <summary>STATX_BASIC_STATS: what stat(2) returns (0x7ff).</summary>
    public const uint STATX_BASIC_STATS = 0x07ff;
    /// <summary>STATX_BTIME: stx_btime (the filesystem must supply it).</summary>
    public const uint STATX_BTIME = 0x0800;
    /// <summary>STATX_MNT_ID: stx_mnt_id (5.8+).</summary>
    public const uint STATX_MNT_ID = 0x1000;
    /// <summary>STATX__RESERVED: reserved for a future struct statx; requesting it is −EINVAL.</summary>
    public const uint STATX__RESERVED = 0x80000000;

    /// <summary>STATX_ATTR_AUTOMOUNT: a directory that is an automount trigger.</summary>
    public const ulong STATX_ATTR_AUTOMOUNT = 0x00001000;
    /// <summary>STATX_ATTR_MOUNT_ROOT: the root of a mount (5.8+).</summary>
    public const ulong STATX_ATTR_MOUNT_ROOT = 0x00002000;
    /// <summary>STATX_ATTR_DAX as 5.10+ defines it (72d1249e2ffd); 5.8 and 5.9 used 0x2000, the value of STATX_ATTR_MOUNT_ROOT.</summary>
    public const ulong STATX_ATTR_DAX = 0x00200000;
    /// <summary>STATX_ATTR_DAX as first merged in 5.8 (712b2698e4c0), colliding with STATX_ATTR_MOUNT_ROOT.</summary>
    public const ulong STATX_ATTR_DAX_5_8 = 0x00002000;

    /// <summary>AT_FDCWD: a relative path starts at the current directory.</summary>
    public const int AT_FDCWD = -100;
    /// <summary>AT_SYMLINK_NOFOLLOW.</summary>
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    /// <summary>AT_NO_AUTOMOUNT.</summary>
    public const int AT_NO_AUTOMOUNT = 0x800;
    /// <summary>AT_EMPTY_PATH: an empty path names dirfd itself.</summary>
    public const int AT_EMPTY_PATH = 0x1000;
    /// <summary>AT_STATX_SYNC_TYPE: both sync bits set is −EINVAL.</summary>
    public const int AT_STATX_SYNC_TYPE = 0x6000;
    /// <summary>AT_STATX_FORCE_SYNC.</summary>
    public const int AT_STATX_FORCE_SYNC = 0x2000;
    /// <summary>AT_STATX_DONT_SYNC.</summary>
    public const int AT_STATX_DONT_SYNC = 0x4000;

    /// <summary>new_encode_dev (include/linux/kdev_t.h): the st_dev / st_rdev encoding of major:minor.</summary>
    public static ulong NewEncodeDev(uint major, uint minor) => (minor & 0xff) | (major << 8) | ((ulong)(minor & ~0xffu) << 12);
}

/// <summary>
/// The VFS file-attribute ioctls (include/uapi/linux/fs.h): FIBMAP, FIGETBSZ, FIONREAD, FIONBIO, FS_IOC_GETFLAGS /
/// SETFLAGS with the FS_*_FL bits and FS_IOC_FSGETXATTR / FSSETXATTR with struct fsxattr and the FS_XFLAG_* bits.
/// </summary>
public static class FsIoctl
{
    /// <summary>FIBMAP = _IO(0x00, 1): file block → device block (CAP_SYS_RAWIO).</summary>
    public static readonly uint FIBMAP = Ioctl.IO(0, 1);
    /// <summary>FIGETBSZ = _IO(0x00, 2): the filesystem block size.</summary>
    public static readonly uint FIGETBSZ = Ioctl.IO(0, 2);
    /// <summary>FIONREAD (asm-generic/ioctls.h): bytes from f_pos to i_size of a regular file.</summary>
    public const uint FIONREAD = 0x541B;
    /// <summary>FIONBIO: set or clear O_NONBLOCK.</summary>
    public const uint FIONBIO = 0x5421;
    /// <summary>FS_IOC_GETFLAGS = _IOR('f', 1, long).</summary>
    public static readonly uint FS_IOC_GETFLAGS = Ioctl.IOR('f', 1, 8);
    /// <summary>FS_IOC_SETFLAGS = _IOW('f', 2, long).</summary>
    public static readonly uint FS_IOC_SETFLAGS = Ioctl.IOW('f', 2, 8);
    /// <summary>FS_IOC_FSGETXATTR = _IOR('X', 31, struct fsxattr).</summary>
    public static readonly uint FS_IOC_FSGETXATTR = Ioctl.IOR('X', 31, FsxattrSize);
    /// <summary>FS_IOC_FSSETXATTR = _IOW('X', 32, struct fsxattr).</summary>
    public static readonly uint FS_IOC_FSSETXATTR = Ioctl.IOW('X', 32, FsxattrSize);

    /// <summary>sizeof(struct fsxattr): fsx_xflags, fsx_extsize, fsx_nextents, fsx_projid, fsx_cowextsize (u32 each), fsx_pad[8].</summary>
    public const uint FsxattrSize = 28;

    /// <summary>FS_XFLAG_SYNC.</summary>
    public const uint FS_XFLAG_SYNC = 0x00000020;
    /// <summary>FS_XFLAG_IMMUTABLE.</summary>
    public const uint FS_XFLAG_IMMUTABLE = 0x00000008;
    /// <summary>FS_XFLAG_APPEND.</summary>
    public const uint FS_XFLAG_APPEND = 0x00000010;
    /// <summary>FS_XFLAG_NOATIME.</summary>
    public const uint FS_XFLAG_NOATIME = 0x00000040;
    /// <summary>FS_XFLAG_NODUMP.</summary>
    public const uint FS_XFLAG_NODUMP = 0x00000080;
    /// <summary>FS_XFLAG_PROJINHERIT.</summary>
    public const uint FS_XFLAG_PROJINHERIT = 0x00000200;
    /// <summary>FS_XFLAG_DAX: the persistent per-inode "use DAX" flag (inherited by new files and directories).</summary>
    public const uint FS_XFLAG_DAX = 0x00008000;

    /// <summary>FS_SYNC_FL.</summary>
    public const uint FS_SYNC_FL = 0x00000008;
    /// <summary>FS_IMMUTABLE_FL.</summary>
    public const uint FS_IMMUTABLE_FL = 0x00000010;
    /// <summary>FS_APPEND_FL.</summary>
    public const uint FS_APPEND_FL = 0x00000020;
    /// <summary>FS_NODUMP_FL.</summary>
    public const uint FS_NODUMP_FL = 0x00000040;
    /// <summary>FS_NOATIME_FL.</summary>
    public const uint FS_NOATIME_FL = 0x00000080;
    /// <summary>FS_DAX_FL: FS_XFLAG_DAX as an FS_IOC_GETFLAGS bit.</summary>
    public const uint FS_DAX_FL = 0x02000000;
    /// <summary>FS_PROJINHERIT_FL.</summary>
    public const uint FS_PROJINHERIT_FL = 0x20000000;

    /// <summary>FS_XFLAG_COMMON (include/linux/fileattr.h): the xflags that have an FS_*_FL twin.</summary>
    public const uint FS_XFLAG_COMMON = FS_XFLAG_SYNC | FS_XFLAG_IMMUTABLE | FS_XFLAG_APPEND | FS_XFLAG_NODUMP | FS_XFLAG_NOATIME | FS_XFLAG_DAX | FS_XFLAG_PROJINHERIT;
    /// <summary>FS_COMMON_FL: the FS_*_FL flags that have an FS_XFLAG_* twin.</summary>
    public const uint FS_COMMON_FL = FS_SYNC_FL | FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL | FS_NOATIME_FL | FS_DAX_FL | FS_PROJINHERIT_FL;
}
