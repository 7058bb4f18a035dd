using KernelSim.Arch.X86;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Lib;

public sealed partial class IovIterOps
{
    // ---- positioning (D16–D21) ---------------------------------------------------------------------------

    /// <summary>
    /// iov_iter_advance (lib/iov_iter.c): clamp to count; UBUF adds to iov_offset; IOVEC/KVEC/BVEC walk segments.
    /// With <see cref="Profiles.KernelProfile.IovIterAdvanceSkipsEmpty"/> (5.14+) the walk stops at the first
    /// segment with remaining size &lt; its length, so zero-length segments after the landing point are skipped;
    /// before, the iterate_and_advance macro stopped right after an exactly consumed segment (D16, WE8).
    /// DISCARD: count −= size.
    /// </summary>
    public void Advance(IovIter i, ulong size)
    {
        if (!_trace.Enabled) { AdvanceBody(i, size); return; } // tracing off: no traced frame at all
        using var _ = _trace.Fn("iov_iter_advance", "iov_iter");
        AdvanceBody(i, size);
    }

    private void AdvanceBody(IovIter i, ulong size)
    {
        if (i.Count < size) size = i.Count;
        switch (i.Type)
        {
            case IterType.ITER_UBUF:
            case IterType.ITER_XARRAY:
                i.IovOffset += size;
                i.Count -= size;
                return;
            case IterType.ITER_DISCARD:
                i.Count -= size;
                return;
            case IterType.ITER_FOLIOQ:
                FolioqAdvance(i, size);
                return;
        }
        if (_profile.IovIterAdvanceSkipsEmpty) SegAdvance(i, size);
        else OldSegAdvance(i, size);
    }

    /// <summary>
    /// iov_iter_folioq_advance (6.12+): step to the next segment if the slot is past the last; then from iov_offset
    /// walk whole folios while the size reaches their end (D25).
    /// </summary>
    private void FolioqAdvance(IovIter i, ulong size)
    {
        if (i.Count == 0) return;
        var fq = i.Folioq!;
        var slot = i.FolioqSlot;
        i.Count -= size;
        if (slot >= FolioQueue.NrSlots)
        {
            fq = fq.Next ?? throw _state.Oops("BUG: kernel NULL pointer dereference (iov_iter_folioq_advance)");
            slot = 0;
        }
        size += i.IovOffset;
        do
        {
            var fsize = fq.FolioSize(slot);
            if (size < fsize) break;
            size -= fsize;
            slot++;
            if (slot >= FolioQueue.NrSlots && fq.Next != null)
            {
                fq = fq.Next;
                slot = 0;
            }
        } while (size != 0);
        i.IovOffset = size;
        i.FolioqSlot = slot;
        i.Folioq = fq;
    }

    /// <summary>iov_iter_folioq_revert (6.12+): walk back whole folios (and segments) to where <paramref name="unroll"/> lands.</summary>
    private void FolioqRevert(IovIter i, ulong unroll)
    {
        var fq = i.Folioq!;
        var slot = i.FolioqSlot;
        while (true)
        {
            if (slot == 0)
            {
                fq = fq.Prev ?? throw _state.Oops("BUG: kernel NULL pointer dereference (iov_iter_folioq_revert before the first segment)");
                slot = FolioQueue.NrSlots;
            }
            slot--;
            var fsize = fq.FolioSize(slot);
            if (unroll <= fsize)
            {
                i.IovOffset = fsize - unroll;
                break;
            }
            unroll -= fsize;
        }
        i.FolioqSlot = slot;
        i.Folioq = fq;
    }

    /// <summary>iov_iter_iovec_advance / iov_iter_bvec_advance (5.14+).</summary>
    private static void SegAdvance(IovIter i, ulong size)
    {
        if (i.Count == 0) return;
        i.Count -= size;
        size += i.IovOffset;
        var idx = i.SegIndex;
        var end = i.SegIndex + (int)Math.Min(i.NrSegs, (ulong)(i.SegCountTotal - i.SegIndex));
        for (; idx < end; idx++)
        {
            var len = i.SegLen(idx);
            if (size < len) break;
            size -= len;
        }
        i.IovOffset = size;
        i.NrSegs -= (ulong)(idx - i.SegIndex);
        i.SegIndex = idx;
    }

