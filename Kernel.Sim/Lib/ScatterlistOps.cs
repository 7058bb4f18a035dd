using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Lib;

/// <summary>
/// lib/scatterlist.c: sg_alloc_table / sg_free_table, the mapping iterator (sg_miter_*), sg_copy_buffer and its
/// wrappers, and extract_iter_to_sg (SG1–SG5 in docs/kernel/iov-iter.md). Bytes move through
/// <see cref="ICopyRoutines.Memcpy"/>, so a poisoned page is consumed as by any kernel memcpy.
/// </summary>
public sealed class ScatterlistOps
{
    /// <summary>SG_MAX_SINGLE_ALLOC: PAGE_SIZE / sizeof(struct scatterlist) (32 bytes on x86-64).</summary>
    public const uint SG_MAX_SINGLE_ALLOC = (uint)(PageDefs.PAGE_SIZE / 32);

    private const uint MaxTableEntries = 1u << 24; // beyond this the simulated kmalloc fails (−ENOMEM)

    private readonly IovIterOps _iov;
    private readonly ICopyRoutines _copy;
    private readonly KernelProfile _profile;
    private readonly Gup _gup;
    private readonly Tracer _trace;
    private readonly MachineState _state;

    /// <summary>Created by the machine's service provider.</summary>
    public ScatterlistOps(IovIterOps iov, ICopyRoutines copy, KernelProfile profile, Gup gup, Tracer trace, MachineState state)
    {
        _iov = iov;
        _copy = copy;
        _profile = profile;
        _gup = gup;
        _trace = trace;
        _state = state;
    }

    // ---- tables (SG1) -----------------------------------------------------------------------------------

    /// <summary>
    /// sg_alloc_table (lib/scatterlist.c): <paramref name="nents"/> zeroed entries, the last end-marked, nents =
    /// orig_nents = nents. 0 → −EINVAL; an allocation that cannot succeed → −ENOMEM (the table is left empty).
    /// </summary>
    public int SgAllocTable(SgTable table, uint nents)
    {
        table.Entries = [];
        table.EndIndex = -1;
        table.Nents = table.OrigNents = 0;
        if (nents == 0) return -Errno.EINVAL;
        if (nents > MaxTableEntries) return -Errno.ENOMEM;
        table.Entries = new Scatterlist[nents];
        table.EndIndex = (int)nents - 1;
        table.Nents = table.OrigNents = nents;
        return 0;
    }

    /// <summary>sg_free_table (lib/scatterlist.c): free the entries; sgl becomes NULL and orig_nents 0 (nents is left).</summary>
    public void SgFreeTable(SgTable table)
    {
        if (table.Entries.Length == 0) return;
        table.Entries = [];
        table.EndIndex = -1;
        table.OrigNents = 0;
    }

    // ---- the mapping iterator (SG2) ---------------------------------------------------------------------

    /// <summary>sg_miter_start: start over the first <paramref name="nents"/> entries (WARN if neither TO_SG nor FROM_SG).</summary>
    public void SgMiterStart(SgMappingIter miter, SgTable table, uint nents, SgMiterFlags flags)
    {
        if ((flags & (SgMiterFlags.SG_MITER_TO_SG | SgMiterFlags.SG_MITER_FROM_SG)) == 0) _state.Printk("WARNING: at lib/scatterlist.c sg_miter_start");
        miter.Table = table;
        miter.Sg = table.Entries.Length == 0 ? -1 : 0;
        miter.SgPgoffset = 0;
        miter.Nents = nents;
        miter.PgAdvance = 0;
        miter.Offset = miter.Remaining = 0;
        miter.Flags = flags;
        miter.Mapped = false;
        miter.Page = 0;
        miter.Addr = default;
        miter.Length = miter.Consumed = 0;
    }

    /// <summary>sg_miter_next: unmap the previous piece, map the next one (at most the rest of a page); false at the end.</summary>
    public bool SgMiterNext(SgMappingIter miter)
    {
        SgMiterStop(miter);
        if (!GetNextPage(miter)) return false;
        var sg = miter.Table!.Entries[miter.Sg];
        miter.Page = sg.Pfn + miter.SgPgoffset;
        miter.Consumed = miter.Length = miter.Remaining;
        miter.Addr = KernelPtr.FromPhys(PhysAddr.FromPfn(miter.Page)) + miter.Offset;
        miter.Mapped = true;
        return true;
    }

    /// <summary>sg_miter_skip: stop, then move <paramref name="offset"/> bytes on; false if the list ends first.</summary>
    public bool SgMiterSkip(SgMappingIter miter, ulong offset)
    {
        SgMiterStop(miter);
        while (offset != 0)
        {
            if (!GetNextPage(miter)) return false;
            var consumed = Math.Min(offset, miter.Remaining);
            miter.Offset += consumed;
            miter.Remaining -= consumed;
            offset -= consumed;
        }
        return true;
    }

