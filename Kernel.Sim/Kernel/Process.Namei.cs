using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>current-&gt;fs-&gt;umask: the permission bits open(O_CREAT) clears (0022 by default).</summary>
    public int Umask { get; private set; } = 0x12;

    /// <summary>umask(2) (kernel/sys.c): set the mask to <paramref name="mask"/> &amp; 0777; returns the previous mask.</summary>
    public long SetUmask(int mask) => Machine.Syscall(this, "sys_umask", () =>
    {
        var old = Umask;
        Umask = mask & 0x1ff;
        return old;
    });

    /// <summary>
    /// unlink(2) (fs/namei.c do_unlinkat): the path walk over the machine's mounts, then the filesystem's -&gt;unlink
    /// (<see cref="Fs.FileSystem.Unlink"/>): 0 or −errno (−ENOENT for a missing name; open files keep the inode).
    /// </summary>
    public long Unlink(string path) => Machine.Syscall(this, "sys_unlink", () =>
    {
        var r = Machine.Vfs.Resolve(path, out var fs, out var rest);
        if (r < 0) return r;
        if (rest.Length == 0) return -Errno.EISDIR;
        return fs!.Unlink(rest);
    });
}