    /// <summary>
    /// ≤5.13 iov_iter_advance: iterate_and_advance with a no-op step (iterate_iovec/iterate_kvec, then "if skip
    /// == iov_len move on"; BVEC via bvec_iter_advance, which also stops after an exactly consumed bvec).
    /// </summary>
    private static void OldSegAdvance(IovIter i, ulong n)
    {
        if (i.Count == 0) return;
        var total = i.SegCountTotal;
        var idx = i.SegIndex;
        var skip = i.IovOffset;
        var wanted = n;
        if (idx < total)
        {
            var len = Math.Min(n, i.SegLen(idx) - skip);
            skip += len;
            n -= len;
            while (n != 0 && idx + 1 < total)
            {
                idx++;
                len = Math.Min(n, i.SegLen(idx));
                if (len == 0) continue;
                skip = len;
                n -= len;
            }
            if (idx < total && skip == i.SegLen(idx))
            {
                idx++;
                skip = 0;
            }
        }
        i.NrSegs -= (ulong)(idx - i.SegIndex);
        i.SegIndex = idx;
        i.Count -= wanted - n;
        i.IovOffset = skip;
    }

    /// <summary>
    /// iov_iter_revert (lib/iov_iter.c): undo <paramref name="unroll"/> bytes. 0 is a no-op; more than
    /// MAX_RW_COUNT WARNs and is ignored. Within iov_offset it just subtracts; otherwise it steps back over
    /// segments (each step nr_segs++) to the first whose length ≥ what is left, landing at len − left
    /// (zero-length segments are passed over); FOLIOQ walks back whole folios. Going before the start of a UBUF or
    /// XARRAY iterator is a BUG() (an oops);
    /// so is going before the first segment of the array (the kernel would read before it) (D17).
    /// </summary>
    public void Revert(IovIter i, ulong unroll)
    {
        using var _ = _trace.Fn("iov_iter_revert", "iov_iter");
        if (unroll == 0) return;
        if (unroll > MaxRwCount)
        {
            WarnOnce("iov_iter_revert");
            return;
        }
        i.Count += unroll;
        if (i.Type == IterType.ITER_DISCARD) return;
        if (unroll <= i.IovOffset)
        {
            i.IovOffset -= unroll;
            return;
        }
        unroll -= i.IovOffset;
        if (i.Type is IterType.ITER_UBUF or IterType.ITER_XARRAY) throw _state.Oops($"kernel BUG at lib/iov_iter.c! (iov_iter_revert before the start of an {i.Type})");
        if (i.Type == IterType.ITER_FOLIOQ)
        {
            i.IovOffset = 0;
            FolioqRevert(i, unroll);
            return;
        }
        var idx = i.SegIndex;
        while (true)
        {
            if (--idx < 0) throw _state.Oops("kernel BUG: iov_iter_revert before the first segment");
            var n = i.SegLen(idx);
            i.NrSegs++;
            if (unroll <= n)
            {
                i.SegIndex = idx;
                i.IovOffset = n - unroll;
                return;
            }
            unroll -= n;
        }
    }

    /// <summary>iov_iter_truncate (include/linux/uio.h): count = min(count, n) (D18).</summary>
    public void Truncate(IovIter i, ulong count)
    {
        if (i.Count > count) i.Count = count;
    }

    /// <summary>iov_iter_reexpand (include/linux/uio.h): count = n (D18).</summary>
    public void Reexpand(IovIter i, ulong count) => i.Count = count;

    /// <summary>
    /// iov_iter_single_seg_count (lib/iov_iter.c): with more than one segment left, min(count, current length −
    /// iov_offset) for IOVEC/KVEC/BVEC; otherwise count (D19). Can be 0 on a zero-length current segment.
    /// </summary>
    public ulong SingleSegCount(IovIter i)
    {
        if (i.NrSegs > 1 && i.Type is IterType.ITER_IOVEC or IterType.ITER_KVEC or IterType.ITER_BVEC && i.SegIndex < i.SegCountTotal)
            return Math.Min(i.Count, i.SegLen(i.SegIndex) - i.IovOffset);
        if (i.Type == IterType.ITER_FOLIOQ)
            return i.Count == 0 ? 0 : Math.Min(i.Folioq!.FolioSize(i.FolioqSlot), i.Count);
        return i.Count;
    }

