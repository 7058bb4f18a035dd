using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Fs;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// An open virtio-fs file (fs/fuse/file.c fuse_file_operations): read_iter / write_iter dispatch to the DAX path
/// first for S_DAX inodes (FOPEN_DIRECT_IO and FOPEN_KEEP_CACHE are ignored there), otherwise FUSE_READ /
/// FUSE_WRITE; fsync → FUSE_FSYNC; close → FUSE_FLUSH then FUSE_RELEASE.
/// </summary>
public sealed class FuseFile : KFile
{
    internal FuseFile(FuseInode inode, int flags, ulong fh, uint openFlags) : base(inode, flags)
    {
        Fh = fh;
        OpenFlags = openFlags;
        inode.OpenCount++;
    }

    /// <summary>ff-&gt;fh from the OPEN reply.</summary>
    public ulong Fh { get; }

    /// <summary>open_out.open_flags (FOPEN_*).</summary>
    public uint OpenFlags { get; }

    private FuseInode FInode => (FuseInode)Inode;

    /// <inheritdoc/>
    public override long ReadIter(Kiocb iocb, IovIter to)
    {
        var fs = FInode.Fs;
        if (FInode.IsDax && fs.DaxIo != null) return fs.DaxIo.ReadIter(iocb, to);
        if (to.Count == 0) return 0;
        return fs.DirectIo.Read(this, iocb, to);
    }

    /// <inheritdoc/>
    public override long WriteIter(Kiocb iocb, IovIter from)
    {
        var fs = FInode.Fs;
        if (FInode.IsDax && fs.DaxIo != null) return fs.DaxIo.WriteIter(this, iocb, from);
        var ret = fs.Machine.Vfs.Filemap.GenericWriteChecks(iocb, from);
        if (ret <= 0) return ret;
        ret = fs.DirectIo.Write(this, iocb, from);
        if (ret > 0) ret = GenericWriteSync(iocb, ret);
        return ret;
    }

    /// <summary>generic_write_sync: IOCB_DSYNC/IOCB_SYNC → vfs_fsync_range → FUSE_FSYNC; a failure replaces the count.</summary>
    internal long GenericWriteSync(Kiocb iocb, long count)
    {
        if (!iocb.Has(Kiocb.IOCB_DSYNC) && !iocb.Has(Kiocb.IOCB_SYNC)) return count;
        var r = Fsync(iocb.Pos - count, iocb.Pos - 1, !iocb.Has(Kiocb.IOCB_SYNC));
        return r < 0 ? r : count;
    }

    /// <summary>fuse_fsync: FUSE_FSYNC {fh, FUSE_FSYNC_FDATASYNC if datasync}; −ENOSYS is remembered as success.</summary>
    public override int Fsync(long start, long end, bool datasync)
    {
        var r = FInode.Fs.Conn.Request(FuseOpcode.FUSE_FSYNC, FInode.NodeId, FuseWire.FsyncIn(stackalloc byte[FuseConst.FsyncInSize], Fh, datasync ? FuseConst.FUSE_FSYNC_FDATASYNC : 0), out _);
        return r == -Errno.ENOSYS ? 0 : r;
    }

    /// <summary>
    /// fuse_file_mmap → fuse_dax_mmap for an S_DAX inode: vm_ops = fuse_dax_vm_ops (VM_MIXEDMAP | VM_HUGEPAGE), for
    /// shared and private mappings alike (a private write gets a copy of the window page, VF20). [model] Page-cache
    /// mappings of non-DAX FUSE files are not modelled: −ENODEV.
    /// </summary>
    public override int Mmap(Vma vma)
    {
        var io = FInode.Fs.DaxIo;
        if (!FInode.IsDax || io == null) return -Errno.ENODEV;
        vma.VmOps = new FuseDaxVmOps(FInode, io);
        return 0;
    }

    /// <summary>fuse_flush (on close) then fuse_release: FUSE_FLUSH and FUSE_RELEASE.</summary>
    public override void Release()
    {
        var c = FInode.Fs.Conn;
        Span<byte> args = stackalloc byte[FuseConst.FlushInSize];
        c.Request(FuseOpcode.FUSE_FLUSH, FInode.NodeId, FuseWire.FhIn24(args, Fh, 0), out _);
        c.Request(FuseOpcode.FUSE_RELEASE, FInode.NodeId, FuseWire.FhIn24(args, Fh, (uint)(Flags & ~Fcntl.O_LARGEFILE)), out _);
        FInode.OpenCount--;
        FInode.Fs.MaybeEvict(FInode);
    }
}
