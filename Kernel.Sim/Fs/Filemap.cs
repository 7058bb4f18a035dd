using System.Runtime.CompilerServices;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// mm/filemap.c buffered I/O through the page cache: generic_file_read_iter / filemap_read and
/// generic_file_write_iter / generic_write_checks / generic_perform_write in the form selected by
/// <see cref="KernelProfile.PerformWrite"/> (F1–F5). Retry loops are bounded by a
/// <see cref="RetryGuard"/>, so a loop that can never make progress ends the task as livelocked.
/// </summary>
public sealed class Filemap
{
    private readonly KernelProfile _profile;
    private readonly Tracer _trace;
    private readonly Scheduler _sched;
    private readonly IovIterOps Iov;
    private readonly Gup _gup;
    /// <summary><see cref="PageCache"/> is the real one: a read may look folios up behind the seam (page runs).</summary>
    private readonly bool _realPageCache;

    internal Filemap(KernelProfile profile, Tracer trace, Scheduler sched, IovIterOps iov, Gup gup, IPageCache pageCache)
    {
        PageCache = pageCache;
        _realPageCache = pageCache is PageCache;
        _profile = profile;
        _trace = trace;
        _sched = sched;
        Iov = iov;
        _gup = gup;
    }

    /// <summary>The page-cache lookups of the buffered read paths (the machine's <see cref="IPageCache"/>).</summary>
    public IPageCache PageCache { get; }

    private bool FatalSignalPending()
    {
        var cur = _sched.Current;
        if (cur == null) return false;
        var pending = cur.SignalsPending;
        for (var k = 0; k < pending.Count; k++) if (pending[k].Signo == Sig.SIGKILL) return true; // no enumerator per check
        return false;
    }

    // ---- read ---------------------------------------------------------------------------------------

    /// <summary>generic_file_read_iter (mm/filemap.c), buffered case: 0 for an empty request, else filemap_read.</summary>
    public long GenericFileReadIter(Kiocb iocb, IovIter iter)
    {
        // Tracing off: no traced frame at all, and the frame's try/finally is out of line, so this hot method has none.
        return _trace.Enabled ? GenericFileReadIterTraced(iocb, iter) : GenericFileReadIterBody(iocb, iter);
    }

    /// <summary>generic_file_read_iter's traced frame around its body (tracing on).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long GenericFileReadIterTraced(Kiocb iocb, IovIter iter)
    {
        using var _ = _trace.Fn("generic_file_read_iter", "mm");
        return GenericFileReadIterBody(iocb, iter);
    }

    private long GenericFileReadIterBody(Kiocb iocb, IovIter iter)
    {
        if (iter.Count == 0) return 0;
        return FilemapRead(iocb, iter, 0);
    }

    /// <summary>
    /// filemap_read (mm/filemap.c; same shape since the 5.16/5.17 folio conversion, and generic_file_buffered_read
    /// before it): for each folio in [ki_pos, min(i_size, ki_pos+count)), copy_folio_to_iter (= copy_page_to_iter,
    /// faults enabled); ki_pos advances by what was copied; a short copy records −EFAULT and stops. Returns the
    /// bytes read if any (including <paramref name="alreadyRead"/>), else the error. A run of cached, uptodate folios on
    /// neighbouring frames that no copy of it can stop moves at once (<see cref="IovIterOps.TryCopyPageRunToIter"/>,
    /// never while tracing): the outcome of copying it folio by folio.
    /// </summary>
    public long FilemapRead(Kiocb iocb, IovIter iter, long alreadyRead)
    {
        // Tracing off: no traced frame at all, and the frame's try/finally is out of line, so this hot method has none.
        return _trace.Enabled ? FilemapReadTraced(iocb, iter, alreadyRead) : FilemapReadBody(iocb, iter, alreadyRead);
    }

    /// <summary>filemap_read's traced frame around its body (tracing on).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long FilemapReadTraced(Kiocb iocb, IovIter iter, long alreadyRead)
    {
        using var _ = _trace.Fn("filemap_read", "mm");
        return FilemapReadBody(iocb, iter, alreadyRead);
    }