    /// <summary>
    /// iov_iter_npages (lib/iov_iter.c): pages spanned by what is left, capped at <paramref name="maxpages"/>.
    /// IOVEC/KVEC skip empty segments; BVEC does not; FOLIOQ/XARRAY: the pages spanned from the in-page offset (D20).
    /// </summary>
    public int Npages(IovIter i, int maxpages)
    {
        if (i.Count == 0) return 0;
        switch (i.Type)
        {
            case IterType.ITER_UBUF:
            case IterType.ITER_FOLIOQ:
            case IterType.ITER_XARRAY:
            {
                var offs = i.Type switch
                {
                    IterType.ITER_UBUF => PageDefs.OffsetInPage(i.UbufBase.Value + i.IovOffset),
                    IterType.ITER_FOLIOQ => i.IovOffset % PageDefs.PAGE_SIZE,
                    _ => ((ulong)i.XarrayStart + i.IovOffset) % PageDefs.PAGE_SIZE,
                };
                var np = DivRoundUp(offs + i.Count, PageDefs.PAGE_SIZE);
                return (int)Math.Min(np, (ulong)Math.Max(maxpages, 0));
            }
            case IterType.ITER_IOVEC:
            case IterType.ITER_KVEC:
            case IterType.ITER_BVEC:
            {
                ulong skip = i.IovOffset, size = i.Count, npages = 0;
                var bvec = i.Type == IterType.ITER_BVEC;
                for (var idx = i.SegIndex; size != 0 && idx < i.SegCountTotal; skip = 0, idx++)
                {
                    var offs = bvec ? (i.Bvec(idx).Offset + skip) % PageDefs.PAGE_SIZE : PageDefs.OffsetInPage(i.SegBase(idx) + skip);
                    var len = Math.Min(i.SegLen(idx) - skip, size);
                    if (len == 0 && !bvec) continue;
                    size -= len;
                    npages += DivRoundUp(offs + len, PageDefs.PAGE_SIZE);
                    if (npages > (ulong)Math.Max(maxpages, 0)) return maxpages;
                }
                return (int)npages;
            }
            default:
                return 0;
        }
    }

    private static ulong DivRoundUp(ulong a, ulong b) => (a + b - 1) / b;

    /// <summary>
    /// iov_iter_alignment (lib/iov_iter.c): OR of every remaining segment start and length (last length clipped
    /// to count). IOVEC/KVEC skip empty segments; BVEC's result is an unsigned int; UBUF (addr | count), 0 if
    /// count is 0; FOLIOQ (iov_offset | count); XARRAY ((xarray_start + iov_offset) | count); DISCARD 0 (D21).
    /// </summary>
    public ulong Alignment(IovIter i)
    {
        switch (i.Type)
        {
            case IterType.ITER_UBUF:
                return i.Count != 0 ? (i.UbufBase.Value + i.IovOffset) | i.Count : 0;
            case IterType.ITER_FOLIOQ:
                return i.IovOffset | i.Count;
            case IterType.ITER_XARRAY:
                return ((ulong)i.XarrayStart + i.IovOffset) | i.Count;
            case IterType.ITER_IOVEC:
            case IterType.ITER_KVEC:
            {
                ulong res = 0, size = i.Count, skip = i.IovOffset;
                var idx = i.SegIndex;
                do
                {
                    if (idx >= i.SegCountTotal) break;
                    var len = i.SegLen(idx) - skip;
                    if (len != 0)
                    {
                        res |= i.SegBase(idx) + skip;
                        if (len > size) len = size;
                        res |= len;
                        size -= len;
                    }
                    idx++;
                    skip = 0;
                } while (size != 0);
                return res;
            }
            case IterType.ITER_BVEC:
            {
                uint res = 0;
                ulong size = i.Count, skip = i.IovOffset;
                var idx = i.SegIndex;
                do
                {
                    if (idx >= i.SegCountTotal) break;
                    var bv = i.Bvec(idx);
                    var len = bv.Len - skip;
                    res |= (uint)(bv.Offset + skip);
                    if (len > size) len = size;
                    res |= (uint)len;
                    idx++;
                    size -= len;
                    skip = 0;
                } while (size != 0);
                return res;
            }
            default:
                return 0;
        }
    }