    /// <summary>sg_miter_stop: account consumed bytes and drop the mapping (WARN if consumed &gt; length).</summary>
    public void SgMiterStop(SgMappingIter miter)
    {
        if (miter.Consumed > miter.Length) _state.Printk("WARNING: at lib/scatterlist.c sg_miter_stop");
        if (!miter.Mapped) return;
        miter.Offset += miter.Consumed;
        miter.Remaining -= miter.Consumed;
        miter.Mapped = false;
        miter.Page = 0;
        miter.Addr = default;
        miter.Length = miter.Consumed = 0;
    }

    private static ulong SgPageCount(Scatterlist sg) => PageDefs.PageAlign((ulong)sg.Offset + sg.Length) >> PageDefs.PAGE_SHIFT;

    /// <summary>sg_next on the table: NULL (−1) after an end-marked entry or past the array.</summary>
    private static int SgNext(SgTable t, int k) => t.IsLast(k) || k + 1 >= t.Entries.Length ? -1 : k + 1;

    /// <summary>__sg_page_iter_next.</summary>
    private static bool PageIterNext(SgMappingIter m)
    {
        if (m.Nents == 0 || m.Sg < 0) return false;
        m.SgPgoffset += (ulong)m.PgAdvance;
        m.PgAdvance = 1;
        while (m.SgPgoffset >= SgPageCount(m.Table!.Entries[m.Sg]))
        {
            m.SgPgoffset -= SgPageCount(m.Table.Entries[m.Sg]);
            m.Sg = SgNext(m.Table, m.Sg);
            if (--m.Nents == 0 || m.Sg < 0) return false;
        }
        return true;
    }

    /// <summary>sg_miter_get_next_page.</summary>
    private static bool GetNextPage(SgMappingIter m)
    {
        if (m.Remaining != 0) return true;
        if (!PageIterNext(m)) return false;
        var sg = m.Table!.Entries[m.Sg];
        var pgoffset = m.SgPgoffset;
        m.Offset = pgoffset != 0 ? 0 : sg.Offset;
        m.Remaining = unchecked((ulong)sg.Offset + sg.Length - (pgoffset << PageDefs.PAGE_SHIFT) - m.Offset);
        m.Remaining = Math.Min(m.Remaining, unchecked(PageDefs.PAGE_SIZE - m.Offset));
        return true;
    }

    // ---- copies (SG2) -----------------------------------------------------------------------------------

    /// <summary>
    /// sg_copy_buffer (lib/scatterlist.c): skip <paramref name="skip"/> bytes of the list (0 if it is shorter), then
    /// memcpy piece by piece between the list and <paramref name="buf"/> until buflen bytes or the list end.
    /// Returns the bytes copied.
    /// </summary>
    public ulong SgCopyBuffer(SgTable table, uint nents, KernelPtr buf, ulong buflen, ulong skip, bool toBuffer)
    {
        using var _ = _trace.Fn("sg_copy_buffer", "scatterlist");
        var miter = new SgMappingIter();
        SgMiterStart(miter, table, nents, SgMiterFlags.SG_MITER_ATOMIC | (toBuffer ? SgMiterFlags.SG_MITER_FROM_SG : SgMiterFlags.SG_MITER_TO_SG));
        if (!SgMiterSkip(miter, skip)) return 0;
        ulong offset = 0;
        while (offset < buflen && SgMiterNext(miter))
        {
            var len = Math.Min(miter.Length, buflen - offset);
            if (toBuffer) _copy.Memcpy(buf + offset, miter.Addr, len);
            else _copy.Memcpy(miter.Addr, buf + offset, len);
            offset += len;
        }
        SgMiterStop(miter);
        return offset;
    }

    /// <summary>sg_copy_to_buffer: from the list into a linear kernel buffer.</summary>
    public ulong SgCopyToBuffer(SgTable table, uint nents, KernelPtr buf, ulong buflen) => SgCopyBuffer(table, nents, buf, buflen, 0, true);

    /// <summary>sg_copy_from_buffer: from a linear kernel buffer into the list.</summary>
    public ulong SgCopyFromBuffer(SgTable table, uint nents, KernelPtr buf, ulong buflen) => SgCopyBuffer(table, nents, buf, buflen, 0, false);

    // ---- extract_iter_to_sg (SG3–SG5) -------------------------------------------------------------------

