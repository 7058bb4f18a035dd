using KernelSim.Arch.X86;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Lib;

public sealed partial class IovIterOps
{
    // ---- get_pages (D22) ------------------------------------------------------------------------------------

    /// <summary>
    /// iov_iter_get_pages2 (lib/iov_iter.c, 6.0+; iov_iter_get_pages before): pin the pages behind the start of
    /// the iterator. maxsize is clamped to count and MAX_RW_COUNT. UBUF/IOVEC use only the first non-empty
    /// segment and get_user_pages_fast (FOLL_WRITE for a destination, FOLL_NOFAULT if <see cref="IovIter.Nofault"/>);
    /// a GUP result ≤ 0 is returned as is (−EFAULT when the first page fails). BVEC returns the pages of the current
    /// bvec; FOLIOQ and XARRAY take a reference on each page (D22). KVEC/DISCARD → −EFAULT. Returns the bytes
    /// covered (from <paramref name="start"/> in the first page); the iterator advances by them only on
    /// <see cref="Profiles.KernelProfile.GetPagesAdvances"/>.
    /// </summary>
    public long GetPages2(IovIter i, ulong maxsize, int maxpages, out ulong[] pages, out ulong start)
    {
        using var _ = _trace.Fn(_getPagesFn, "iov_iter");
        pages = [];
        start = 0;
        if (maxpages <= 0) return 0;
        return GetPagesAlloc(i, maxsize, maxpages, out pages, out start);
    }

    /// <summary>
    /// <see cref="GetPages2(IovIter, ulong, int, out ulong[], out ulong)"/> into the caller's page array, as
    /// bio_iov_iter_get_pages passes the bio's own bvec array: the same walk, trace and result; the pages land in
    /// <paramref name="pages"/>[0 .. <paramref name="count"/>). A user-backed iterator allocates nothing.
    /// </summary>
    internal long GetPages2(IovIter i, ulong maxsize, int maxpages, Span<ulong> pages, out int count, out ulong start)
    {
        if (!_trace.Enabled) return GetPages2Body(i, maxsize, maxpages, pages, out count, out start); // tracing off: no traced frame at all
        using var _ = _trace.Fn(_getPagesFn, "iov_iter");
        return GetPages2Body(i, maxsize, maxpages, pages, out count, out start);
    }

    private long GetPages2Body(IovIter i, ulong maxsize, int maxpages, Span<ulong> pages, out int count, out ulong start)
    {
        count = 0;
        start = 0;
        maxpages = Math.Min(maxpages, pages.Length);
        if (maxpages <= 0) return 0;
        if (i.IsUserBacked && maxsize != 0 && i.Count != 0) return UserGetPages(i, maxsize, maxpages, pages, out count, out start);
        var r = GetPagesAlloc(i, maxsize, maxpages, out var arr, out start);
        arr.CopyTo(pages);
        count = arr.Length;
        return r;
    }

    /// <summary>
    /// iov_iter_get_pages_alloc2 (lib/iov_iter.c, 6.0+; iov_iter_get_pages_alloc before): as
    /// <see cref="GetPages2(IovIter, ulong, int, out ulong[], out ulong)"/> with no page limit (maxpages ~0U); the array is sized by want_pages_array and is
    /// empty when the result is ≤ 0.
    /// </summary>
    public long GetPagesAlloc2(IovIter i, ulong maxsize, out ulong[] pages, out ulong start)
    {
        using var _ = _trace.Fn(_profile.GetPagesAdvances ? "iov_iter_get_pages_alloc2" : "iov_iter_get_pages_alloc", "iov_iter");
        var len = GetPagesAlloc(i, maxsize, int.MaxValue, out pages, out start);
        if (len <= 0) pages = [];
        return len;
    }