    // ---- import (D23) ----------------------------------------------------------------------------------------

    /// <summary>
    /// import_iovec (lib/iov_iter.c __import_iovec): read <paramref name="nrSegs"/> struct iovec (16 bytes:
    /// base, len) from user memory at <paramref name="uvec"/> in current's address space and build the iterator.
    /// nr_segs is an unsigned int (the syscall's unsigned long is truncated); 0 → an empty IOVEC and 0;
    /// &gt; UIO_MAXIOV (1024) → −EINVAL; the array failing access_ok or faulting → −EFAULT; a length negative as
    /// ssize_t → −EINVAL; any segment failing access_ok(base, len) → −EFAULT; the total is capped at
    /// MAX_RW_COUNT by shortening the segment that crosses it (later segments become empty). A single segment
    /// is imported as UBUF on <see cref="Profiles.KernelProfile.UbufIter"/> (6.0+). Returns the total length.
    /// </summary>
    public long ImportIovec(UserPtr uvec, long nrSegs, bool source, out IovIter iter)
    {
        using var _ = _trace.Fn("import_iovec", "iov_iter");
        // Every failure leaves an empty IOVEC iterator; it is made only on those paths (none on a successful import).
        var nr = (uint)nrSegs;
        if (nr == 1 && _profile.UbufIter)
        {
            Span<Iovec> one = stackalloc Iovec[1];
            var r = CopyIovecFromUser(one, uvec, 1);
            if (r != 0) return Failed(source, r, out iter);
            var ret = ImportUbuf(source, one[0].Base, one[0].Len, out iter);
            return ret != 0 ? ret : (long)iter.Count;
        }
        if (nr == 0) return Failed(source, 0, out iter);
        if (nr > UioMaxIov) return Failed(source, -Errno.EINVAL, out iter);
        var iov = new Iovec[nr];
        var err = CopyIovecFromUser(iov, uvec, (int)nr);
        if (err != 0) return Failed(source, err, out iter);
        ulong total = 0;
        for (var seg = 0; seg < iov.Length; seg++)
        {
            var len = iov[seg].Len;
            if (!CopyRoutines.AccessOk(iov[seg].Base, len)) return Failed(source, -Errno.EFAULT, out iter);
            if (len > MaxRwCount - total)
            {
                len = MaxRwCount - total;
                iov[seg] = iov[seg] with { Len = len };
            }
            total += len;
        }
        iter = IovIter.Iovec(source, iov, total);
        return (long)total;
    }

    /// <summary>An import that produced no segments: <paramref name="ret"/> with an empty IOVEC iterator.</summary>
    private static long Failed(bool source, long ret, out IovIter iter)
    {
        iter = IovIter.Empty(source);
        return ret;
    }

    /// <summary>copy_iovec_from_user: user_access_begin over the array, then per entry get iov_len (negative → −EINVAL) and iov_base.</summary>
    private int CopyIovecFromUser(Span<Iovec> into, UserPtr uvec, int nr)
    {
        using var _ = _trace.Fn("copy_iovec_from_user", "iov_iter");
        if (!CopyRoutines.AccessOk(uvec, (ulong)nr * Iovec.Size)) return -Errno.EFAULT;
        for (var k = 0; k < nr; k++)
        {
            var e = uvec + (ulong)k * Iovec.Size;
            if (_copy.GetUser(e + 8UL, 8, out var len) != 0) return -Errno.EFAULT;
            if (_copy.GetUser(e, 8, out var b) != 0) return -Errno.EFAULT;
            if ((long)len < 0) return -Errno.EINVAL;
            into[k] = new Iovec(new UserPtr(b), len);
        }
        return 0;
    }

