using KernelSim.Dax;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>
/// fs/dax.c for one machine: dax_iomap_rw / dax_iomap_iter (read and write through dax_direct_access and the
/// dax_copy_* helpers, in the form of the running release), dax_zero_range / dax_truncate_page (dax_zero_page_range
/// for whole pages, dax_memzero for partial ones) and the DAX page-fault handlers (dax_iomap_pte_fault,
/// dax_iomap_pmd_fault, the zero page for holes, copy-on-write for private mappings, MAP_SYNC). Filesystems pass
/// their <see cref="IIomapOps"/>; nothing here knows which driver is behind the dax_device. A singleton of the
/// machine's container, registered by <see cref="DaxFsBuilderExtensions.AddDaxFs(MachineBuilder)"/>.
/// </summary>
public sealed partial class FsDax
{
    private readonly Machine _m;
    private readonly KernelProfile _profile;
    private readonly Tracer _trace;
    private ulong _zeroPfn = ulong.MaxValue;
    /// <summary>
    /// The iomap_iter of the last dax_iomap_rw, reused by the next; marked in use while taken, so nesting (or a call after
    /// one that never returned) allocates, and that one becomes the spare. A flag, not a reference taken out and put
    /// back: a reference store costs a GC write barrier per call.
    /// </summary>
    private IomapIter? _spareIter;
    private bool _spareIterBusy;
    /// <summary>The traced name of <see cref="DaxIomapIter"/> on this release (chosen once, not per call).</summary>
    private readonly string _iterFn;

    internal FsDax(Machine machine)
    {
        _m = machine;
        _profile = machine.Profile;
        _trace = machine.Tracer;
        _iterFn = _profile.Version >= KernelVersion.V(5, 15) ? "dax_iomap_iter" : "dax_iomap_actor";
    }

    private IovIterOps Iov => _m.IovIter;

    /// <summary>ZERO_PAGE(0): the shared zero page mapped read-only over holes (dax_load_hole).</summary>
    public ulong ZeroPfn
    {
        get
        {
            if (_zeroPfn != ulong.MaxValue) return _zeroPfn;
            var p = _m.Phys.AllocPage();
            if (p < 0) throw new InvalidOperationException("no memory for the zero page");
            _m.Phys.Frame((ulong)p).SetReserved();
            _zeroPfn = (ulong)p;
            return _zeroPfn;
        }
    }

    /// <summary>The direct-access error a poisoned range gives on this release: -EHWPOISON (6.5+) or -EIO.</summary>
    private long PoisonErr => _profile.PmemDirectAccessEhwpoison ? -Errno.EHWPOISON : -Errno.EIO;

