using KernelSim.Fs;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Block;

/// <summary>
/// An open block device (def_blk_fops, block/fops.c): buffered reads through the bdev page cache with
/// readahead (blkdev_read_iter → filemap_read), buffered writes through generic_perform_write with the blkdev
/// address_space_operations, O_DIRECT through bios built from pinned user pages (blkdev_direct_IO), fsync
/// (blkdev_fsync) and fixed-size llseek. Reads stop at the device end; writes at or past it fail with -ENOSPC.
/// </summary>
public sealed class BlockDeviceFile : KFile
{
    private readonly Kernel.Machine _m;
    // The machine's services this file's hot path uses, held directly (each read through _m is one more dependent load).
    private readonly Trace.Tracer _trace;
    private readonly Gup _gup;
    private readonly IovIterOps _iov;
    private readonly bool _getPagesAdvances;
    private int _wbErrSample;
    private long _raPrevIndex = -1;
    /// <summary>The page array iov_iter_get_pages2 fills for a bio (its first entries are the bio's pinned pages), reused
    /// by the next direct I/O (taken while in use); and the bio of the last direct I/O (reused while no one keeps
    /// submitted bios: <see cref="BlockDevice.KeepSubmitted"/> 0).</summary>
    private ulong[]? _pageBuf;
    private Bio? _spareBio;
    // Taken-while-in-use as flags rather than references taken out and put back (a reference store costs a GC write
    // barrier per call); a nested or abandoned call allocates, and what it allocated becomes the spare.
    private bool _pageBufBusy, _spareBioBusy;

    internal BlockDeviceFile(BdevInode inode, int flags) : base(inode, flags)
    {
        Bdev = inode.Bdev;
        _m = Bdev.Machine;
        _trace = _m.Tracer;
        _gup = _m.Gup;
        _iov = _m.IovIter;
        _getPagesAdvances = _m.Profile.GetPagesAdvances;
        Mode |= FMODE_NOWAIT;
        _wbErrSample = Bdev.WbErrSeq;
        Bdev.OpenCount++;
    }

    /// <summary>I_BDEV(file-&gt;f_mapping-&gt;host).</summary>
    public BlockDevice Bdev { get; }

    private IovIterOps Iov => _iov;

    private AddressSpace MappingOrThrow => Mapping!;

    // ---- read ---------------------------------------------------------------------------------------------

    /// <summary>
    /// blkdev_read_iter (block/fops.c): 0 at or past the device end; the iterator is truncated to the device; with
    /// IOCB_DIRECT, write back the cached range, then blkdev_direct_IO, falling back to the page cache for what a
    /// short direct read left; otherwise filemap_read over the bdev page cache.
    /// </summary>
    public override long ReadIter(Kiocb iocb, IovIter to) =>
        _trace.Enabled ? ReadIterTraced(iocb, to) : ReadIterBody(iocb, to); // tracing off: no traced frame at all

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long ReadIterTraced(Kiocb iocb, IovIter to)
    {
        using var _ = _trace.Fn("blkdev_read_iter", "block");
        return ReadIterBody(iocb, to);
    }

    // Inlined into ReadIter (one frame less per read); the traced path has its own copy.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private long ReadIterBody(Kiocb iocb, IovIter to)
    {
        var size = Bdev.SizeBytes;
        if (iocb.Pos >= size) return 0;
        size -= iocb.Pos;
        ulong shorted = 0;
        if (to.Count > (ulong)size)
        {
            shorted = to.Count - (ulong)size;
            Iov.Truncate(to, (ulong)size);
        }
        var count = to.Count;
        long ret = 0;
        if (count == 0) goto reexpand;
        if (iocb.Has(Kiocb.IOCB_DIRECT))
        {
            // filemap_write_and_wait_range: nothing to write while the bdev mapping is empty (this file's mapping is
            // the bdev's while the disk keeps the inode it was opened through; the check avoids the longer way there).
            if (!ReferenceEquals(Inode, Bdev.Inode) || Inode.Mapping is not { NrPages: 0 })
            {
                ret = Bdev.PageCache.WriteAndWait(iocb.Pos, iocb.Pos + (long)count - 1);
                if (ret < 0) goto reexpand;
            }
            ret = DirectIO(iocb, to);
            if (ret > 0)
            {
                iocb.Pos += ret;
                count -= (ulong)ret;
            }
            if (count > to.Count) Iov.Revert(to, count - to.Count);
            if (ret < 0 || count == 0) goto reexpand;
        }
        ret = FilemapRead(iocb, to, ret);
    reexpand:
        if (shorted != 0) Iov.Reexpand(to, to.Count + shorted);
        return ret;
    }

