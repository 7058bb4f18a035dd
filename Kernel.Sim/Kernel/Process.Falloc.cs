using KernelSim.Fs;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// ftruncate(2) (fs/open.c do_sys_ftruncate): −EINVAL for a negative length, −EBADF for a bad fd, −EINVAL for a
    /// file not open for writing, then the filesystem's setattr(ATTR_SIZE) (<see cref="FileSystem.Truncate"/>).
    /// </summary>
    public long Ftruncate(int fd, long length) => Machine.Syscall(this, "sys_ftruncate", () =>
    {
        if (length < 0) return -Errno.EINVAL;
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        if ((f.Mode & KFile.FMODE_WRITE) == 0) return -Errno.EINVAL;
        if (length > f.Inode.Sb.MaxBytes) return -Errno.EFBIG;
        return f.Inode.Sb.Truncate(f.Inode, length);
    });

    /// <summary>
    /// fallocate(2) (fs/open.c vfs_fallocate): −EINVAL for offset &lt; 0 or len ≤ 0 or unknown mode bits; PUNCH_HOLE
    /// without KEEP_SIZE → −EOPNOTSUPP; −EBADF for a file not open for writing; −EFBIG when offset+len overflows or
    /// passes s_maxbytes; then ->fallocate.
    /// </summary>
    public long Fallocate(int fd, int mode, long offset, long len) => Machine.Syscall(this, "sys_fallocate", () =>
    {
        if (offset < 0 || len <= 0) return -Errno.EINVAL;
        const int known = Fcntl.FALLOC_FL_KEEP_SIZE | Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_COLLAPSE_RANGE |
                          Fcntl.FALLOC_FL_ZERO_RANGE | Fcntl.FALLOC_FL_INSERT_RANGE;
        if ((mode & ~known) != 0) return -Errno.EOPNOTSUPP;
        if ((mode & Fcntl.FALLOC_FL_PUNCH_HOLE) != 0 && (mode & Fcntl.FALLOC_FL_KEEP_SIZE) == 0) return -Errno.EOPNOTSUPP;
        if ((mode & Fcntl.FALLOC_FL_PUNCH_HOLE) != 0 && (mode & Fcntl.FALLOC_FL_ZERO_RANGE) != 0) return -Errno.EOPNOTSUPP;
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        if ((f.Mode & KFile.FMODE_WRITE) == 0) return -Errno.EBADF;
        if (unchecked(offset + len) < 0 || offset + len > f.Inode.Sb.MaxBytes) return -Errno.EFBIG;
        return f.Fallocate(mode, offset, len);
    });
}
