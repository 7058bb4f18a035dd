namespace KernelSim.Uapi;

/// <summary>
/// open(2) flags, lseek whence values and preadv2/pwritev2 RWF_* flags as on x86-64
/// (include/uapi/asm-generic/fcntl.h, include/uapi/linux/fs.h).
/// </summary>
public static class Fcntl
{
    public const int O_ACCMODE = 0x3;
    public const int O_RDONLY = 0x0;
    public const int O_WRONLY = 0x1;
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_NOCTTY = 0x100;
    public const int O_TRUNC = 0x200;
    public const int O_APPEND = 0x400;
    public const int O_NONBLOCK = 0x800;
    public const int O_DSYNC = 0x1000;
    public const int O_DIRECT = 0x4000;
    public const int O_LARGEFILE = 0x8000;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_NOATIME = 0x40000;
    public const int O_CLOEXEC = 0x80000;
    /// <summary>__O_SYNC | O_DSYNC.</summary>
    public const int O_SYNC = 0x101000;
    public const int O_PATH = 0x200000;

    public const int SEEK_SET = 0;
    public const int SEEK_CUR = 1;
    public const int SEEK_END = 2;
    public const int SEEK_DATA = 3;
    public const int SEEK_HOLE = 4;

    /// <summary>RWF_HIPRI: high-priority (polled) request.</summary>
    public const int RWF_HIPRI = 0x01;
    /// <summary>RWF_DSYNC: per-I/O O_DSYNC.</summary>
    public const int RWF_DSYNC = 0x02;
    /// <summary>RWF_SYNC: per-I/O O_SYNC.</summary>
    public const int RWF_SYNC = 0x04;
    /// <summary>RWF_NOWAIT: do not wait for data that is not immediately available (4.14+).</summary>
    public const int RWF_NOWAIT = 0x08;
    /// <summary>RWF_APPEND: per-I/O O_APPEND (4.16+).</summary>
    public const int RWF_APPEND = 0x10;
    /// <summary>RWF_NOAPPEND: per-I/O !O_APPEND (6.9+; not modelled: rejected as unsupported).</summary>
    public const int RWF_NOAPPEND = 0x20;
    /// <summary>RWF_ATOMIC: untorn writes (6.11+; needs FMODE_CAN_ATOMIC_WRITE).</summary>
    public const int RWF_ATOMIC = 0x40;
    /// <summary>RWF_DONTCACHE: uncached buffered I/O (6.14+; needs FOP_DONTCACHE).</summary>
    public const int RWF_DONTCACHE = 0x80;

    /// <summary>The RWF_* flags kiocb_set_rw_flags accepts in this model (RWF_SUPPORTED of 4.16–6.8).</summary>
    public const int RWF_SUPPORTED = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND;

    /// <summary>S_IFREG | 0644: a regular file's default mode.</summary>
    public const int S_IFREG = 0x8000;
    /// <summary>S_IFDIR: directory.</summary>
    public const int S_IFDIR = 0x4000;
    /// <summary>S_IFMT: the file-type bits of a mode.</summary>
    public const int S_IFMT = 0xf000;
    /// <summary>S_IFLNK: symbolic link.</summary>
    public const int S_IFLNK = 0xa000;
    /// <summary>S_IFBLK: block device.</summary>
    public const int S_IFBLK = 0x6000;
    /// <summary>S_IFCHR: character device.</summary>
    public const int S_IFCHR = 0x2000;

    /// <summary>FALLOC_FL_KEEP_SIZE (include/uapi/linux/falloc.h): do not change i_size.</summary>
    public const int FALLOC_FL_KEEP_SIZE = 0x01;
    /// <summary>FALLOC_FL_PUNCH_HOLE: deallocate the range (needs KEEP_SIZE).</summary>
    public const int FALLOC_FL_PUNCH_HOLE = 0x02;
    /// <summary>FALLOC_FL_COLLAPSE_RANGE.</summary>
    public const int FALLOC_FL_COLLAPSE_RANGE = 0x08;
    /// <summary>FALLOC_FL_ZERO_RANGE: make the range read as zeros.</summary>
    public const int FALLOC_FL_ZERO_RANGE = 0x10;
    /// <summary>FALLOC_FL_INSERT_RANGE.</summary>
    public const int FALLOC_FL_INSERT_RANGE = 0x20;
}