    /// <summary>
    /// filemap_read (mm/filemap.c) on the bdev mapping: a missing folio triggers page_cache_sync_readahead for the rest
    /// of the request (then filemap_create_folio + read_folio if still missing); a folio that is not uptodate (e.g.
    /// its readahead bio failed) is read alone with -&gt;read_folio, whose -EIO ends the loop. Returns the bytes copied
    /// so far if any, else the error.
    /// </summary>
    private long FilemapRead(Kiocb iocb, IovIter iter, long alreadyRead)
    {
        using var _ = _m.Tracer.Fn("filemap_read", "mm");
        var mapping = MappingOrThrow;
        if (iter.Count == 0) return alreadyRead;
        long error = 0;
        var isize = Inode.Size;
        var lastIndex = (ulong)((iocb.Pos + (long)Math.Min(iter.Count, (ulong)isize) + (long)PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT);
        do
        {
            if (FatalSignalPending())
            {
                error = -Errno.EINTR;
                break;
            }
            if (iocb.Pos >= isize) break;
            var index = (ulong)iocb.Pos >> PageDefs.PAGE_SHIFT;
            var folio = _m.Vfs.Filemap.PageCache.FilemapGetFolio(mapping, index);
            if (folio == null)
            {
                if (iocb.Has(Kiocb.IOCB_NOIO))
                {
                    error = -Errno.EAGAIN;
                    break;
                }
                Bdev.PageCache.SyncReadahead(index, Math.Max(lastIndex - index, 1), _raPrevIndex);
                folio = _m.Vfs.Filemap.PageCache.FilemapGetFolio(mapping, index);
                if (folio == null)
                {
                    folio = mapping.GetOrCreate(index, out var created);
                    if (folio == null)
                    {
                        error = -Errno.ENOMEM;
                        break;
                    }
                }
            }
            if (!folio.Uptodate)
            {
                if (iocb.Has(Kiocb.IOCB_NOWAIT))
                {
                    error = -Errno.EAGAIN;
                    break;
                }
                var r = Bdev.PageCache.ReadFolio(folio);
                if (r < 0)
                {
                    error = r;
                    break;
                }
            }
            var endOffset = Math.Min(isize, iocb.Pos + (long)Math.Min(iter.Count, (ulong)long.MaxValue / 2));
            var offset = PageDefs.OffsetInPage((ulong)iocb.Pos);
            var bytes = Math.Min((ulong)(endOffset - iocb.Pos), PageDefs.PAGE_SIZE - offset);
            ulong copied;
            using (_m.Tracer.Fn("copy_folio_to_iter", "mm")) copied = Iov.CopyPageToIter(folio.Pfn, offset, bytes, iter);
            alreadyRead += (long)copied;
            iocb.Pos += (long)copied;
            _raPrevIndex = (long)index;
            if (copied < bytes)
            {
                error = -Errno.EFAULT;
                break;
            }
        } while (iter.Count != 0 && iocb.Pos < isize && error == 0);
        return alreadyRead != 0 ? alreadyRead : error;
    }

    private bool FatalSignalPending()
    {
        var cur = _m.Current;
        if (cur == null) return false;
        foreach (var s in cur.SignalsPending) if (s.Signo == Sig.SIGKILL) return true;
        return false;
    }

    // ---- O_DIRECT -------------------------------------------------------------------------------------------

    /// <summary>
    /// blkdev_direct_IO (block/fops.c, __blkdev_direct_IO_simple / __blkdev_direct_IO): -EINVAL unless the position
    /// and every segment address and length are multiples of the logical block size (blkdev_dio_invalid /
    /// iov_iter_alignment); then bios of up to BIO_MAX_VECS pinned pages (bio_iov_iter_get_pages →
    /// iov_iter_get_pages2, trimmed to whole logical blocks), each submitted and waited for. A failed bio fails the
    /// whole request with its errno (no partial count); a pin failure after some progress submits what was pinned
    /// and returns that count. Pins are dropped after each bio (bio_release_pages).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal long DirectIO(Kiocb iocb, IovIter iter) =>
        _trace.Enabled ? DirectIOTraced(iocb, iter) : DirectIOBody(iocb, iter); // tracing off: no traced frame at all

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long DirectIOTraced(Kiocb iocb, IovIter iter)
    {
        using var _ = _trace.Fn("blkdev_direct_IO", "block");
        return DirectIOBody(iocb, iter);
    }

    private long DirectIOBody(Kiocb iocb, IovIter iter)
    {
        if (iter.Count == 0) return 0;
        var lbs = (ulong)Bdev.LogicalBlockSize;
        // iov_iter_alignment; a UBUF iterator's (count is not 0 here) is its address | count.
        var align = iter.Type == IterType.ITER_UBUF ? (iter.UbufBase.Value + iter.IovOffset) | iter.Count : Iov.Alignment(iter);
        if ((((ulong)iocb.Pos | align) & (lbs - 1)) != 0) return -Errno.EINVAL;
        var write = iter.DataSource;
        var op = write ? BioOp.REQ_OP_WRITE : BioOp.REQ_OP_READ;
        var opf = write ? BioFlags.REQ_SYNC : BioFlags.None;
        if (write && iocb.Has(Kiocb.IOCB_DSYNC)) opf |= BioFlags.REQ_FUA;
        var pages = _pageBuf;
        if (pages == null || _pageBufBusy) pages = new ulong[Bio.BIO_MAX_VECS];
        else _pageBufBusy = true;
        long done = 0;
        while (iter.Count > 0)
        {
            var sector = (iocb.Pos + done) >> BlockDevice.SECTOR_SHIFT;
            // bio_alloc; a completed bio nobody keeps is as good as a new one (bio_put, then bio_init on the same memory).
            Bio bio;
            if (Bdev.KeepSubmitted == 0 && _spareBio != null && !_spareBioBusy)
            {
                bio = _spareBio.Init(Bdev, op, sector, opf);
                _spareBioBusy = true;
            }
            else
            {
                bio = new Bio(Bdev, op, sector, opf);
            }
            var r = BioIovIterGetPages(bio, iter, pages, lbs, out var pinned);
            if (r < 0)
            {
                if (done == 0) done = r;
                break;
            }
            var status = Bdev.SubmitBio(bio);
            _gup.UnpinUserPages(pages.AsSpan(0, pinned)); // bio_release_pages
            if (status != BlkStatus.BLK_STS_OK)
            {
                done = BlkErrors.BlkStatusToErrno(status);
                break;
            }
            done += (long)bio.Size;
            if (bio.Completed)
            {
                if (bio != _spareBio) _spareBio = bio;
                _spareBioBusy = false;
            }
            if (r > 0) break; // the pin stopped early: return the short count
        }
        if (pages != _pageBuf) _pageBuf = pages;
        _pageBufBusy = false;
        return done;
    }

    /// <summary>
    /// bio_iov_iter_get_pages (block/bio.c): pin pages with iov_iter_get_pages2 until the iterator is empty or the
    /// bio holds BIO_MAX_VECS pages, trimming each batch to whole logical blocks. The pages the bio holds are
    /// <paramref name="pages"/>[0 .. <paramref name="pinned"/>). Returns 0 when the iterator was consumed or the bio is
    /// full, 1 when pinning stopped early with something in the bio, or the error when nothing could be pinned.
    /// </summary>
    private long BioIovIterGetPages(Bio bio, IovIter iter, ulong[] pages, ulong lbs, out int pinned)
    {
        long ret = 0;
        pinned = 0;
        do
        {
            var before = iter.Count;
            var n = GetPages2(iter, Bio.BIO_MAX_VECS - pinned, pages.AsSpan(pinned), out var got, out var start);
            if (n <= 0)
            {
                ret = n == 0 ? -Errno.EFAULT : n;
                break;
            }
            if (iter.Count == before) Iov.Advance(iter, (ulong)n); // iov_iter_get_pages before 6.0 did not advance
            var trim = (ulong)n & (lbs - 1);
            if (trim != 0)
            {
                Iov.Revert(iter, trim);
                n -= (long)trim;
            }
            // Many pages: the loop out of line, where its counters stay in registers.
            var used = got > 8 ? AddPinnedPagesRun(bio, pages.AsSpan(pinned, got), start, (ulong)n)
                : AddPinnedPages(bio, pages.AsSpan(pinned, got), start, (ulong)n);
            for (var k = used; k < got; k++) _gup.UnpinUserPage(pages[pinned + k]);
            pinned += used;
            if (n == 0)
            {
                ret = -Errno.EFAULT;
                break;
            }
        } while (iter.Count > 0 && pinned < Bio.BIO_MAX_VECS);
        if (bio.Size == 0) return ret < 0 ? ret : -Errno.EFAULT;
        return ret < 0 ? 1 : 0;
    }

    /// <summary>
    /// __bio_iov_iter_get_pages' bio_add_page loop: <paramref name="remaining"/> bytes of the pinned <paramref name="pages"/>,
    /// the first from <paramref name="off"/>, go into the bio; a run of whole pages that continue one another physically goes
    /// in with one call (the bvec bio_add_page's merge would build page by page). Returns how many pages the bio took.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int AddPinnedPages(Bio bio, ReadOnlySpan<ulong> pages, ulong off, ulong remaining)
    {
        var used = 0;
        while (remaining > 0 && used < pages.Length)
        {
            var pfn = pages[used];
            var len = Math.Min(PageDefs.PAGE_SIZE - off, remaining);
            remaining -= len;
            used++;
            // The page that would continue this run: the next pfn, once this page is used to its end.
            var next = pfn + ((off + len) >> PageDefs.PAGE_SHIFT);
            while (remaining > 0 && used < pages.Length && pages[used] == next)
            {
                var more = Math.Min(PageDefs.PAGE_SIZE, remaining);
                len += more;
                remaining -= more;
                used++;
                next++;
            }
            bio.AddPage(pfn, (uint)len, (uint)off);
            off = 0;
        }
        return used;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int AddPinnedPagesRun(Bio bio, ReadOnlySpan<ulong> pages, ulong off, ulong remaining) =>
        AddPinnedPages(bio, pages, off, remaining);

    /// <summary>
    /// iov_iter_get_pages2(iter, pages, iter-&gt;count, maxpages, &amp;start) as <see cref="IovIterOps"/> does it; for a UBUF
    /// iterator with tracing off (nothing to trace) its user-backed case is written out here — first_iovec_segment is the
    /// buffer's current address, want_pages_array, get_user_pages_fast, then the 6.0+ advance — so a bio's pages are
    /// pinned without the four calls of the general walk. The same pins, pages, result and iterator state.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private long GetPages2(IovIter iter, int maxpages, Span<ulong> pages, out int got, out ulong start)
    {
        maxpages = Math.Min(maxpages, pages.Length);
        if (_trace.Enabled || iter.Type != IterType.ITER_UBUF || maxpages <= 0 || iter.Count == 0)
            return GetPages2General(iter, maxpages, pages, out got, out start);
        got = 0;
        var maxsize = Math.Min(iter.Count, IovIterOps.MaxRwCount);
        var addr = iter.UbufBase.Value + iter.IovOffset;
        start = addr % PageDefs.PAGE_SIZE;
        var n = (int)Math.Min((maxsize + start + PageDefs.PAGE_SIZE - 1) / PageDefs.PAGE_SIZE, (ulong)maxpages); // want_pages_array
        var res = _gup.GetUserPagesFast(new UserPtr(addr & PageDefs.PAGE_MASK), n, write: !iter.DataSource, nofault: iter.Nofault, pages[..n]);
        if (res <= 0) return res;
        got = (int)res;
        maxsize = Math.Min(maxsize, (ulong)res * PageDefs.PAGE_SIZE - start);
        if (_getPagesAdvances)
        {
            // iov_iter_advance of a UBUF iterator (maxsize ≤ count; tracing is off here, so no traced frame to show).
            iter.IovOffset += maxsize;
            iter.Count -= maxsize;
        }
        return (long)maxsize;
    }

    // One call site out of line: inlined twice, the general walk (with its trace scope) tripled the caller's code.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long GetPages2General(IovIter iter, int maxpages, Span<ulong> pages, out int got, out ulong start) =>
        Iov.GetPages2(iter, iter.Count, maxpages, pages, out got, out start);

    // ---- write ----------------------------------------------------------------------------------------------

    /// <summary>
    /// blkdev_write_iter (block/fops.c): -EPERM on a read-only disk; 0 for an empty request; -ENOSPC at or past the
    /// end; IOCB_NOWAIT without IOCB_DIRECT → -EOPNOTSUPP; the iterator is truncated to the device; O_DIRECT via
    /// blkdev_direct_write (with the buffered fallback for a short direct write), else generic_perform_write; then
    /// generic_write_sync for O_DSYNC/O_SYNC.
    /// </summary>
    public override long WriteIter(Kiocb iocb, IovIter from)
    {
        using var _ = _m.Tracer.Fn("blkdev_write_iter", "block");
        if (Bdev.ReadOnly) return -Errno.EPERM;
        if (from.Count == 0) return 0;
        var size = Bdev.SizeBytes;
        if (iocb.Pos >= size) return -Errno.ENOSPC;
        if ((iocb.Flags & (Kiocb.IOCB_NOWAIT | Kiocb.IOCB_DIRECT)) == Kiocb.IOCB_NOWAIT) return -Errno.EOPNOTSUPP;
        size -= iocb.Pos;
        ulong shorted = 0;
        if (from.Count > (ulong)size)
        {
            shorted = from.Count - (ulong)size;
            Iov.Truncate(from, (ulong)size);
        }
        long ret;
        if (iocb.Has(Kiocb.IOCB_DIRECT))
        {
            ret = DirectWrite(iocb, from);
            if (ret >= 0 && from.Count > 0)
                ret = DirectWriteFallback(iocb, ret, BufferedWrite(iocb, from));
        }
        else
        {
            ret = BufferedWrite(iocb, from);
        }
        if (ret > 0) ret = GenericWriteSync(iocb, ret);
        if (shorted != 0) Iov.Reexpand(from, from.Count + shorted);
        return ret;
    }

    private long BufferedWrite(Kiocb iocb, IovIter from) => _m.Vfs.Filemap.GenericPerformWrite(iocb, from);

    /// <summary>
    /// blkdev_direct_write: write back and invalidate the cached range (kiocb_invalidate_pages), blkdev_direct_IO,
    /// invalidate again after a successful write, advance ki_pos, and revert the iterator to what is left.
    /// </summary>
    private long DirectWrite(Kiocb iocb, IovIter from)
    {
        var count = from.Count;
        var end = iocb.Pos + (long)count - 1;
        var r = Bdev.PageCache.WriteAndWait(iocb.Pos, end);
        if (r < 0) return r;
        Bdev.PageCache.Invalidate(iocb.Pos, end);
        var written = DirectIO(iocb, from);
        if (written > 0)
        {
            Bdev.PageCache.Invalidate(iocb.Pos, end);
            iocb.Pos += written;
            count -= (ulong)written;
        }
        if (count > from.Count) Iov.Revert(from, count - from.Count);
        return written;
    }

    /// <summary>direct_write_fallback (fs/libfs.c): write back and invalidate what the buffered fallback wrote.</summary>
    private long DirectWriteFallback(Kiocb iocb, long directWritten, long bufferedWritten)
    {
        if (bufferedWritten < 0) return directWritten != 0 ? directWritten : bufferedWritten;
        var pos = iocb.Pos - bufferedWritten;
        var end = iocb.Pos - 1;
        var err = Bdev.PageCache.WriteAndWait(pos, end);
        if (err < 0)
        {
            iocb.Pos -= bufferedWritten;
            return directWritten != 0 ? directWritten : err;
        }
        Bdev.PageCache.Invalidate(pos, end);
        return directWritten + bufferedWritten;
    }

    /// <summary>generic_write_sync (include/linux/fs.h): with IOCB_DSYNC, vfs_fsync_range over what was written.</summary>
    private long GenericWriteSync(Kiocb iocb, long count)
    {
        if (!iocb.Has(Kiocb.IOCB_DSYNC)) return count;
        var r = Fsync(iocb.Pos - count, iocb.Pos - 1, !iocb.Has(Kiocb.IOCB_SYNC));
        return r != 0 ? r : count;
    }

    // ---- fsync / llseek / release -------------------------------------------------------------------------

    /// <summary>
    /// blkdev_fsync (block/fops.c): file_write_and_wait_range (a writeback error since this file last looked is
    /// reported once, errseq style, as -EIO), then blkdev_issue_flush (-EOPNOTSUPP ignored).
    /// </summary>
    public override int Fsync(long start, long end, bool datasync)
    {
        using var _ = _m.Tracer.Fn("blkdev_fsync", "block");
        Bdev.PageCache.WriteAndWait(start, end);
        if (Bdev.WbErrSeq != _wbErrSample)
        {
            _wbErrSample = Bdev.WbErrSeq;
            return -Errno.EIO;
        }
        var e = Bdev.IssueFlush();
        return e == -Errno.EOPNOTSUPP ? 0 : e;
    }

    /// <summary>blkdev_llseek → fixed_size_llseek(file, offset, whence, i_size): no position past the device end.</summary>
    public override long Llseek(long offset, int whence) => GenericFileLlseekSize(offset, whence, Inode.Size, Inode.Size);

    /// <summary>blkdev_release: drop an O_EXCL claim (bdev_release), and on the last close sync_blockdev and kill_bdev (write back, then drop the page cache).</summary>
    public override void Release()
    {
        Bdev.ReleaseClaim(this);
        if (--Bdev.OpenCount == 0) Bdev.PageCache.FlushAndDrop();
    }
}