    private long FilemapReadBody(Kiocb iocb, IovIter iter, long alreadyRead)
    {
        var inode = iocb.Filp.Inode;
        var mapping = inode.Mapping;
        if (mapping == null) return -Errno.EINVAL;
        var maxBytes = inode.Sb.MaxBytes;
        if (iocb.Pos >= maxBytes) return 0;
        if (iter.Count == 0) return 0;
        if ((ulong)(maxBytes - iocb.Pos) < iter.Count) Iov.Truncate(iter, (ulong)(maxBytes - iocb.Pos));
        long error = 0;
        var runs = _realPageCache && Iov.PageRunCopyUsable(iter);
        do
        {
            if (FatalSignalPending())
            {
                error = -Errno.EINTR;
                break;
            }
            var isize = inode.Size;
            if (iocb.Pos >= isize) break;
            var endOffset = Math.Min(isize, iocb.Pos + (long)Math.Min(iter.Count, (ulong)long.MaxValue / 2));
            // filemap_get_pages: one folio per pass here (the batch makes no visible difference).
            var index = (ulong)iocb.Pos >> PageDefs.PAGE_SHIFT;
            var folio = PageCache.FilemapGetFolio(mapping, index);
            if (folio == null || !folio.Uptodate)
            {
                // page_cache_sync_readahead / filemap_read_folio: ->read_folio fills the folio (ramfs: zeroes it).
                folio ??= mapping.GetOrCreate(index, out var _created);
                if (folio == null)
                {
                    error = -Errno.ENOMEM;
                    break;
                }
                var rf = FilemapReadFolio(iocb.Filp, mapping, folio);
                if (rf < 0)
                {
                    error = rf;
                    break;
                }
            }
            var offset = PageDefs.OffsetInPage((ulong)iocb.Pos);
            var bytes = Math.Min((ulong)(endOffset - iocb.Pos), PageDefs.PAGE_SIZE - offset);
            if (runs)
            {
                var run = ReadRun(mapping, folio, bytes, (ulong)(endOffset - iocb.Pos));
                if (Iov.TryCopyPageRunToIter(folio.Pfn, offset, run, iter))
                {
                    alreadyRead += (long)run;
                    iocb.Pos += (long)run;
                    continue;
                }
                runs = false; // something on the way needs the page-by-page path: take it for the rest of this read
            }
            var copied = CopyFolioToIter(folio, offset, bytes, iter);
            alreadyRead += (long)copied;
            iocb.Pos += (long)copied;
            if (copied < bytes)
            {
                error = -Errno.EFAULT;
                break;
            }
        } while (iter.Count != 0 && iocb.Pos < inode.Size && error == 0);
        return alreadyRead != 0 ? alreadyRead : error;
    }