    /// <summary>__iov_iter_get_pages_alloc (lib/iov_iter.c).</summary>
    private long GetPagesAlloc(IovIter i, ulong maxsize, int maxpages, out ulong[] pages, out ulong start)
    {
        pages = [];
        start = 0;
        if (maxsize > i.Count) maxsize = i.Count;
        if (maxsize == 0) return 0;
        if (maxsize > MaxRwCount) maxsize = MaxRwCount;
        if (i.IsUserBacked)
        {
            var buf = new ulong[UserPagesWanted(i, maxsize, maxpages)];
            var res = UserGetPages(i, maxsize, maxpages, buf, out var got, out start);
            if (res <= 0) return res;
            pages = got == buf.Length ? buf : buf.AsSpan(0, got).ToArray();
            return res;
        }
        if (i.Type == IterType.ITER_BVEC && i.SegIndex < i.SegCountTotal)
        {
            var bv = i.Bvec(i.SegIndex);
            var skip = i.IovOffset;
            var len = bv.Len - skip;
            if (maxsize > len) maxsize = len;
            skip += bv.Offset;
            var page = bv.Pfn + skip / PageDefs.PAGE_SIZE;
            start = skip % PageDefs.PAGE_SIZE;
            var n = WantPagesArray(maxsize, start, maxpages);
            pages = new ulong[n];
            for (var k = 0; k < n; k++)
            {
                pages[k] = page + (ulong)k;
                _gup.GetPage(page + (ulong)k);
            }
            maxsize = Math.Min(maxsize, (ulong)n * PageDefs.PAGE_SIZE - start);
            if (_profile.GetPagesAdvances)
            {
                i.Count -= maxsize;
                i.IovOffset += maxsize;
                if (i.IovOffset == bv.Len)
                {
                    i.IovOffset = 0;
                    i.SegIndex++;
                    i.NrSegs--;
                }
            }
            return (long)maxsize;
        }
        if (i.Type == IterType.ITER_FOLIOQ) return FolioqGetPages(i, maxsize, maxpages, out pages, out start);
        if (i.Type == IterType.ITER_XARRAY) return XarrayGetPages(i, maxsize, maxpages, out pages, out start);
        return -Errno.EFAULT;
    }

    /// <summary>The page count want_pages_array gives a user-backed iterator (0 &lt; maxsize ≤ count).</summary>
    private static int UserPagesWanted(IovIter i, ulong maxsize, int maxpages)
    {
        if (maxsize > MaxRwCount) maxsize = MaxRwCount;
        if (!FirstIovecSegment(i, ref maxsize, out var addr)) return 0;
        return WantPagesArray(maxsize, addr % PageDefs.PAGE_SIZE, maxpages);
    }

    /// <summary>
    /// The UBUF/IOVEC part of __iov_iter_get_pages_alloc: get_user_pages_fast on the first non-empty segment into
    /// <paramref name="buf"/> (at least want_pages_array long); advances the iterator on 6.0+. Returns the bytes covered.
    /// </summary>
    private long UserGetPages(IovIter i, ulong maxsize, int maxpages, Span<ulong> buf, out int got, out ulong start)
    {
        got = 0;
        if (maxsize > i.Count) maxsize = i.Count;
        if (maxsize > MaxRwCount) maxsize = MaxRwCount;
        if (!FirstIovecSegment(i, ref maxsize, out var addr)) throw _state.Oops("kernel BUG at lib/iov_iter.c! (first_iovec_segment)");
        start = addr % PageDefs.PAGE_SIZE;
        addr &= PageDefs.PAGE_MASK;
        var n = WantPagesArray(maxsize, start, maxpages);
        var res = _gup.GetUserPagesFast(new UserPtr(addr), n, write: !i.DataSource, nofault: i.Nofault, buf[..n]);
        if (res <= 0) return res;
        got = (int)res;
        maxsize = Math.Min(maxsize, (ulong)res * PageDefs.PAGE_SIZE - start);
        if (_profile.GetPagesAdvances)
        {
            if (i.Type == IterType.ITER_UBUF && !_trace.Enabled)
            {
                // iov_iter_advance's UBUF case (maxsize ≤ count here), without its traced frame.
                i.IovOffset += maxsize;
                i.Count -= maxsize;
            }
            else Advance(i, maxsize);
        }
        return (long)maxsize;
    }

    /// <summary>want_pages_array: DIV_ROUND_UP(size + start, PAGE_SIZE) capped at maxpages.</summary>
    private static int WantPagesArray(ulong size, ulong start, int maxpages) =>
        (int)Math.Min(DivRoundUp(size + start, PageDefs.PAGE_SIZE), (ulong)maxpages);

    /// <summary>first_iovec_segment: UBUF's current address, or the first non-empty iovec (size clamped to it).</summary>
    private static bool FirstIovecSegment(IovIter i, ref ulong size, out ulong addr)
    {
        if (i.Type == IterType.ITER_UBUF)
        {
            addr = i.UbufBase.Value + i.IovOffset;
            return true;
        }
        var skip = i.IovOffset;
        for (var k = 0UL; k < i.NrSegs && i.SegIndex + (int)k < i.SegCountTotal; k++, skip = 0)
        {
            var idx = i.SegIndex + (int)k;
            var len = i.SegLen(idx) - skip;
            if (len == 0) continue;
            if (size > len) size = len;
            addr = i.SegBase(idx) + skip;
            return true;
        }
        addr = 0;
        return false;
    }
}
