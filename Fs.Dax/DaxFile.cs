using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>
/// An open file of <see cref="DaxFs"/>: its file_operations (ext4_file_operations in spirit). On a dax=always
/// mount read_iter/write_iter are the DAX paths (ext4_dax_read_iter / ext4_dax_write_iter: i_rwsem shared for
/// reads, exclusive for writes, trylock and −EAGAIN with IOCB_NOWAIT, then dax_iomap_rw); on dax=never they are
/// generic_file_read_iter / generic_perform_write through the page cache, or direct I/O with O_DIRECT.
/// FMODE_NOWAIT is set.
/// </summary>
public sealed partial class DaxFile : KFile
{
    internal DaxFile(DaxInode inode, int flags) : base(inode, flags)
    {
        Mode |= FMODE_NOWAIT;
        DInode = inode;
        _trace = inode.Fs.Machine.Tracer;
        _fsDax = inode.Fs.FsDax;
        _iomapOps = inode.Fs.IomapOps;
        inode.OpenCount++;
    }

    /// <summary>The inode.</summary>
    public DaxInode DInode { get; }

    private DaxFs Fs => DInode.Fs;

    /// <summary>The machine's tracer, kept so that a traced frame costs one field load when tracing is off.</summary>
    private readonly KernelSim.Trace.Tracer _trace;
    /// <summary>The filesystem's fs/dax.c and iomap ops, kept so that a read does not reach them through three objects.</summary>
    private readonly FsDax _fsDax;
    private readonly DaxFsIomapOps _iomapOps;

    private Filemap Filemap => Fs.Machine.Vfs.Filemap;

    /// <summary>MAP_SYNC is accepted with MAP_SHARED_VALIDATE (ext4/XFS set it; ->mmap refuses it where DAX is off).</summary>
    public override int MmapSupportedFlags => Mman.MAP_SYNC;

    /// <summary>-&gt;get_unmapped_area = thp_get_unmapped_area (ext4_file_operations, xfs_file_operations).</summary>
    public override ulong? GetUnmappedArea(MmStruct mm, ulong addr, ulong len, ulong pgoff, int flags) =>
        (ulong)mm.ThpGetUnmappedArea(DInode.IsDax, addr, len, pgoff, flags);

    /// <summary>
    /// -&gt;read_iter: 0 for an empty request; −EISDIR for a directory; DAX: <see cref="DaxReadIter"/>; O_DIRECT:
    /// direct I/O through bios; else generic_file_read_iter (page cache, -&gt;read_folio through the block driver).
    /// </summary>
    public override long ReadIter(Kiocb iocb, IovIter to)
    {
        if (to.Count == 0) return 0;
        if (DInode.Node.IsDir) return -Errno.EISDIR;
        if (DInode.IsDax) return DaxReadIter(iocb, to);
        if (iocb.Has(Kiocb.IOCB_DIRECT)) return DirectIo(iocb, to);
        return Filemap.GenericFileReadIter(iocb, to);
    }

    /// <summary>
    /// ext4_dax_read_iter (fs/ext4/file.c) / xfs_file_dax_read: i_rwsem shared (down_read_trylock with IOCB_NOWAIT,
    /// −EAGAIN when busy), dax_iomap_rw with the filesystem's iomap ops, unlock; the result is returned unchanged.
    /// </summary>
    public long DaxReadIter(Kiocb iocb, IovIter to)
    {
        if (_trace.Enabled) return DaxReadIterTraced(iocb, to);
        return DaxReadIterBody(iocb, to); // tracing off: no traced frame at all
    }

    // The traced frame out of line: the untraced path is a plain call that callers can inline.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long DaxReadIterTraced(Kiocb iocb, IovIter to)
    {
        using var fn = _trace.Fn("daxfs_dax_read_iter", "fs");
        return DaxReadIterBody(iocb, to);
    }

    private long DaxReadIterBody(Kiocb iocb, IovIter to)
    {
        var sem = DInode.Rwsem;
        if (iocb.Has(Kiocb.IOCB_NOWAIT))
        {
            if (!sem.TryDownRead()) return -Errno.EAGAIN;
        }
        else
        {
            sem.DownRead();
        }
        try
        {
            return _fsDax.DaxIomapRw(iocb, to, _iomapOps);
        }
        finally
        {
            sem.UpRead();
        }
    }

    /// <summary>
    /// -&gt;write_iter: DAX: <see cref="DaxWriteIter"/>; otherwise under i_rwsem, O_DIRECT direct I/O or
    /// generic_file_write_iter (generic_write_checks + generic_perform_write into the page cache).
    /// </summary>
    public override long WriteIter(Kiocb iocb, IovIter from)
    {
        if (DInode.Node.IsDir) return -Errno.EISDIR;
        if (DInode.IsDax) return DaxWriteIter(iocb, from);
        var sem = DInode.Rwsem;
        if (iocb.Has(Kiocb.IOCB_NOWAIT))
        {
            if (!sem.TryDownWrite()) return -Errno.EAGAIN;
        }
        else
        {
            sem.DownWrite();
        }
        long ret;
        try
        {
            if (iocb.Has(Kiocb.IOCB_DIRECT))
            {
                ret = WriteChecks(iocb, from);
                if (ret > 0) ret = DirectIo(iocb, from);
            }
            else
            {
                ret = Filemap.GenericFileWriteIter(iocb, from);
                if (ret > 0) DInode.UpdateTime();
            }
        }
        finally
        {
            sem.UpWrite();
        }
        if (ret > 0 && iocb.Has(Kiocb.IOCB_DSYNC))
        {
            var s = Fsync(iocb.Pos - ret, iocb.Pos - 1, (iocb.Flags & Kiocb.IOCB_SYNC) == 0);
            if (s < 0) ret = s;
        }
        return ret;
    }

