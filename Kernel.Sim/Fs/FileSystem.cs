using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// A mounted filesystem (struct super_block plus the inode/dentry operations the model needs:
/// lookup, create, unlink and open). Paths are relative to the mount point, without a leading '/'.
/// </summary>
public abstract class FileSystem
{
    /// <summary>Create a filesystem instance on a machine.</summary>
    protected FileSystem(Machine machine, string name)
    {
        Machine = machine;
        Name = name;
    }

    /// <summary>The machine it is mounted on.</summary>
    public Machine Machine { get; }

    /// <summary>s_type->name as it appears in traces ("ramfs").</summary>
    public string Name { get; }

    /// <summary>Where it is mounted ("/mnt/ramfs"); set by <see cref="Vfs.Mount"/>.</summary>
    public string MountPoint { get; internal set; } = "/";

    /// <summary>s_maxbytes: the largest file offset (MAX_LFS_FILESIZE by default).</summary>
    public long MaxBytes { get; protected init; } = long.MaxValue;

    /// <summary>Look a file up by its path in this filesystem; null when absent.</summary>
    public abstract Inode? Lookup(string path);

    /// <summary>Create a regular file (->create); −EEXIST if it exists.</summary>
    public abstract long Create(string path, int mode, out Inode? inode);

    /// <summary>unlink(2) on this filesystem: 0 or −ENOENT. Open files keep the inode.</summary>
    public abstract int Unlink(string path);

    /// <summary>->open: build the struct file for an opened inode (f_op and f_mode are the filesystem's).</summary>
    public abstract KFile OpenInode(Inode inode, int flags);

    /// <summary>
    /// do_sys_open's path walk and open for this filesystem: O_CREAT/O_EXCL/O_TRUNC handling, then
    /// <see cref="OpenInode"/>. Returns 0 with the file, or −errno.
    /// </summary>
    public virtual int Open(string path, int flags, int mode, out KFile? file)
    {
        file = null;
        var inode = Lookup(path);
        if (inode == null)
        {
            if ((flags & Fcntl.O_CREAT) == 0) return -Errno.ENOENT;
            var r = Create(path, mode, out inode);
            if (r < 0) return (int)r;
        }
        else if ((flags & (Fcntl.O_CREAT | Fcntl.O_EXCL)) == (Fcntl.O_CREAT | Fcntl.O_EXCL))
        {
            return -Errno.EEXIST;
        }
        if ((flags & Fcntl.O_TRUNC) != 0 && (flags & Fcntl.O_ACCMODE) != Fcntl.O_RDONLY)
        {
            var t = Truncate(inode!, 0);
            if (t < 0) return t;
        }
        file = OpenInode(inode!, flags);
        return 0;
    }

    /// <summary>readlink(2) of <paramref name="path"/>: 0 with the link text, −ENOENT when absent, −EINVAL when it is not a link.</summary>
    public virtual int Readlink(string path, out string? target)
    {
        target = null;
        return Lookup(path) == null ? -Errno.ENOENT : -Errno.EINVAL;
    }

    /// <summary>Set i_size (truncate/ftruncate); the page cache beyond it is dropped. 0 or −errno.</summary>
    public virtual int Truncate(Inode inode, long size)
    {
        if (size < 0) return -Errno.EINVAL;
        inode.Size = size;
        return 0;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} on {MountPoint}";
}
