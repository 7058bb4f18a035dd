using KernelSim.Fs;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>The open-file table (files_struct->fdt->fd); index = fd.</summary>
    private readonly List<KFile?> _fds = [];

    /// <summary>RLIMIT_NOFILE (soft) for this process.</summary>
    public int NofileLimit { get; set; } = 1024;

    /// <summary>The file open at <paramref name="fd"/> (fdget), or null.</summary>
    public KFile? FileAt(int fd) => fd >= 0 && fd < _fds.Count ? _fds[fd] : null;

    /// <summary>
    /// open(2) (fs/open.c do_sys_open): build_open_flags, the path walk over the machine's mounts, O_CREAT /
    /// O_EXCL / O_TRUNC, then the lowest free descriptor (get_unused_fd_flags). Returns the fd or −errno
    /// (−ENOENT, −EEXIST, −EMFILE, …).
    /// </summary>
    public long Open(string path, int flags, int mode = 0x1a4) =>
        Machine.Syscall(this, "sys_openat", (P: this, Path: path, Flags: flags, Mode: mode), static s => s.P.OpenBody(s.Path, s.Flags, s.Mode));

    // The bodies of open and close run from static lambdas: no closure per call (ndctl opens and closes dozens of sysfs files).
    private long OpenBody(string path, int flags, int mode)
    {
        var fd = GetUnusedFd();
        if (fd < 0) return fd;
        var vfs = Machine.Vfs;
        var r = vfs.ResolveAt(path, out var fs, out var at);
        if (r < 0) return r;
        // lookup_open: without POSIX ACLs the VFS clears the umask bits of a new file's mode (mode_strip_umask).
        r = fs!.OpenAt(path, at, flags & ~Fcntl.O_CLOEXEC, (flags & Fcntl.O_CREAT) != 0 ? mode & ~Umask : mode, out var file);
        if (r < 0) return r;
        while (_fds.Count <= fd) _fds.Add(null);
        file!.Path ??= path;
        _fds[fd] = file;
        return fd;
    }

    /// <summary>close(2): 0 or −EBADF.</summary>
    public long Close(int fd) => Machine.Syscall(this, "sys_close", (P: this, Fd: fd), static s => s.P.CloseBody(s.Fd));

    private long CloseBody(int fd)
    {
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        _fds[fd] = null;
        Fput(f);
        return 0;
    }

    private int GetUnusedFd()
    {
        for (var fd = 0; fd < _fds.Count; fd++)
            if (_fds[fd] == null) return fd < NofileLimit ? fd : -Errno.EMFILE;
        return _fds.Count < NofileLimit ? _fds.Count : -Errno.EMFILE;
    }
}