    /// <summary>fatal_signal_pending(current): a SIGKILL is queued (the common case, nothing queued, tested inline).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool FatalSignalPending()
    {
        var cur = _m.Current;
        return cur != null && cur.HasSignalsPending && SigkillQueued(cur);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool SigkillQueued(Process cur)
    {
        var pending = cur.SignalsPending;
        for (var i = 0; i < pending.Count; i++) if (pending[i].Signo == Sig.SIGKILL) return true;
        return false;
    }

    // ---- read / write ------------------------------------------------------------------------------------

    /// <summary>
    /// dax_iomap_rw(iocb, iter, ops) (fs/dax.c): 0 for an empty iterator; IOMAP_WRITE for a source iterator
    /// (the caller holds i_rwsem exclusively), IOMAP_NOWAIT for IOCB_NOWAIT; iomap_iter over the range calling
    /// <see cref="DaxIomapIter"/>; ki_pos advances by the bytes done. Returns the bytes done if any, else the last
    /// error (or 0): errors are swallowed once any byte has moved (G2).
    /// </summary>
    public long DaxIomapRw(Kiocb iocb, IovIter iter, IIomapOps ops)
    {
        if (_trace.Enabled) return DaxIomapRwTraced(iocb, iter, ops);
        return DaxIomapRwBody(iocb, iter, ops); // tracing off: no traced frame at all
    }

    // The traced frames out of line: the untraced paths are plain calls that callers can inline.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long DaxIomapRwTraced(Kiocb iocb, IovIter iter, IIomapOps ops)
    {
        using var fn = _trace.Fn("dax_iomap_rw", "fs");
        return DaxIomapRwBody(iocb, iter, ops);
    }

    private long DaxIomapRwBody(Kiocb iocb, IovIter iter, IIomapOps ops)
    {
        var inode = iocb.Filp.Inode;
        if (iter.Count == 0) return 0;
        var flags = IomapOpFlags.IOMAP_DAX;
        if (iter.DataSource) flags |= IomapOpFlags.IOMAP_WRITE;
        if (iocb.Has(Kiocb.IOCB_NOWAIT)) flags |= IomapOpFlags.IOMAP_NOWAIT;
        var len = (long)Math.Min(iter.Count, (ulong)long.MaxValue);
        var it = _spareIter;
        if (it == null || _spareIterBusy) it = new IomapIter(inode, iocb.Pos, len, flags);
        else _spareIterBusy = true;
        it.Reset(inode, iocb.Pos, len, flags);
        int ret;
        while ((ret = it.Next(ops)) > 0) it.Processed = DaxIomapIter(it, iter);
        var done = it.Pos - iocb.Pos;
        iocb.Pos = it.Pos;
        if (it != _spareIter) _spareIter = it;
        _spareIterBusy = false;
        return done != 0 ? done : ret;
    }

    /// <summary>
    /// dax_iomap_iter (fs/dax.c; dax_iomap_actor before 5.15) for one mapping. Reads clamp to i_size and read holes
    /// and unwritten extents as zeros through iov_iter_zero. Per chunk: dax_direct_access for the pages from pos to
    /// the end of the mapping; on a poison error a write retries with DAX_RECOVERY_WRITE (5.19+); a negative result
    /// ends the mapping with dax_mem2blk_err (−EIO); the copy is dax_recovery_write, dax_copy_from_iter or (reads)
    /// dax_copy_to_iter — plain copy_to_iter on ≤4.17 (<see cref="KernelProfile.DaxReadMcSafe"/> off: poison is a
    /// fatal kernel machine check). xfer == 0 → −EFAULT; xfer &lt; map_len stops (4.18+; on ≤4.17 only a zero copy
    /// stops). Returns the bytes done, else the error.
    /// </summary>
    public long DaxIomapIter(IomapIter it, IovIter iter)
    {
        if (_trace.Enabled) return DaxIomapIterTraced(it, iter);
        return DaxIomapIterBody(it, iter);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long DaxIomapIterTraced(IomapIter it, IovIter iter)
    {
        using var fn = _trace.Fn(_iterFn, "fs");
        return DaxIomapIterBody(it, iter);
    }

    private long DaxIomapIterBody(IomapIter it, IovIter iter)
    {
        var iomap = it.Iomap;
        var length = it.Length;
        var pos = it.Pos;
        var end = pos + length;
        long done = 0, ret = 0;
        var write = iter.DataSource;
        var dax = iomap.DaxDev;
        if (!write)
        {
            end = Math.Min(end, it.Inode.Size);
            if (pos >= end) return 0;
            if (iomap.Type is IomapType.IOMAP_HOLE or IomapType.IOMAP_UNWRITTEN)
                return (long)Iov.IovIterZero((ulong)Math.Min(length, end - pos), iter);
        }
        if (iomap.Type != IomapType.IOMAP_MAPPED && (iomap.Flags & IomapFlags.IOMAP_F_SHARED) == 0) return WarnNotMapped();
        if (dax == null) return -Errno.EIO;
        if ((iomap.Flags & IomapFlags.IOMAP_F_NEW) != 0) UnmapNew(it.Inode, pos, end);
        while (pos < end)
        {
            var offset = (ulong)pos & (PageDefs.PAGE_SIZE - 1);
            var size = ((ulong)length + offset + PageDefs.PAGE_SIZE - 1) & PageDefs.PAGE_MASK; // PAGE_ALIGN, written out: the JIT left the call
            var pgoff = iomap.PgOff(pos);
            var recovery = false;
            if (FatalSignalPending())
            {
                ret = -Errno.EINTR;
                break;
            }
            var mapLen = dax.DirectAccess(pgoff, (long)(size >> PageDefs.PAGE_SHIFT), DaxAccessMode.DAX_ACCESS, out var kaddr, out _);
            if (write && mapLen == PoisonErr && _profile.DaxRecoveryWrite)
            {
                mapLen = dax.DirectAccess(pgoff, (long)(size >> PageDefs.PAGE_SHIFT), DaxAccessMode.DAX_RECOVERY_WRITE, out kaddr, out _);
                if (mapLen > 0) recovery = true;
            }
            if (mapLen < 0)
            {
                ret = DaxDevice.Mem2BlkErr(mapLen);
                break;
            }
            var bytes = (long)((ulong)mapLen << PageDefs.PAGE_SHIFT) - (long)offset;
            if (bytes > end - pos) bytes = end - pos;
            kaddr += offset;
            var xfer = !write && _profile.DaxReadMcSafe
                ? dax.CopyToIter(pgoff, kaddr, (ulong)bytes, iter)
                : DaxCopyOther(dax, pgoff, kaddr, (ulong)bytes, iter, recovery);
            pos += (long)xfer;
            length -= (long)xfer;
            done += (long)xfer;
            if (xfer == 0)
            {
                ret = -Errno.EFAULT;
                break;
            }
            if ((long)xfer < bytes && _profile.DaxReadMcSafe) break;
        }
        return done != 0 ? done : ret;
    }

    // The cold parts of dax_iomap_iter, out of line so that the read loop stays small enough to inline what it calls.

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long WarnNotMapped()
    {
        _m.State.Printk("WARNING: dax_iomap_iter: iomap type is not IOMAP_MAPPED");
        return -Errno.EIO;
    }

    /// <summary>IOMAP_F_NEW: unmap_mapping_range over the pages of [pos, end) (a fault may have mapped the hole's zero page).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void UnmapNew(Inode inode, long pos, long end)
    {
        if (inode is IDaxInode host)
            host.UnmapMappingRange(pos & ~(long)(PageDefs.PAGE_SIZE - 1), (long)PageDefs.PageAlign((ulong)(end - (pos & ~(long)(PageDefs.PAGE_SIZE - 1)))));
    }

    /// <summary>The copies of dax_iomap_iter other than a machine-check-safe read: dax_recovery_write, dax_copy_from_iter, or (≤4.17) plain copy_to_iter.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ulong DaxCopyOther(DaxDevice dax, ulong pgoff, KernelPtr kaddr, ulong bytes, IovIter iter, bool recovery)
    {
        if (recovery) return dax.RecoveryWrite(pgoff, kaddr, bytes, iter);
        if (iter.DataSource) return dax.CopyFromIter(pgoff, kaddr, bytes, iter);
        return Iov.CopyToIter(kaddr, bytes, iter); // ≤4.17: plain copy_to_iter
    }

    // ---- zeroing -------------------------------------------------------------------------------------------

    /// <summary>
    /// dax_zero_range(inode, pos, len, &amp;did_zero, ops) (fs/dax.c; iomap_zero_range → dax_iomap_zero before 5.17):
    /// IOMAP_ZERO mappings; holes and unwritten extents are skipped ("already zeroed"); a whole aligned page is
    /// zeroed with dax_zero_page_range (the driver clears poison), a partial page with dax_memzero (direct access:
    /// −EIO on a known-bad page). 0 or −errno.
    /// </summary>
    public int DaxZeroRange(Inode inode, long pos, long len, IIomapOps ops)
    {
        using var fn = _trace.Fn("dax_zero_range", "fs");
        if (len <= 0) return 0;
        var it = new IomapIter(inode, pos, len, IomapOpFlags.IOMAP_DAX | IomapOpFlags.IOMAP_ZERO);
        int ret;
        while ((ret = it.Next(ops)) > 0) it.Processed = DaxZeroIter(it);
        return ret;
    }

    /// <summary>dax_truncate_page(inode, pos, &amp;did_zero, ops): zero from pos to the end of its block (4 KiB); nothing at a block boundary.</summary>
    public int DaxTruncatePage(Inode inode, long pos, IIomapOps ops)
    {
        var off = pos & (long)(PageDefs.PAGE_SIZE - 1);
        if (off == 0) return 0;
        return DaxZeroRange(inode, pos, (long)PageDefs.PAGE_SIZE - off, ops);
    }

    private long DaxZeroIter(IomapIter it)
    {
        using var fn = _trace.Fn("dax_zero_iter", "fs");
        var iomap = it.Iomap;
        var length = it.Length;
        if (iomap.Type is IomapType.IOMAP_HOLE or IomapType.IOMAP_UNWRITTEN) return length;
        var dax = iomap.DaxDev;
        if (dax == null) return -Errno.EIO;
        var pos = it.Pos;
        long written = 0;
        do
        {
            var offset = (ulong)pos & (PageDefs.PAGE_SIZE - 1);
            var size = (long)Math.Min(PageDefs.PAGE_SIZE - offset, (ulong)length);
            var pgoff = iomap.PgOff(pos);
            int rc;
            if (offset == 0 && size == (long)PageDefs.PAGE_SIZE) rc = dax.ZeroPageRange(pgoff, 1);
            else rc = DaxMemzero(dax, pgoff, offset, (ulong)size);
            if (rc < 0) return rc;
            pos += size;
            length -= size;
            written += size;
        } while (length > 0);
        return written;
    }

    /// <summary>
    /// dax_memzero (fs/dax.c): dax_direct_access of one page (DAX_ACCESS; a known-bad page fails with
    /// dax_mem2blk_err, i.e. −EIO), memset, dax_flush. 0 or −errno.
    /// </summary>
    private int DaxMemzero(DaxDevice dax, ulong pgoff, ulong offset, ulong size)
    {
        using var fn = _trace.Fn("dax_memzero", "fs");
        var r = dax.DirectAccess(pgoff, 1, DaxAccessMode.DAX_ACCESS, out var kaddr, out _);
        if (r < 0) return (int)DaxDevice.Mem2BlkErr(r);
        _m.Copy.Memset(kaddr + offset, 0, size);
        return 0;
    }

    // ---- writeback -----------------------------------------------------------------------------------------

    /// <summary>
    /// dax_writeback_mapping_range (fs/dax.c), from -&gt;writepages (ext4_dax_writepages / xfs_dax_writepages) for
    /// fsync, sync, syncfs and eviction: every entry tagged dirty by a shared write fault whose range meets
    /// [start, end] is written back with dax_writeback_one — the CPU cache flush (dax_flush; the model has no CPU
    /// cache, so nothing is lost without it), dax_entry_mkclean (each mapping write-protected and cleaned, so the next
    /// store faults and re-dirties the entry) and the dirty tag cleared. Traced as dax_writeback_range,
    /// dax_writeback_one and dax_writeback_range_done. Returns 0.
    /// </summary>
    public int DaxWritebackMappingRange(Inode inode, long start, long end)
    {
        if (inode is not DaxInode di) return 0;
        using var fn = _trace.Fn("dax_writeback_mapping_range", "fs");
        var first = (ulong)start >> PageDefs.PAGE_SHIFT;
        var last = (ulong)end >> PageDefs.PAGE_SHIFT; // wbc->range_end >> PAGE_SHIFT: LLONG_MAX gives 0x7ffffffffffff
        TraceWritebackRange("dax_writeback_range", inode, first, last);
        foreach (var (index, e) in di.DirtyEntries(first, last))
        {
            using var one = _trace.Fn("dax_writeback_one", "fs");
            var pages = e.Pmd ? DaxEntry.PmdPages : 1;
            for (var k = 0UL; k < pages; k++)
                foreach (var (mm, va) in di.MappersOf(index + k).ToArray()) mm.MkcleanPte(va);
            di.CleanEntry(index);
            TraceWritebackOne(inode, index, pages);
        }
        TraceWritebackRange("dax_writeback_range_done", inode, first, last);
        return 0;
    }

    /// <summary>
    /// dax_iomap_direct_access (fs/dax.c): dax_direct_access for the pages covering the fault; fewer pages than
    /// asked or a PMD pfn that is not 2 MiB aligned → −EINVAL. Returns 0 or the raw (memory) errno.
    /// </summary>
    private long DaxIomapDirectAccess(Iomap iomap, long pos, ulong pages, out ulong pfn)
    {
        pfn = 0;
        if (iomap.DaxDev == null) return -Errno.EIO;
        var r = iomap.DaxDev.DirectAccess(iomap.PgOff(pos), (long)pages, DaxAccessMode.DAX_ACCESS, out _, out pfn);
        if (r < 0) return r;
        if ((ulong)r < pages) return -Errno.EINVAL;
        if (pages > 1 && (pfn & (pages - 1)) != 0) return -Errno.EINVAL;
        return 0;
    }
}