    /// <summary>
    /// ext4_dax_write_iter (fs/ext4/file.c) / xfs_file_dax_write: i_rwsem exclusive (trylock with IOCB_NOWAIT,
    /// −EAGAIN when busy), the write checks (IOCB_APPEND, s_maxbytes), dax_iomap_rw, then i_size grows to the new
    /// position if the write extended the file; generic_write_sync when bytes were written with O_DSYNC/O_SYNC.
    /// </summary>
    public long DaxWriteIter(Kiocb iocb, IovIter from)
    {
        using var fn = _trace.Fn("daxfs_dax_write_iter", "fs");
        var sem = DInode.Rwsem;
        if (iocb.Has(Kiocb.IOCB_NOWAIT))
        {
            if (!sem.TryDownWrite()) return -Errno.EAGAIN;
        }
        else
        {
            sem.DownWrite();
        }
        long ret;
        try
        {
            ret = WriteChecks(iocb, from);
            if (ret > 0)
            {
                ret = Fs.FsDax.DaxIomapRw(iocb, from, Fs.IomapOps);
                if (ret > 0) DInode.UpdateTime(); // file_modified
                if (ret > 0 && iocb.Pos > DInode.Size)
                {
                    DInode.Size = iocb.Pos; // ext4_handle_inode_extension
                    DInode.MetadataDirty = true;
                }
            }
        }
        finally
        {
            sem.UpWrite();
        }
        if (ret > 0 && iocb.Has(Kiocb.IOCB_DSYNC)) DInode.Commit(); // generic_write_sync
        return ret;
    }

    /// <summary>
    /// generic_write_checks (fs/read_write.c) for DAX and direct writes: 0 for an empty iterator, IOCB_APPEND moves
    /// ki_pos to i_size, −EFBIG at s_maxbytes, the iterator truncated to what may be written. (The IOCB_NOWAIT
    /// without IOCB_DIRECT refusal does not apply: DAX I/O is direct.)
    /// </summary>
    private long WriteChecks(Kiocb iocb, IovIter from)
    {
        if (from.Count == 0) return 0;
        if (iocb.Has(Kiocb.IOCB_APPEND)) iocb.Pos = DInode.Size;
        var max = Fs.MaxBytes;
        if (iocb.Pos >= max) return -Errno.EFBIG;
        var count = Math.Min(from.Count, (ulong)(max - iocb.Pos));
        if (count < from.Count) Fs.Machine.IovIter.Truncate(from, count);
        return (long)from.Count;
    }

    /// <summary>
    /// -&gt;fsync (ext4_sync_file in spirit): a DAX inode runs dax_writeback_mapping_range over the range (the entries
    /// dirtied by write faults are flushed and their mappings write-protected, so the next store faults again); a
    /// page-cache inode writes its dirty folios in the range with bios and a failed write-back is reported once as
    /// −EIO (and recorded for syncfs). Then the metadata is committed (datasync commits it too: the model has no
    /// timestamp-only metadata). 0 or −errno.
    /// </summary>
    public override int Fsync(long start, long end, bool datasync)
    {
        using var fn = Fs.Machine.Tracer.Fn("daxfs_sync_file", "fs");
        var err = 0;
        if (DInode.IsDax) Fs.FsDax.DaxWritebackMappingRange(DInode, start, end);
        else if (DInode.Mapping != null) err = Fs.WritebackRange(DInode, start, end);
        if (err < 0) Fs.SetWbErr(err);
        DInode.Commit();
        if (err == 0 && DInode.WbError != 0)
        {
            err = DInode.WbError;
        }
        DInode.WbError = 0;
        // file_check_and_advance_wb_err: a write-back error (mapping_set_error) is reported once to each open file.
        var wb = DInode.Mapping?.FileCheckAndAdvanceWbErr(this) ?? 0;
        return err != 0 ? err : wb;
    }

    /// <summary>
    /// -&gt;mmap (ext4_file_mmap in spirit): MAP_SYNC (VM_SYNC) needs a DAX inode on a synchronous dax_device
    /// (daxdev_mapping_supported), else −EOPNOTSUPP; DAX files get the DAX fault handlers (PTE and PMD), others
    /// filemap_fault through the page cache.
    /// </summary>
    public override int Mmap(Vma vma)
    {
        if (vma.VmSync)
        {
            if (!DInode.IsDax) return -Errno.EOPNOTSUPP;
            if (Fs.DaxDev == null || (Fs.DaxDev.Flags & KernelSim.Dax.DaxDevFlags.DAXDEV_SYNC) == 0) return -Errno.EOPNOTSUPP;
        }
        vma.VmOps = DInode.IsDax ? new DaxVmOperations(Fs) : new PagecacheVmOperations(Fs);
        vma.VmHugepage = DInode.IsDax; // ext4_file_mmap / xfs_file_mmap: VM_HUGEPAGE for DAX
        var mm = Fs.Machine.Current?.Mm;
        if (mm != null) DInode.AddMapper(mm);
        return 0;
    }

    /// <summary>
    /// -&gt;release at the last close: an unlinked inode is freed; an I_DONTCACHE inode (FS_XFLAG_DAX changed on a
    /// dax=inode mount) that no process maps any more is evicted, so S_DAX is chosen anew on the next open.
    /// </summary>
    public override void Release()
    {
        DInode.OpenCount--;
        if (DInode.OpenCount != 0) return;
        if (DInode.Nlink == 0) Fs.Evict(DInode);
        else if (DInode.DontCache && !DInode.IsMapped()) Fs.EvictDontCache(DInode);
    }
}
