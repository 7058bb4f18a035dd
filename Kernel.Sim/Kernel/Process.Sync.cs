using KernelSim.Fs;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>fdatasync(2) (do_fsync(fd, 1) → vfs_fsync_range(file, 0, LLONG_MAX, datasync=1)): −EBADF, −EINVAL without -&gt;fsync.</summary>
    public long Fdatasync(int fd) => Machine.Syscall(this, "sys_fdatasync", () =>
    {
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        return f.Fsync(0, long.MaxValue, true);
    });

    /// <summary>
    /// sync(2) (fs/sync.c ksys_sync): every mounted filesystem writes back its dirty inodes and runs -&gt;sync_fs
    /// (<see cref="FileSystem.SyncFs"/>); errors are not reported — sync always returns 0.
    /// </summary>
    public long Sync() => Machine.Syscall(this, "sys_sync", () =>
    {
        foreach (var fs in Machine.Vfs.Mounts.ToArray()) fs.SyncFs(true);
        return 0;
    });

    /// <summary>
    /// syncfs(2) (fs/sync.c): −EBADF; sync_filesystem of the file's filesystem; from 5.8 also the superblock's
    /// writeback error not yet seen through this file (errseq_check_and_advance of s_wb_err against f_sb_err).
    /// </summary>
    public long Syncfs(int fd) => Machine.Syscall(this, "sys_syncfs", () =>
    {
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        var sb = f.Inode.Sb;
        var ret = sb.SyncFs(true);
        if (!Machine.Profile.SyncfsReportsWbErr) return ret;
        var ret2 = sb.WbErrCheckAndAdvance(ref f.SbErrSince);
        return ret != 0 ? ret : ret2;
    });

    /// <summary>
    /// mkdir(2) (do_mkdirat → vfs_mkdir): mode &amp; ~umask (022); −EEXIST for a mount point, −EPERM when the filesystem
    /// has no -&gt;mkdir. Paths are absolute or relative to "/".
    /// </summary>
    public long Mkdir(string path, int mode = 0x1ff) => Machine.Syscall(this, "sys_mkdirat", () =>
    {
        var r = Machine.Vfs.Resolve(path.Length > 0 && path[0] != '/' ? "/" + path : path, out var fs, out var rest);
        if (r < 0) return r;
        if (rest.Length == 0) return -Errno.EEXIST;
        return fs!.Mkdir(rest, mode & 0xfff & ~0x12);
    });

    /// <summary>rmdir(2) (do_rmdir → vfs_rmdir): −EBUSY for a mount point, −EPERM when the filesystem has no -&gt;rmdir.</summary>
    public long Rmdir(string path) => Machine.Syscall(this, "sys_rmdir", () =>
    {
        var r = Machine.Vfs.Resolve(path.Length > 0 && path[0] != '/' ? "/" + path : path, out var fs, out var rest);
        if (r < 0) return r;
        if (rest.Length == 0) return -Errno.EBUSY;
        return fs!.Rmdir(rest);
    });
}
