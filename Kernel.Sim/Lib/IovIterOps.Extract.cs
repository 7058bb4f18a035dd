using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Lib;

public sealed partial class IovIterOps
{
    // ---- XARRAY / FOLIOQ constructors (D24) -----------------------------------------------------------------

    /// <summary>
    /// iov_iter_xarray (lib/iov_iter.c, ≈5.13+): an iterator over the pages of <paramref name="mapping"/>'s page cache
    /// (mapping-&gt;i_pages) from file position <paramref name="start"/>; iov_offset 0, nr_segs 0. The caller keeps the
    /// folios from going away. Returns 0, or −ENOSYS on a release without ITER_XARRAY
    /// (<see cref="Profiles.KernelProfile.XarrayIter"/> off: the kernel has no such function, so a module using it
    /// would not load).
    /// </summary>
    public int IovIterXarray(bool source, AddressSpace mapping, long start, ulong count, out IovIter iter)
    {
        if (!_profile.XarrayIter)
        {
            iter = IovIter.Empty(source);
            return -Errno.ENOSYS;
        }
        iter = IovIter.NewXarray(source, mapping, start, count);
        return 0;
    }

    /// <summary>
    /// iov_iter_folio_queue (lib/iov_iter.c, 6.12+): an iterator over the folios of a folio_queue from slot
    /// <paramref name="firstSlot"/> of segment <paramref name="folioq"/>, <paramref name="offset"/> bytes into that
    /// folio. Returns 0, or −ENOSYS before 6.12 (<see cref="Profiles.KernelProfile.FolioqIter"/> off: struct
    /// folio_queue and ITER_FOLIOQ do not exist; a module using them would not load).
    /// </summary>
    public int IovIterFolioQueue(bool source, FolioQueue folioq, int firstSlot, ulong offset, ulong count, out IovIter iter)
    {
        if (!_profile.FolioqIter)
        {
            iter = IovIter.Empty(source);
            return -Errno.ENOSYS;
        }
        iter = IovIter.NewFolioQueue(source, folioq, firstSlot, offset, count);
        return 0;
    }

    // ---- get_pages for FOLIOQ / XARRAY (D22) ----------------------------------------------------------------

    /// <summary>iter_folioq_get_pages: one page per step from the current folio, a reference on each; advances.</summary>
    private long FolioqGetPages(IovIter i, ulong maxsize, int maxpages, out ulong[] pages, out ulong start)
    {
        var res = FolioqPages(i, maxsize, maxpages, out pages, out start, getRef: true);
        return res;
    }

    /// <summary>
    /// iter_xarray_get_pages: the pages from the position's index up to the first hole (xas_next stops there), a
    /// reference on each; 0 if the first is absent; advances by min(nr × PAGE_SIZE − offset, maxsize).
    /// </summary>
    private long XarrayGetPages(IovIter i, ulong maxsize, int maxpages, out ulong[] pages, out ulong start)
    {
        var pos = (ulong)i.XarrayStart + i.IovOffset;
        start = pos % PageDefs.PAGE_SIZE;
        var count = WantPagesArray(maxsize, start, maxpages);
        pages = new ulong[count];
        var nr = XarrayPopulate(i.Xarray!, pos / PageDefs.PAGE_SIZE, pages, getRef: true);
        if (nr == 0)
        {
            pages = [];
            return 0;
        }
        if (nr < count) pages = pages[..nr];
        maxsize = Math.Min((ulong)nr * PageDefs.PAGE_SIZE - start, maxsize);
        i.IovOffset += maxsize;
        i.Count -= maxsize;
        return (long)maxsize;
    }

    /// <summary>iter_xarray_populate_pages: xas_load then xas_next while the entries are present.</summary>
    private int XarrayPopulate(AddressSpace mapping, ulong index, Span<ulong> pages, bool getRef)
    {
        var nr = 0;
        for (var f = mapping.Find(index); f != null && nr < pages.Length; f = mapping.Find(++index))
        {
            pages[nr++] = f.Pfn;
            if (getRef) _gup.GetPage(f.Pfn);
        }
        return nr;
    }