    /// <summary>
    /// extract_iter_to_sg (lib/scatterlist.c; netfs_extract_iter_to_sg in fs/netfs until 6.5): append entries for
    /// up to <paramref name="maxsize"/> bytes of the iterator at sgl[nents], at most <paramref name="sgMax"/> of
    /// them, advance the iterator and return the bytes added (nents grows; orig_nents and end marks are left
    /// alone). UBUF/IOVEC pages are pinned (FOLL_PIN, one entry per page); BVEC: one entry per bvec; KVEC: one per
    /// page; FOLIOQ and XARRAY: one per folio. maxsize 0 → 0 (and sg_max 0 once fixed); DISCARD → −EIO with a
    /// WARN; before 6.3 −ENOSYS. Writing past the table is a KASAN-style oops.
    /// </summary>
    public long ExtractIterToSg(IovIter iter, ulong maxsize, SgTable sgtable, uint sgMax)
    {
        using var _ = _trace.Fn("extract_iter_to_sg", "scatterlist");
        if (!_profile.IovIterExtract) return -Errno.ENOSYS;
        if (maxsize == 0 || (sgMax == 0 && !_profile.ExtractKvecToSgOverlong)) return 0;
        var max = (long)Math.Min(maxsize, long.MaxValue);
        switch (iter.Type)
        {
            case IterType.ITER_UBUF:
            case IterType.ITER_IOVEC:
                return ExtractUserToSg(iter, max, sgtable, sgMax);
            case IterType.ITER_BVEC:
                return ExtractBvecToSg(iter, max, sgtable, sgMax);
            case IterType.ITER_KVEC:
                return ExtractKvecToSg(iter, max, sgtable, sgMax);
            case IterType.ITER_FOLIOQ:
                return ExtractFolioqToSg(iter, max, sgtable, sgMax);
            case IterType.ITER_XARRAY:
                return ExtractXarrayToSg(iter, max, sgtable, sgMax);
            default:
                _state.Printk($"extract_iter_to_sg({iter.Type}) unsupported");
                _state.Printk("WARNING: at lib/scatterlist.c extract_iter_to_sg");
                return -Errno.EIO;
        }
    }

    private void Set(SgTable t, uint k, ulong pfn, ulong len, ulong off)
    {
        if (k >= t.Entries.Length) throw _state.Oops("BUG: KASAN: slab-out-of-bounds in extract_iter_to_sg");
        t.SetPage((int)k, pfn, (uint)len, (uint)off);
    }

    /// <summary>
    /// extract_user_to_sg: iov_iter_extract_pages into a scratch list, one entry per page; on a result ≤ 0 (also when
    /// the iterator is used up while maxsize remains) every entry above orig_nents is unpinned and dropped and the
    /// result returned.
    /// </summary>
    private long ExtractUserToSg(IovIter iter, long maxsize, SgTable t, uint sgMax)
    {
        long ret = 0, res;
        var scratch = new ulong[sgMax];
        do
        {
            ulong[]? pages = scratch;
            res = _iov.ExtractPages(iter, ref pages, (ulong)maxsize, (int)Math.Min(sgMax, int.MaxValue), out var off);
            if (res <= 0) goto failed;
            var len = (ulong)res;
            maxsize -= res;
            ret += res;
            var npages = (uint)((off + len + PageDefs.PAGE_SIZE - 1) / PageDefs.PAGE_SIZE);
            sgMax -= npages;
            for (var k = 0; npages > 0; npages--, k++)
            {
                var seg = Math.Min(PageDefs.PAGE_SIZE - off, len);
                Set(t, t.Nents, scratch[k], seg, off);
                t.Nents++;
                len -= seg;
                off = 0;
            }
        } while (maxsize > 0 && sgMax > 0);
        return ret;
    failed:
        while (t.Nents > t.OrigNents) _gup.UnpinUserPage(t.Entries[--t.Nents].Pfn);
        return res;
    }

    /// <summary>extract_bvec_to_sg: one entry (bv_page, len, bv_offset + start) per bvec from the current one.</summary>
    private long ExtractBvecToSg(IovIter iter, long maxsize, SgTable t, uint sgMax)
    {
        var start = iter.IovOffset;
        long ret = 0;
        for (var k = 0UL; k < iter.NrSegs && iter.SegIndex + (int)k < iter.SegCountTotal; k++)
        {
            var bv = iter.Bvec(iter.SegIndex + (int)k);
            ulong len = bv.Len;
            if (start >= len)
            {
                start -= len;
                continue;
            }
            len = Math.Min((ulong)maxsize, len - start);
            Set(t, t.Nents, bv.Pfn, len, bv.Offset + start);
            t.Nents++;
            sgMax--;
            ret += (long)len;
            maxsize -= (long)len;
            if (maxsize <= 0 || sgMax == 0) break;
            start = 0;
        }
        if (ret > 0) _iov.Advance(iter, (ulong)ret);
        return ret;
    }