    /// <summary>filemap_read_folio (mm/filemap.c): the traced frame around -&gt;read_folio (none with tracing off, so filemap_read has no try/finally).</summary>
    private int FilemapReadFolio(KFile filp, AddressSpace mapping, Folio folio)
    {
        return _trace.Enabled ? FilemapReadFolioTraced(filp, mapping, folio) : FilemapReadFolioBody(filp, mapping, folio); // tracing off: no traced frame at all
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int FilemapReadFolioTraced(KFile filp, AddressSpace mapping, Folio folio)
    {
        using var _ = _trace.Fn("filemap_read_folio", "mm");
        return FilemapReadFolioBody(filp, mapping, folio);
    }

    private static int FilemapReadFolioBody(KFile filp, AddressSpace mapping, Folio folio) => mapping.AOps.ReadFolio(filp, mapping, folio);

    /// <summary>copy_folio_to_iter (include/linux/uio.h): copy_page_to_iter of one folio's bytes, as a traced frame (none with tracing off).</summary>
    private ulong CopyFolioToIter(Folio folio, ulong offset, ulong bytes, IovIter iter)
    {
        return _trace.Enabled ? CopyFolioToIterTraced(folio, offset, bytes, iter) : CopyFolioToIterBody(folio, offset, bytes, iter); // tracing off: no traced frame at all
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong CopyFolioToIterTraced(Folio folio, ulong offset, ulong bytes, IovIter iter)
    {
        using var _ = _trace.Fn("copy_folio_to_iter", "mm");
        return CopyFolioToIterBody(folio, offset, bytes, iter);
    }

    private ulong CopyFolioToIterBody(Folio folio, ulong offset, ulong bytes, IovIter iter) => Iov.CopyPageToIter(folio.Pfn, offset, bytes, iter);

    /// <summary>
    /// The bytes of [ki_pos, ki_pos + <paramref name="want"/>) that <paramref name="first"/> (holding the first
    /// <paramref name="bytes"/>) and the cached, uptodate folios after it on the next page frames hold: the walk of
    /// filemap_get_read_batch (xas_next while the folios are uptodate), stopped also where the frames stop being
    /// physically contiguous, so <see cref="IovIterOps.TryCopyPageRunToIter"/> can copy them as one run. The folios a
    /// previous walk found, with no change to the cache since (<see cref="AddressSpace.KnownRunAfter"/>), are not looked
    /// at again: the walk would find each of them as it is.
    /// </summary>
    private static ulong ReadRun(AddressSpace mapping, Folio first, ulong bytes, ulong want)
    {
        var run = bytes;
        ulong n = 1;
        var known = run < want ? mapping.KnownRunAfter(first) : 0;
        if (known != 0)
        {
            // Each of the known folios adds a page (the last one what is left of want).
            var reach = bytes + known * PageDefs.PAGE_SIZE;
            if (reach >= want) return want;
            run = reach;
            n = known + 1;
        }
        for (; run < want; n++)
        {
            var f = mapping.Find(first.Index + n);
            if (f == null || !f.Uptodate || f.Pfn != first.Pfn + n) break;
            run += Math.Min(want - run, PageDefs.PAGE_SIZE);
        }
        if (n > 1) mapping.RememberRun(first, n - 1);
        return run;
    }

    // ---- write ------------------------------------------------------------------------------------------

    /// <summary>
    /// generic_file_write_iter (mm/filemap.c): under the inode lock, generic_write_checks, then
    /// __generic_file_write_iter (buffered: generic_perform_write); generic_write_sync is a no-op here.
    /// </summary>
    public long GenericFileWriteIter(Kiocb iocb, IovIter from)
    {
        using var _ = _trace.Fn("generic_file_write_iter", "mm");
        var ret = GenericWriteChecks(iocb, from);
        if (ret > 0) ret = GenericPerformWrite(iocb, from);
        return ret;
    }

    /// <summary>
    /// generic_write_checks (fs/read_write.c): 0 for an empty iterator; IOCB_APPEND moves ki_pos to i_size;
    /// IOCB_NOWAIT without IOCB_DIRECT → −EINVAL; generic_write_check_limits against s_maxbytes (−EFBIG past it);
    /// the iterator is truncated to what may be written. Returns the bytes to write or −errno.
    /// </summary>
    public long GenericWriteChecks(Kiocb iocb, IovIter from)
    {
        var inode = iocb.Filp.Inode;
        if (from.Count == 0) return 0;
        if (iocb.Has(Kiocb.IOCB_APPEND)) iocb.Pos = inode.Size;
        if (iocb.Has(Kiocb.IOCB_NOWAIT) && !iocb.Has(Kiocb.IOCB_DIRECT)) return -Errno.EINVAL;
        var max = inode.Sb.MaxBytes;
        if (iocb.Pos >= max) return -Errno.EFBIG;
        var count = Math.Min(from.Count, (ulong)(max - iocb.Pos));
        if (count < from.Count) Iov.Truncate(from, count);
        return (long)from.Count;
    }

    /// <summary>
    /// generic_perform_write (mm/filemap.c) in the form of the running release (F1–F3):
    /// <see cref="PerformWriteMode.Pre514"/> (≤5.13), <see cref="PerformWriteMode.PreFaultAnyFailure"/> (5.14–5.17),
    /// <see cref="PerformWriteMode.PreFaultNothingFaultedIn"/> (5.18–6.14) or <see cref="PerformWriteMode.PostFault"/>
    /// (6.15+). On success ki_pos advances by the bytes written; returns them, or the status when nothing was written.
    /// </summary>
    public long GenericPerformWrite(Kiocb iocb, IovIter i)
    {
        using var _ = _trace.Fn("generic_perform_write", "mm");
        var mapping = iocb.Filp.Mapping;
        if (mapping == null) return -Errno.EINVAL;
        long written;
        long status;
        switch (_profile.PerformWrite)
        {
            case PerformWriteMode.Pre514:
                (written, status) = PerformWritePre514(iocb, mapping, i);
                break;
            case PerformWriteMode.PostFault:
                (written, status) = PerformWritePostFault(iocb, mapping, i);
                break;
            default:
                (written, status) = PerformWritePreFault(iocb, mapping, i);
                break;
        }
        if (written == 0) return status;
        iocb.Pos += written;
        return written;
    }

    private int WriteBegin(AddressSpace mapping, KFile file, long pos, ulong bytes, out Folio? folio)
    {
        using var _ = _trace.Fn(mapping.AOps.WriteBeginName, "fs");
        return mapping.AOps.WriteBegin(file, mapping, pos, bytes, out folio);
    }

    private long WriteEnd(AddressSpace mapping, KFile file, long pos, ulong bytes, ulong copied, Folio folio)
    {
        using var _ = _trace.Fn(mapping.AOps.WriteEndName, "fs");
        var r = mapping.AOps.WriteEnd(file, mapping, pos, bytes, copied, folio);
        if (_trace.Enabled && r != (long)copied) _trace.Event("write_end", $"{mapping.AOps.WriteEndName} accepted {r} of {copied} copied (folio not uptodate)");
        return r;
    }

    /// <summary>≤5.13 form: all-or-nothing pre-fault, non-advancing copy, single-segment fallback after a zero copy.</summary>
    private (long Written, long Status) PerformWritePre514(Kiocb iocb, AddressSpace mapping, IovIter i)
    {
        var file = iocb.Filp;
        var pos = iocb.Pos;
        long written = 0, status = 0;
        var guard = new RetryGuard("generic_perform_write");
        do
        {
            var offset = PageDefs.OffsetInPage((ulong)pos);
            var bytes = Math.Min(PageDefs.PAGE_SIZE - offset, i.Count);
            while (true) // again:
            {
                if (IovIterFaultInReadable(i, bytes) != 0)
                {
                    status = -Errno.EFAULT;
                    return (written, status);
                }
                if (FatalSignalPending()) return (written, -Errno.EINTR);
                status = WriteBegin(mapping, file, pos, bytes, out var folio);
                if (status < 0) return (written, status);
                var copied = IovIterCopyFromUserAtomic(folio!, offset, bytes, i);
                status = WriteEnd(mapping, file, pos, bytes, copied, folio!);
                if (status < 0) return (written, status);
                copied = (ulong)status;
                Iov.Advance(i, copied);
                if (copied == 0)
                {
                    var nb = Math.Min(PageDefs.PAGE_SIZE - offset, Iov.SingleSegCount(i));
                    guard.Pass(nb < bytes);
                    bytes = nb;
                    continue;
                }
                guard.Pass(true);
                pos += (long)copied;
                written += (long)copied;
                break;
            }
        } while (i.Count != 0);
        return (written, status);
    }

    /// <summary>
    /// 5.14–6.14 form ("saner logics for short copy"): pre-fault before write_begin — 5.14/5.15
    /// iov_iter_fault_in_readable (0/−EFAULT), 5.16/5.17 fault_in_iov_iter_readable ≠ 0, 5.18+ == bytes
    /// (631f871f0717) — then copy_page/folio_from_iter_atomic, revert what write_end rejected, and after a zero
    /// status retry with bytes = copied (if any).
    /// </summary>
    private (long Written, long Status) PerformWritePreFault(Kiocb iocb, AddressSpace mapping, IovIter i)
    {
        var file = iocb.Filp;
        var pos = iocb.Pos;
        long written = 0, status = 0;
        var guard = new RetryGuard("generic_perform_write");
        do
        {
            var offset = PageDefs.OffsetInPage((ulong)pos);
            var bytes = Math.Min(PageDefs.PAGE_SIZE - offset, i.Count);
            while (true) // again:
            {
                if (PreFaultFails(i, bytes)) return (written, -Errno.EFAULT);
                if (FatalSignalPending()) return (written, -Errno.EINTR);
                status = WriteBegin(mapping, file, pos, bytes, out var folio);
                if (status < 0) return (written, status);
                var copied = CopyFolioFromIterAtomic(folio!, offset, bytes, i);
                status = WriteEnd(mapping, file, pos, bytes, copied, folio!);
                if (status != (long)copied)
                {
                    Iov.Revert(i, copied - (ulong)Math.Max(status, 0));
                    if (status < 0) return (written, status);
                }
                if (status == 0)
                {
                    guard.Pass(copied != 0 && copied < bytes);
                    if (copied != 0) bytes = copied;
                    continue;
                }
                guard.Pass(true);
                pos += status;
                written += status;
                break;
            }
        } while (i.Count != 0);
        return (written, status);
    }

    private bool PreFaultFails(IovIter i, ulong bytes)
    {
        if (_profile.PerformWrite == PerformWriteMode.PreFaultNothingFaultedIn)
            return Iov.FaultInIovIterReadable(i, bytes) == bytes;
        if (_profile.FaultInReturnsBytes) return Iov.FaultInIovIterReadable(i, bytes) != 0; // 5.16, 5.17
        return IovIterFaultInReadable(i, bytes) != 0; // 5.14, 5.15
    }

    /// <summary>
    /// 6.15+ form (665575cff098, Dave Hansen "filemap: move prefaulting out of hot write path"): no pre-fault; after
    /// a zero status halve the chunk (large folios), retry exactly the bytes that copied, and only when nothing
    /// copied ask fault_in_iov_iter_readable — −EFAULT if nothing at all can be faulted in.
    /// </summary>
    private (long Written, long Status) PerformWritePostFault(Kiocb iocb, AddressSpace mapping, IovIter i)
    {
        var file = iocb.Filp;
        var pos = iocb.Pos;
        var chunk = mapping.MaxFolioSize;
        long written = 0, status = 0;
        var guard = new RetryGuard("generic_perform_write");
        do
        {
            var bytes = i.Count;
            while (true) // retry:
            {
                var offset = (ulong)pos & (chunk - 1);
                bytes = Math.Min(chunk - offset, bytes);
                if (FatalSignalPending()) return (written, -Errno.EINTR);
                status = WriteBegin(mapping, file, pos, bytes, out var folio);
                if (status < 0) return (written, status);
                offset = PageDefs.OffsetInPage((ulong)pos);
                bytes = Math.Min(PageDefs.PAGE_SIZE - offset, bytes);
                var copied = CopyFolioFromIterAtomic(folio!, offset, bytes, i);
                status = WriteEnd(mapping, file, pos, bytes, copied, folio!);
                if (status != (long)copied)
                {
                    Iov.Revert(i, copied - (ulong)Math.Max(status, 0));
                    if (status < 0) return (written, status);
                }
                if (status == 0)
                {
                    var shrunk = false;
                    if (chunk > PageDefs.PAGE_SIZE)
                    {
                        chunk /= 2;
                        shrunk = true;
                    }
                    if (copied != 0)
                    {
                        guard.Pass(shrunk || copied < bytes);
                        bytes = copied;
                        continue;
                    }
                    if (Iov.FaultInIovIterReadable(i, bytes) == bytes) return (written, -Errno.EFAULT);
                    guard.Pass(shrunk);
                    break;
                }
                guard.Pass(true);
                pos += status;
                written += status;
                break;
            }
        } while (i.Count != 0);
        return (written, status);
    }

    /// <summary>copy_folio_from_iter_atomic (copy_page_from_iter_atomic before ≈6.6): advances the iterator.</summary>
    private ulong CopyFolioFromIterAtomic(Folio folio, ulong offset, ulong bytes, IovIter i)
    {
        var before = i.Count;
        var copied = Iov.CopyFolioFromIterAtomic(folio.Pfn, offset, bytes, i);
        if (i.Count == before && copied != 0) Iov.Advance(i, copied); // a non-advancing primitive (profile what-if)
        return copied;
    }

    /// <summary>
    /// iov_iter_copy_from_user_atomic (lib/iov_iter.c, ≤5.13): the atomic copy into the page without advancing
    /// the iterator (the caller advances by what write_end accepted).
    /// </summary>
    private ulong IovIterCopyFromUserAtomic(Folio folio, ulong offset, ulong bytes, IovIter i)
    {
        var before = i.Count;
        var copied = Iov.CopyFolioFromIterAtomic(folio.Pfn, offset, bytes, i);
        if (i.Count != before && copied != 0) Iov.Revert(i, copied);
        return copied;
    }

    /// <summary>
    /// iov_iter_fault_in_readable (lib/iov_iter.c, ≤5.15): for user-backed iterators, fault_in_pages_readable over
    /// each segment piece of the first <paramref name="bytes"/> (bytes clamped to count, empty segments skipped);
    /// 0 or the first −EFAULT. Other iterator types → 0. The iterator is not modified.
    /// </summary>
    internal int IovIterFaultInReadable(IovIter i, ulong bytes)
    {
        using var _ = _trace.Fn("iov_iter_fault_in_readable", "lib");
        if (!i.IsUserBacked) return 0;
        if (bytes > i.Count) bytes = i.Count;
        if (i.Type == IterType.ITER_UBUF)
            return bytes == 0 ? 0 : _gup.FaultInPagesReadable(i.UbufBase + i.IovOffset, bytes);
        var segs = i.IovecSegments;
        var skip = i.IovOffset;
        for (var idx = i.SegIndex; bytes != 0 && idx < segs.Length; idx++, skip = 0)
        {
            var len = Math.Min(bytes, segs[idx].Len - skip);
            if (len == 0) continue;
            var err = _gup.FaultInPagesReadable(segs[idx].Base + skip, len);
            if (err != 0) return err;
            bytes -= len;
        }
        return 0;
    }
}