    /// <summary>The loop shared by iter_folioq_get_pages and iov_iter_extract_folioq_pages.</summary>
    private long FolioqPages(IovIter i, ulong maxsize, int maxpages, out ulong[] pages, out ulong offset0, bool getRef)
    {
        pages = [];
        var fq = i.Folioq!;
        var slot = i.FolioqSlot;
        offset0 = 0;
        if (slot >= FolioQueue.NrSlots)
        {
            fq = fq.Next ?? throw _state.Oops("BUG: kernel NULL pointer dereference (folioq get/extract pages)");
            slot = 0;
            if (i.IovOffset != 0)
            {
                WarnOnce("iov_iter_extract_folioq_pages");
                return -Errno.EIO;
            }
        }
        offset0 = i.IovOffset % PageDefs.PAGE_SIZE;
        maxpages = WantPagesArray(maxsize, offset0, maxpages);
        if (maxpages == 0) return NoPagesArray();
        pages = new ulong[maxpages];
        ulong extracted = 0;
        var nr = 0;
        while (true)
        {
            var offset = i.IovOffset;
            var fsize = fq.FolioSize(slot);
            if (offset < fsize)
            {
                if (!fq.Present(slot)) throw _state.Oops("BUG: kernel NULL pointer dereference (folio_page of an empty folio_queue slot)");
                var part = Math.Min(PageDefs.PAGE_SIZE - offset % PageDefs.PAGE_SIZE, Math.Min(maxsize - extracted, fsize - offset));
                i.Count -= part;
                i.IovOffset += part;
                extracted += part;
                var pfn = fq.Pfn(slot) + offset / PageDefs.PAGE_SIZE;
                pages[nr++] = pfn;
                if (getRef) _gup.GetPage(pfn);
            }
            if (nr >= maxpages || extracted >= maxsize) break;
            if (i.IovOffset >= fsize)
            {
                i.IovOffset = 0;
                slot++;
                if (slot == FolioQueue.NrSlots && fq.Next != null)
                {
                    fq = fq.Next;
                    slot = 0;
                }
            }
        }
        if (nr < pages.Length) pages = pages[..nr];
        i.Folioq = fq;
        i.FolioqSlot = slot;
        return (long)extracted;
    }

    /// <summary>want_pages_array with a count of 0 WARNs (the caller should have prevented it); the callers return −ENOMEM.</summary>
    private long NoPagesArray()
    {
        WarnOnce("want_pages_array");
        return -Errno.ENOMEM;
    }

    // ---- iov_iter_extract_pages (D26) -----------------------------------------------------------------------

    /// <summary>
    /// iov_iter_extract_will_pin (include/linux/uio.h, 6.3+): true for user-backed iterators (UBUF, IOVEC), whose
    /// extracted pages are pinned with FOLL_PIN and must be released with unpin_user_page; the other types only
    /// list pages.
    /// </summary>
    public bool ExtractWillPin(IovIter i) => i.IsUserBacked;