    /// <summary>
    /// extract_kvec_to_sg: one entry per page of each segment from the current one. With
    /// <see cref="KernelProfile.ExtractKvecToSgOverlong"/> (6.3–7.0) each entry's length is the rest of the segment
    /// (so entries overrun their page) and a segment cut short by sg_max still counts whole (SG4).
    /// </summary>
    private long ExtractKvecToSg(IovIter iter, long maxsize, SgTable t, uint sgMax)
    {
        var start = iter.IovOffset;
        long ret = 0;
        var buggy = _profile.ExtractKvecToSgOverlong;
        for (var k = 0UL; k < iter.NrSegs && iter.SegIndex + (int)k < iter.SegCountTotal; k++)
        {
            var seglen = iter.SegLen(iter.SegIndex + (int)k);
            if (start >= seglen)
            {
                start -= seglen;
                continue;
            }
            var kaddr = iter.SegBase(iter.SegIndex + (int)k) + start;
            var off = kaddr % PageDefs.PAGE_SIZE;
            var len = Math.Min((ulong)maxsize, seglen - start);
            kaddr &= PageDefs.PAGE_MASK;
            maxsize -= (long)len;
            ret += (long)len;
            do
            {
                var seg = Math.Min(len, PageDefs.PAGE_SIZE - off);
                var pa = PageDefs.PAGE_OFFSET <= kaddr ? kaddr - PageDefs.PAGE_OFFSET : throw _state.Oops($"BUG: virt_to_page of 0x{kaddr:x}");
                Set(t, t.Nents, pa >> PageDefs.PAGE_SHIFT, buggy ? len : seg, off);
                t.Nents++;
                sgMax--;
                len -= seg;
                kaddr += PageDefs.PAGE_SIZE;
                off = 0;
            } while (len > 0 && sgMax > 0);
            if (!buggy) ret -= (long)len;
            if (maxsize <= 0 || sgMax == 0) break;
            start = 0;
        }
        if (ret > 0) _iov.Advance(iter, (ulong)ret);
        return ret;
    }

    /// <summary>extract_folioq_to_sg: one entry (first page of the folio, part, offset in the folio) per folio.</summary>
    private long ExtractFolioqToSg(IovIter iter, long maxsize, SgTable t, uint sgMax)
    {
        var fq = iter.Folioq!;
        var slot = iter.FolioqSlot;
        long ret = 0;
        var offset = iter.IovOffset;
        if (slot >= FolioQueue.NrSlots)
        {
            if (fq.Next == null)
            {
                _state.Printk("WARNING: at lib/scatterlist.c extract_folioq_to_sg");
                return 0;
            }
            fq = fq.Next;
            slot = 0;
        }
        do
        {
            var fsize = fq.FolioSize(slot);
            if (offset < fsize)
            {
                if (!fq.Present(slot)) break; // a NULL folio: the kernel would list a NULL page
                var part = Math.Min((ulong)(maxsize - ret), fsize - offset);
                Set(t, t.Nents, fq.Pfn(slot), part, offset);
                t.Nents++;
                sgMax--;
                offset += part;
                ret += (long)part;
            }
            if (offset >= fsize)
            {
                offset = 0;
                slot++;
                if (slot >= FolioQueue.NrSlots)
                {
                    if (fq.Next == null)
                    {
                        if ((ulong)ret < iter.Count) _state.Printk("WARNING: at lib/scatterlist.c extract_folioq_to_sg");
                        break;
                    }
                    fq = fq.Next;
                    slot = 0;
                }
            }
        } while (sgMax > 0 && ret < maxsize);
        iter.Folioq = fq;
        iter.FolioqSlot = slot;
        iter.IovOffset = offset;
        iter.Count -= (ulong)ret;
        return ret;
    }

    /// <summary>
    /// extract_xarray_to_sg: one entry per cached folio from the position's index (holes skipped). The offset of
    /// every entry is offset_in_folio(folio, start) with start never moved on, so after an unaligned start the
    /// later entries keep the first entry's offset (SG5).
    /// </summary>
    private long ExtractXarrayToSg(IovIter iter, long maxsize, SgTable t, uint sgMax)
    {
        var mapping = iter.Xarray!;
        var start = (ulong)iter.XarrayStart + iter.IovOffset;
        long ret = 0;
        for (var f = mapping.FindFrom(start / PageDefs.PAGE_SIZE); f != null; f = mapping.FindFrom(f.Index + 1))
        {
            var offset = start % PageDefs.PAGE_SIZE;
            var len = Math.Min((ulong)maxsize, PageDefs.PAGE_SIZE - offset);
            Set(t, t.Nents, f.Pfn, len, offset);
            t.Nents++;
            sgMax--;
            maxsize -= (long)len;
            ret += (long)len;
            if (maxsize <= 0 || sgMax == 0) break;
        }
        if (ret > 0) _iov.Advance(iter, (ulong)ret);
        return ret;
    }
}