    /// <summary>
    /// import_ubuf (lib/iov_iter.c, 6.0+): len capped at MAX_RW_COUNT; access_ok failure → −EFAULT; else a UBUF
    /// iterator and 0. Before 6.0 (<see cref="Profiles.KernelProfile.UbufIter"/> off) this is
    /// import_single_range, which builds a one-segment IOVEC with the same checks.
    /// </summary>
    public int ImportUbuf(bool source, UserPtr buf, ulong len, out IovIter iter)
    {
        using var _ = _trace.Fn(_profile.UbufIter ? "import_ubuf" : "import_single_range", "iov_iter");
        if (len > MaxRwCount) len = MaxRwCount;
        if (!CopyRoutines.AccessOk(buf, len)) return (int)Failed(source, -Errno.EFAULT, out iter);
        iter = _profile.UbufIter ? IovIter.Ubuf(source, buf, len) : IovIter.Iovec(source, [new Iovec(buf, len)], len);
        return 0;
    }

    // ---- fault-in (FI2, FI3) ------------------------------------------------------------------------------------

    /// <summary>
    /// fault_in_iov_iter_readable (lib/iov_iter.c, 5.16+): bytes of the first <paramref name="size"/> NOT faulted
    /// in; bytes requested beyond count count as not faulted in. UBUF: one fault_in_readable; IOVEC: per
    /// non-empty segment from the current position, stopping at the first partial one; other types 0. The
    /// iterator is not modified (FI2, WE13).
    /// </summary>
    public ulong FaultInIovIterReadable(IovIter i, ulong size)
    {
        using var _ = _trace.Fn("fault_in_iov_iter_readable", "iov_iter");
        return FaultInIter(i, size, write: false);
    }

    /// <summary>fault_in_iov_iter_writeable (lib/iov_iter.c, 5.16+): as the readable form with fault_in_safe_writeable (FI2).</summary>
    public ulong FaultInIovIterWriteable(IovIter i, ulong size)
    {
        using var _ = _trace.Fn("fault_in_iov_iter_writeable", "iov_iter");
        return FaultInIter(i, size, write: true);
    }

    private ulong FaultIn(ulong addr, ulong len, bool write) =>
        write ? _gup.FaultInSafeWriteable(new UserPtr(addr), len) : _gup.FaultInReadable(new UserPtr(addr), len);

    private ulong FaultInIter(IovIter i, ulong size, bool write)
    {
        if (i.Type == IterType.ITER_UBUF)
        {
            var n = Math.Min(size, i.Count);
            n -= FaultIn(i.UbufBase.Value + i.IovOffset, n, write);
            return size - n;
        }
        if (i.Type != IterType.ITER_IOVEC) return 0;
        var count = Math.Min(size, i.Count);
        size -= count;
        var skip = i.IovOffset;
        for (var idx = i.SegIndex; count != 0 && idx < i.SegCountTotal; idx++, skip = 0)
        {
            var len = Math.Min(count, i.SegLen(idx) - skip);
            if (len == 0) continue;
            var ret = FaultIn(i.SegBase(idx) + skip, len, write);
            count -= len - ret;
            if (ret != 0) break;
        }
        return count + size;
    }

    /// <summary>
    /// iov_iter_fault_in_readable (lib/iov_iter.c, ≈4.9–5.15): fault_in_pages_readable over each IOVEC piece of the
    /// first <paramref name="bytes"/> (clamped to count here; the kernel relied on callers); 0 or the first
    /// −EFAULT. KVEC/BVEC/DISCARD → 0 (FI3).
    /// </summary>
    public int IovIterFaultInReadable(IovIter i, ulong bytes)
    {
        using var _ = _trace.Fn("iov_iter_fault_in_readable", "iov_iter");
        if (bytes > i.Count) bytes = i.Count;
        if (i.Type == IterType.ITER_UBUF)
            return bytes == 0 ? 0 : _gup.FaultInPagesReadable(new UserPtr(i.UbufBase.Value + i.IovOffset), bytes);
        if (i.Type != IterType.ITER_IOVEC) return 0;
        var skip = i.IovOffset;
        for (var idx = i.SegIndex; bytes != 0 && idx < i.SegCountTotal; idx++, skip = 0)
        {
            var len = Math.Min(bytes, i.SegLen(idx) - skip);
            if (len == 0) continue;
            var err = _gup.FaultInPagesReadable(new UserPtr(i.SegBase(idx) + skip), len);
            if (err != 0) return err;
            bytes -= len;
        }
        return 0;
    }
}