    /// <summary>
    /// iov_iter_extract_pages (lib/iov_iter.c, 6.3+): list the pages behind the next part of the iterator and
    /// advance it. maxsize is clamped to count and MAX_RW_COUNT (0 → 0). UBUF/IOVEC: the first non-empty segment,
    /// pin_user_pages_fast (FOLL_PIN; FOLL_WRITE for a destination, FOLL_NOFAULT with nofault). KVEC: the first
    /// non-empty segment's pages (virt_to_page). BVEC: page-contiguous pieces of consecutive bvecs, stopping at a
    /// piece that does not end a page or a later piece with an offset. FOLIOQ: page by page across folios.
    /// XARRAY: cached pages up to the first hole. At most <paramref name="maxpages"/> pages; *offset0 is the
    /// offset in the first. If <paramref name="pages"/> is null an array of want_pages_array entries is
    /// allocated; otherwise it must hold maxpages. DISCARD → −EFAULT; before 6.3
    /// (<see cref="Profiles.KernelProfile.IovIterExtract"/> off) −ENOSYS. Returns the bytes extracted.
    /// </summary>
    public long ExtractPages(IovIter i, ref ulong[]? pages, ulong maxsize, int maxpages, out ulong offset0)
    {
        using var _ = _trace.Fn("iov_iter_extract_pages", "iov_iter");
        offset0 = 0;
        if (!_profile.IovIterExtract) return -Errno.ENOSYS;
        maxsize = Math.Min(Math.Min(maxsize, i.Count), MaxRwCount);
        if (maxsize == 0) return 0;
        return i.Type switch
        {
            IterType.ITER_UBUF or IterType.ITER_IOVEC => ExtractUserPages(i, ref pages, maxsize, maxpages, out offset0),
            IterType.ITER_KVEC => ExtractKvecPages(i, ref pages, maxsize, maxpages, out offset0),
            IterType.ITER_BVEC => ExtractBvecPages(i, ref pages, maxsize, maxpages, out offset0),
            IterType.ITER_FOLIOQ => ExtractFolioqPages(i, ref pages, maxsize, maxpages, out offset0),
            IterType.ITER_XARRAY => ExtractXarrayPages(i, ref pages, maxsize, maxpages, out offset0),
            _ => -Errno.EFAULT,
        };
    }

    /// <summary>
    /// want_pages_array: the count, allocating the array if the caller passed none. A caller's array shorter than
    /// the count would be overrun in the kernel; here that is a KASAN-style oops.
    /// </summary>
    private int WantPages(ref ulong[]? pages, ulong size, ulong start, int maxpages)
    {
        var count = WantPagesArray(size, start, maxpages);
        if (count > 0) pages ??= new ulong[count];
        if (pages != null && pages.Length < count) throw _state.Oops("BUG: KASAN: slab-out-of-bounds in iov_iter_extract_pages (page array shorter than maxpages)");
        return count;
    }

    /// <summary>iov_iter_extract_user_pages: first_iovec_segment + pin_user_pages_fast.</summary>
    private long ExtractUserPages(IovIter i, ref ulong[]? pages, ulong maxsize, int maxpages, out ulong offset0)
    {
        if (!FirstIovecSegment(i, ref maxsize, out var addr)) throw _state.Oops("kernel BUG at lib/iov_iter.c! (first_iovec_segment)");
        offset0 = addr % PageDefs.PAGE_SIZE;
        addr &= PageDefs.PAGE_MASK;
        maxpages = WantPages(ref pages, maxsize, offset0, maxpages);
        if (maxpages == 0) return NoPagesArray();
        var res = _gup.PinUserPagesFast(new UserPtr(addr), maxpages, write: !i.DataSource, nofault: i.Nofault, pages);
        if (res <= 0) return res;
        maxsize = Math.Min(maxsize, (ulong)res * PageDefs.PAGE_SIZE - offset0);
        Advance(i, maxsize);
        return (long)maxsize;
    }

    /// <summary>iov_iter_extract_kvec_pages: skip empty segments, then the pages of the current one (not pinned).</summary>
    private long ExtractKvecPages(IovIter i, ref ulong[]? pages, ulong maxsize, int maxpages, out ulong offset0)
    {
        offset0 = 0;
        var skip = i.IovOffset;
        ulong size;
        while (true)
        {
            if (i.NrSegs == 0 || i.SegIndex >= i.SegCountTotal) return 0;
            size = Math.Min(maxsize, i.SegLen(i.SegIndex) - skip);
            if (size != 0) break;
            i.IovOffset = 0;
            i.NrSegs--;
            i.SegIndex++;
            skip = 0;
        }
        var kaddr = i.SegBase(i.SegIndex) + skip;
        offset0 = kaddr % PageDefs.PAGE_SIZE;
        maxpages = WantPages(ref pages, size, offset0, maxpages);
        if (maxpages == 0) return NoPagesArray();
        kaddr -= offset0;
        for (var k = 0; k < maxpages; k++)
        {
            var pa = _kmap.Pa(new KernelPtr(kaddr)) ?? throw _state.Oops($"BUG: unable to handle page fault for address 0x{kaddr:x} (virt_to_page)");
            pages![k] = pa.Pfn;
            kaddr += PageDefs.PAGE_SIZE;
        }
        size = Math.Min(size, (ulong)maxpages * PageDefs.PAGE_SIZE - offset0);
        Advance(i, size);
        return (long)size;
    }

