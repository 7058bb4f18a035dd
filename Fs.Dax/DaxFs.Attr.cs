using KernelSim.Uapi;
using static KernelSim.Uapi.FsIoctl;

namespace KernelSim.Fs.Dax;

public sealed partial class DaxFs
{
    /// <inheritdoc/>
    public override uint BlockSize => DaxFsVolume.BlockSize;

    /// <summary>
    /// -&gt;getattr (ext4_getattr / xfs_vn_getattr in spirit): generic_fillattr with i_blocks from the extent map, and the
    /// creation time when STATX_BTIME is asked for. The ext4/XFS inode flags (immutable, append, …) are not kept,
    /// so their attribute and mask bits stay clear.
    /// </summary>
    public override int Getattr(Inode inode, Kstat stat, uint requestMask, int queryFlags)
    {
        GenericFillattr(inode, stat);
        if (inode is DaxInode di && (requestMask & Stat.STATX_BTIME) != 0)
        {
            stat.ResultMask |= Stat.STATX_BTIME;
            stat.Btime = di.Node.Crtime;
        }
        return 0;
    }

    /// <summary>
    /// fileattr_get (ext4_fileattr_get / xfs_fileattr_get in spirit): FS_XFLAG_DAX and its twin FS_DAX_FL from the
    /// persistent flags; fsx_nextents is the extent count on XFS (ext4 leaves it 0).
    /// </summary>
    public override int FileattrGet(Inode inode, ref Fileattr fa)
    {
        if (inode is not DaxInode di) return -Errno.ENOIOCTLCMD;
        var flagsValid = fa.FlagsValid;
        fa = Fileattr.FromXflags(di.Node.Xflags);
        fa.FlagsValid = flagsValid;
        if (XfsLike) fa.Nextents = (uint)di.Node.Extents.Extents.Count();
        return 0;
    }

    /// <summary>
    /// fileattr_set (ext4_fileattr_set / xfs_fileattr_set in spirit): only FS_XFLAG_DAX (FS_DAX_FL) is kept — any other
    /// flag, a project id or DAX before 5.8 is −EOPNOTSUPP (ext4's answer for a flag it does not support). On a
    /// dax=inode mount a change of FS_XFLAG_DAX on a file marks the inode I_DONTCACHE (d_mark_dontcache,
    /// ext4_dax_dontcache / xfs_ioctl_setattr_prepare_dax): S_DAX changes only when the inode is next loaded (DX4).
    /// </summary>
    public override int FileattrSet(Inode inode, Fileattr fa)
    {
        if (inode is not DaxInode di) return -Errno.ENOIOCTLCMD;
        if ((fa.Xflags & ~FS_XFLAG_DAX) != 0 || (fa.Flags & ~FS_DAX_FL) != 0 || fa.Projid != 0) return -Errno.EOPNOTSUPP;
        if ((fa.Xflags & FS_XFLAG_DAX) != 0 && !Machine.Profile.DaxInodeMode) return -Errno.EOPNOTSUPP;
        var node = di.Node;
        if (Options.Dax == DaxMode.Inode && !node.IsDir && ((node.Xflags ^ fa.Xflags) & FS_XFLAG_DAX) != 0) di.DontCache = true;
        node.Xflags = fa.Xflags & FS_XFLAG_DAX;
        di.Ctime = (long)Machine.Clock.NowNs;
        di.MetadataDirty = true;
        return 0;
    }

    /// <summary>
    /// a_ops-&gt;bmap (ext4_bmap → iomap_bmap; xfs_vm_bmap): −EINVAL for a DAX file on XFS (xfs_dax_aops has no -&gt;bmap);
    /// otherwise the dirty page cache is written back first (filemap_write_and_wait; a failure gives block 0) and the
    /// device block of a written extent is returned, 0 for a hole or an unwritten extent (iomap_bmap: IOMAP_MAPPED only).
    /// </summary>
    public override int Bmap(Inode inode, ref long block)
    {
        if (inode is not DaxInode di) return -Errno.EINVAL;
        if (di.IsDax && XfsLike) return -Errno.EINVAL;
        using var fn = Machine.Tracer.Fn("iomap_bmap", "fs");
        var fblk = block;
        block = 0;
        if (di.Mapping != null && WritebackRange(di, 0, long.MaxValue) < 0) return 0;
        var e = di.Node.Extents.Lookup(fblk, out _);
        if (e != null && !e.Unwritten) block = e.DevOf(fblk);
        return 0;
    }

    /// <summary>
    /// sync_filesystem (writeback of every in-core inode — dax_writeback_mapping_range for DAX inodes, the dirty page
    /// cache otherwise — then -&gt;sync_fs, the journal commit). A write-back failure is recorded in the mapping
    /// (mapping_set_error, reported by the next fsync) and in s_wb_err (syncfs, 5.8+); it is not returned.
    /// </summary>
    public override int SyncFs(bool wait)
    {
        using var fn = Machine.Tracer.Fn("daxfs_sync_fs", "fs");
        foreach (var ino in InCore)
        {
            if (ino.IsDax) FsDax.DaxWritebackMappingRange(ino, 0, long.MaxValue);
            else if (ino.Mapping != null) MappingSetError(ino, WritebackRange(ino, 0, long.MaxValue));
            ino.Commit();
        }
        return 0;
    }

    /// <summary>mapping_set_error: the inode's errseq (fsync reports it) and, 5.8+, the superblock's (syncfs).</summary>
    internal void MappingSetError(DaxInode ino, int err)
    {
        if (err >= 0) return;
        ino.WbError = err;
        SetWbErr(err);
    }

    /// <summary>
    /// iput_final of an I_DONTCACHE inode (fs/inode.c): its last file is closed and no mapping remains, so it is
    /// written back (write_inode_now), committed and evicted; the next lookup loads it again with the S_DAX its
    /// FS_XFLAG_DAX now asks for.
    /// </summary>
    internal void EvictDontCache(DaxInode ino)
    {
        using var fn = Machine.Tracer.Fn("evict", "fs");
        if (ino.IsDax) FsDax.DaxWritebackMappingRange(ino, 0, long.MaxValue);
        else if (ino.Mapping != null) MappingSetError(ino, WritebackRange(ino, 0, long.MaxValue));
        ino.Commit();
        ino.Mapping?.TruncateInodePagesFinal();
        _icache.Remove(ino.Ino);
    }
}
