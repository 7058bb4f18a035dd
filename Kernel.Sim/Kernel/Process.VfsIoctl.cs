using System.Buffers.Binary;
using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;
using static KernelSim.Uapi.FsIoctl;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// do_vfs_ioctl (fs/ioctl.c), in its order, for the commands modelled: FIONBIO, FIGETBSZ, FIONREAD (regular files;
    /// others go to the driver), FS_IOC_GETFLAGS / SETFLAGS, FS_IOC_FSGETXATTR / FSSETXATTR (through the filesystem's
    /// fileattr_get / fileattr_set: −ENOIOCTLCMD, hence −ENOTTY, where it has none), and for regular files
    /// file_ioctl's FIBMAP. Anything else is −ENOIOCTLCMD: the file's own -&gt;unlocked_ioctl decides.
    /// </summary>
    internal long DoVfsIoctl(KFile f, uint cmd, ulong arg)
    {
        var inode = f.Inode;
        var argp = new UserPtr(arg);
        var isReg = (inode.Mode & Fcntl.S_IFMT) == Fcntl.S_IFREG;
        if (cmd == FIONBIO)
        {
            Span<byte> on = stackalloc byte[4];
            if (CopyIn(argp, on) < 0) return -Errno.EFAULT;
            if (BinaryPrimitives.ReadInt32LittleEndian(on) != 0) f.Flags |= Fcntl.O_NONBLOCK;
            else f.Flags &= ~Fcntl.O_NONBLOCK;
            return 0;
        }
        if (cmd == FIGETBSZ) return PutUserInt(argp, (int)inode.Sb.BlockSize);
        if (cmd == FIONREAD) return isReg ? PutUserInt(argp, (int)(inode.Size - f.Pos)) : -Errno.ENOIOCTLCMD;
        if (cmd == FS_IOC_GETFLAGS) return IoctlGetflags(inode, argp);
        if (cmd == FS_IOC_SETFLAGS) return IoctlSetflags(inode, argp);
        if (cmd == FS_IOC_FSGETXATTR) return IoctlFsgetxattr(inode, argp);
        if (cmd == FS_IOC_FSSETXATTR) return IoctlFssetxattr(inode, argp);
        if (isReg && cmd == FIBMAP) return IoctlFibmap(inode, argp);
        return -Errno.ENOIOCTLCMD;
    }

    private int PutUserInt(UserPtr p, int v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        return CopyToUser(p, b) < 0 ? -Errno.EFAULT : 0;
    }

    /// <summary>
    /// ioctl_fibmap (fs/ioctl.c), 5.5+: CAP_SYS_RAWIO (here <see cref="CapSysAdmin"/>) or −EPERM; get_user; a negative
    /// block → −EINVAL; bmap(); a result past INT_MAX → −ERANGE; on error 0 is stored. Before 5.5 a missing -&gt;bmap
    /// is −EINVAL ahead of the capability check, and the result is stored as it is.
    /// </summary>
    private long IoctlFibmap(Inode inode, UserPtr p)
    {
        Span<byte> b = stackalloc byte[4];
        long block;
        if (!Machine.Profile.FibmapViaBmap)
        {
            var probe = 0L;
            if (inode.Sb.Bmap(inode, ref probe) == -Errno.EINVAL) return -Errno.EINVAL; // "do we support this mess?"
            if (!CapSysAdmin) return -Errno.EPERM;
            if (CopyIn(p, b) < 0) return -Errno.EFAULT;
            block = BinaryPrimitives.ReadInt32LittleEndian(b);
            inode.Sb.Bmap(inode, ref block);
            return PutUserInt(p, (int)block);
        }
        if (!CapSysAdmin) return -Errno.EPERM;
        if (CopyIn(p, b) < 0) return -Errno.EFAULT;
        var ur = BinaryPrimitives.ReadInt32LittleEndian(b);
        if (ur < 0) return -Errno.EINVAL;
        block = ur;
        var error = inode.Sb.Bmap(inode, ref block);
        if (block > int.MaxValue)
        {
            error = -Errno.ERANGE;
            Machine.State.Printk($"[{Comm}/{Pid}] FS: {inode.Sb.Name} File: ino {inode.Ino} would truncate fibmap result");
        }
        var put = PutUserInt(p, error != 0 ? 0 : (int)block);
        return put < 0 ? put : error;
    }

    private long IoctlGetflags(Inode inode, UserPtr p)
    {
        var fa = new Fileattr { FlagsValid = true };
        var r = inode.Sb.FileattrGet(inode, ref fa);
        return r < 0 ? r : PutUserInt(p, (int)fa.Flags);
    }

    private long IoctlSetflags(Inode inode, UserPtr p)
    {
        Span<byte> b = stackalloc byte[4];
        if (CopyIn(p, b) < 0) return -Errno.EFAULT;
        return VfsFileattrSet(inode, Fileattr.FromFlags(BinaryPrimitives.ReadUInt32LittleEndian(b)));
    }

    /// <summary>ioctl_fsgetxattr + copy_fsxattr_to_user: struct fsxattr (28 bytes, padding zeroed).</summary>
    private long IoctlFsgetxattr(Inode inode, UserPtr p)
    {
        var fa = new Fileattr { FsxValid = true };
        var r = inode.Sb.FileattrGet(inode, ref fa);
        if (r < 0) return r;
        Span<byte> b = stackalloc byte[(int)FsxattrSize];
        b.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(b, fa.Xflags);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], fa.Extsize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], fa.Nextents);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], fa.Projid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[16..], fa.Cowextsize);
        return CopyToUser(p, b) < 0 ? -Errno.EFAULT : 0;
    }

    /// <summary>ioctl_fssetxattr: copy_fsxattr_from_user (fileattr_fill_xflags), then vfs_fileattr_set.</summary>
    private long IoctlFssetxattr(Inode inode, UserPtr p)
    {
        Span<byte> b = stackalloc byte[(int)FsxattrSize];
        if (CopyIn(p, b) < 0) return -Errno.EFAULT;
        var fa = Fileattr.FromXflags(BinaryPrimitives.ReadUInt32LittleEndian(b));
        fa.Extsize = BinaryPrimitives.ReadUInt32LittleEndian(b[4..]);
        fa.Nextents = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        fa.Projid = BinaryPrimitives.ReadUInt32LittleEndian(b[12..]);
        fa.Cowextsize = BinaryPrimitives.ReadUInt32LittleEndian(b[16..]);
        return VfsFileattrSet(inode, fa);
    }

    /// <summary>
    /// vfs_fileattr_set (fs/ioctl.c): −ENOIOCTLCMD without fileattr_set; inode_owner_or_capable (no uids are modelled:
    /// only <see cref="CapSysAdmin"/> passes) or −EPERM; the missing half filled from fileattr_get; fileattr_set_prepare
    /// (FS_XFLAG_DAX only on regular files and directories); then the filesystem's fileattr_set.
    /// </summary>
    private long VfsFileattrSet(Inode inode, Fileattr fa)
    {
        var fs = inode.Sb;
        var old = new Fileattr();
        var probe = fs.FileattrGet(inode, ref old);
        if (probe == -Errno.ENOIOCTLCMD) return probe;
        if (!CapSysAdmin) return -Errno.EPERM;
        if (probe < 0) return probe;
        if (fa.FlagsValid)
        {
            fa.Xflags |= old.Xflags & ~FS_XFLAG_COMMON;
            fa.Extsize = old.Extsize;
            fa.Nextents = old.Nextents;
            fa.Projid = old.Projid;
            fa.Cowextsize = old.Cowextsize;
        }
        else
        {
            fa.Flags |= old.Flags & ~FS_COMMON_FL;
        }
        var fmt = inode.Mode & Fcntl.S_IFMT;
        if ((fa.Xflags & FS_XFLAG_DAX) != 0 && fmt != Fcntl.S_IFREG && fmt != Fcntl.S_IFDIR) return -Errno.EINVAL;
        return fs.FileattrSet(inode, fa);
    }
}