    /// <summary>
    /// iov_iter_extract_bvec_pages: step past an exhausted bvec, then walk single-page pieces (bvec_iter_bvec) while
    /// each ends its page; a later piece with an offset ends the list (not pinned).
    /// </summary>
    private long ExtractBvecPages(IovIter i, ref ulong[]? pages, ulong maxsize, int maxpages, out ulong offset0)
    {
        offset0 = 0;
        if (i.NrSegs == 0 || i.SegIndex >= i.SegCountTotal) return 0;
        var skip = i.IovOffset;
        if (i.IovOffset == i.Bvec(i.SegIndex).Len)
        {
            i.IovOffset = 0;
            i.NrSegs--;
            i.SegIndex++;
            skip = 0;
        }
        maxpages = WantPages(ref pages, maxsize, skip, maxpages);
        if (maxpages == 0) return NoPagesArray();
        ulong biSize = maxsize, done = skip, size = 0;
        var idx = 0;
        var k = 0;
        while (biSize != 0 && (ulong)idx < i.NrSegs && i.SegIndex + idx < i.SegCountTotal)
        {
            var mp = i.Bvec(i.SegIndex + idx);
            var mpOff = mp.Offset + done;
            var bvOffset = mpOff % PageDefs.PAGE_SIZE;
            var bvLen = Math.Min(Math.Min(biSize, mp.Len - done), PageDefs.PAGE_SIZE - bvOffset);
            if (k != 0)
            {
                if (bvOffset != 0) break;
            }
            else
            {
                offset0 = bvOffset;
            }
            pages![k++] = mp.Pfn + mpOff / PageDefs.PAGE_SIZE;
            size += bvLen;
            if (k >= maxpages) break;
            if (bvOffset + bvLen != PageDefs.PAGE_SIZE) break;
            // bvec_iter_advance_single
            done += bvLen;
            biSize -= bvLen;
            if (done == mp.Len)
            {
                idx++;
                done = 0;
            }
        }
        Advance(i, size);
        return (long)size;
    }

    /// <summary>iov_iter_extract_folioq_pages: page by page across the folios (not referenced, not pinned).</summary>
    private long ExtractFolioqPages(IovIter i, ref ulong[]? pages, ulong maxsize, int maxpages, out ulong offset0)
    {
        var res = FolioqPages(i, maxsize, maxpages, out var got, out offset0, getRef: false);
        if (res > 0)
        {
            pages ??= new ulong[got.Length];
            if (pages.Length < got.Length) throw _state.Oops("BUG: KASAN: slab-out-of-bounds in iov_iter_extract_pages (page array shorter than maxpages)");
            got.CopyTo(pages, 0);
        }
        return res;
    }

    /// <summary>iov_iter_extract_xarray_pages: cached pages from the position's index up to a hole; advances.</summary>
    private long ExtractXarrayPages(IovIter i, ref ulong[]? pages, ulong maxsize, int maxpages, out ulong offset0)
    {
        var pos = (ulong)i.XarrayStart + i.IovOffset;
        offset0 = pos % PageDefs.PAGE_SIZE;
        maxpages = WantPages(ref pages, maxsize, offset0, maxpages);
        if (maxpages == 0) return NoPagesArray();
        var nr = XarrayPopulate(i.Xarray!, pos / PageDefs.PAGE_SIZE, pages.AsSpan(0, maxpages), getRef: false);
        // No hole check: with no page found and a non-zero offset the size_t subtraction wraps and min() keeps maxsize.
        maxsize = Math.Min(unchecked((ulong)nr * PageDefs.PAGE_SIZE - offset0), maxsize);
        Advance(i, maxsize);
        return (long)maxsize;
    }
}
