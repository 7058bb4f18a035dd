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

    /// <summary>s_blocksize (FIGETBSZ, st_blksize): PAGE_SIZE unless the filesystem says otherwise.</summary>
    public virtual uint BlockSize => 4096;

    /// <summary>s_dev as (major, minor): the block device's, or an anonymous (0, n) given at mount (set_anon_super).</summary>
    public (uint Major, uint Minor) Dev { get; protected internal set; }

    /// <summary>The mount's mnt_id (statx stx_mnt_id), given by <see cref="Vfs.Mount"/>.</summary>
    public int MntId { get; internal set; }

    /// <summary>Look a file up by its path in this filesystem; null when absent.</summary>
    public abstract Inode? Lookup(string path);

    /// <summary>
    /// Look a path up with or without following a final symbolic link (LOOKUP_FOLLOW, cleared by AT_SYMLINK_NOFOLLOW);
    /// filesystems without links answer as <see cref="Lookup(string)"/>.
    /// </summary>
    public virtual Inode? Lookup(string path, bool follow) => Lookup(path);

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

    /// <summary>
    /// <see cref="Open"/> of the path inside this filesystem that starts at <paramref name="at"/> in the absolute
    /// <paramref name="path"/> (<see cref="Vfs.ResolveAt"/>); a filesystem that can walk from an offset overrides it to
    /// save cutting the string.
    /// </summary>
    internal virtual int OpenAt(string path, int at, int flags, int mode, out KFile? file) => Open(Vfs.Rest(path, at), flags, mode, out file);

    /// <summary>
    /// <see cref="Readlink"/> of the path inside this filesystem that starts at <paramref name="at"/> in the absolute
    /// <paramref name="path"/>, as <see cref="OpenAt"/> does for open.
    /// </summary>
    internal virtual int ReadlinkAt(string path, int at, out string? target) => Readlink(Vfs.Rest(path, at), out target);

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

    /// <summary>
    /// -&gt;getattr(path, stat, request_mask, query_flags) (fs/stat.c vfs_getattr_nosec calls it after setting the
    /// VFS's own attributes): 0 or −errno. Default: generic_fillattr.
    /// </summary>
    public virtual int Getattr(Inode inode, Kstat stat, uint requestMask, int queryFlags)
    {
        GenericFillattr(inode, stat);
        return 0;
    }

    /// <summary>generic_fillattr (fs/stat.c): the basic attributes from the in-core inode (uid/gid 0: no credentials are modelled).</summary>
    public void GenericFillattr(Inode inode, Kstat stat)
    {
        stat.Dev = Dev;
        stat.Ino = inode.Ino;
        stat.Mode = inode.Mode;
        stat.Nlink = (uint)inode.Nlink;
        stat.Rdev = inode.Rdev;
        stat.Size = inode.Size;
        stat.Atime = inode.Atime;
        stat.Mtime = inode.Mtime;
        stat.Ctime = inode.Ctime;
        stat.Blksize = BlockSize;
        stat.Blocks = inode.Blocks;
    }

    /// <summary>i_op-&gt;fileattr_get (FS_IOC_GETFLAGS, FS_IOC_FSGETXATTR): 0 or −errno; −ENOIOCTLCMD when the filesystem has none.</summary>
    public virtual int FileattrGet(Inode inode, ref Fileattr fa) => -Errno.ENOIOCTLCMD;

    /// <summary>i_op-&gt;fileattr_set after vfs_fileattr_set's checks: 0 or −errno; −ENOIOCTLCMD when the filesystem has none.</summary>
    public virtual int FileattrSet(Inode inode, Fileattr fa) => -Errno.ENOIOCTLCMD;

    /// <summary>bmap(inode, &amp;block) (fs/inode.c): the device block of file block <paramref name="block"/> (0 for a hole); −EINVAL without a_ops-&gt;bmap.</summary>
    public virtual int Bmap(Inode inode, ref long block) => -Errno.EINVAL;

    /// <summary>vfs_mkdir: 0 or −errno; −EPERM when the filesystem has no -&gt;mkdir.</summary>
    public virtual int Mkdir(string path, int mode) => -Errno.EPERM;

    /// <summary>vfs_rmdir: 0 or −errno; −EPERM when the filesystem has no -&gt;rmdir.</summary>
    public virtual int Rmdir(string path) => -Errno.EPERM;

    /// <summary>sync_filesystem(sb) (fs/sync.c): write back the dirty inodes, then -&gt;sync_fs; 0 or −errno. Default: nothing to write.</summary>
    public virtual int SyncFs(bool wait) => 0;

    private bool _wbErrSeen;

    /// <summary>s_wb_err's last error (errseq_t, 5.8+): set by mapping_set_error on any inode of this filesystem.</summary>
    public int WbErr { get; private set; }

    /// <summary>s_wb_err's sequence: bumped each time an error is recorded, so every open file sees it once.</summary>
    public int WbErrSeq { get; private set; }

    /// <summary>errseq_set(&amp;sb-&gt;s_wb_err, err) (__filemap_set_wb_err, 5.8+): a new error, not yet seen by anyone.</summary>
    public void SetWbErr(int err)
    {
        if (err == 0) return;
        WbErr = err;
        WbErrSeq++;
        _wbErrSeen = false;
    }

    /// <summary>errseq_sample (file_sample_sb_err at open): the current sequence, or 0 when its error was never seen (the new file reports it).</summary>
    public int WbErrSample() => _wbErrSeen ? WbErrSeq : 0;

    /// <summary>errseq_check_and_advance(&amp;sb-&gt;s_wb_err, &amp;since): the error recorded since <paramref name="since"/> (0 if none), marking it seen.</summary>
    public int WbErrCheckAndAdvance(ref int since)
    {
        if (WbErrSeq == since) return 0;
        since = WbErrSeq;
        _wbErrSeen = true;
        return WbErr;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} on {MountPoint}";
}
