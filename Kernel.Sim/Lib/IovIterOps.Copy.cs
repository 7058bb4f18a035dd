using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Lib;

/// <summary>The copies of <see cref="IovIterOps"/> (lib/iov_iter.c): copy_to_iter / copy_from_iter with their nocache, flushcache and machine-check-safe forms, the page and folio copies, and iov_iter_zero.</summary>
public sealed partial class IovIterOps
{
    // ---- copies (D9–D15) ---------------------------------------------------------------------------------

    /// <summary>
    /// copy_to_iter (include/linux/uio.h; check_copy_size + _copy_to_iter in lib/iov_iter.c): copy from a kernel
    /// buffer into a destination iterator. User steps are access_ok + raw_copy_to_user; kernel steps memcpy.
    /// Returns bytes copied; only UBUF/IOVEC can be short (D9). On <see cref="KernelProfile.IovIterDirectionCheck"/>
    /// a source iterator WARNs and gets 0, untouched.
    /// </summary>
    public ulong CopyToIter(KernelPtr addr, ulong bytes, IovIter i)
    {
        using var _ = _trace.Fn("_copy_to_iter", "iov_iter");
        if (!CheckCopySize(bytes, "copy_to_iter")) return 0;
        if (WrongDirection(i, false, "_copy_to_iter")) return 0;
        return IterateAndAdvance(i, bytes, Op.ToIter, addr.Value);
    }

    /// <summary>
    /// copy_from_iter (_copy_from_iter): copy from a source iterator into a kernel buffer; user steps are
    /// access_ok + raw_copy_from_user with no zero-fill (D10). Returns bytes copied.
    /// </summary>
    public ulong CopyFromIter(KernelPtr addr, ulong bytes, IovIter i)
    {
        using var _ = _trace.Fn("_copy_from_iter", "iov_iter");
        if (!CheckCopySize(bytes, "copy_from_iter")) return 0;
        if (WrongDirection(i, true, "_copy_from_iter")) return 0;
        return IterateAndAdvance(i, bytes, Op.FromIter, addr.Value);
    }

    /// <summary>__copy_from_iter: the body of copy_from_iter without the checks (used with page faults disabled).</summary>
    private ulong CopyFromIterUnchecked(KernelPtr addr, ulong bytes, IovIter i)
    {
        using var _ = _trace.Fn("__copy_from_iter", "iov_iter");
        return IterateAndAdvance(i, bytes, Op.FromIter, addr.Value);
    }

    /// <summary>
    /// copy_from_iter_nocache (_copy_from_iter_nocache): user steps are __copy_from_user_inatomic_nocache
    /// (__copy_user_nocache, not byte-exact, no access_ok), kernel steps memcpy (D10).
    /// </summary>
    public ulong CopyFromIterNocache(KernelPtr addr, ulong bytes, IovIter i)
    {
        using var _ = _trace.Fn("_copy_from_iter_nocache", "iov_iter");
        if (!CheckCopySize(bytes, "copy_from_iter_nocache")) return 0;
        if (WrongDirection(i, true, "_copy_from_iter_nocache")) return 0;
        return IterateAndAdvance(i, bytes, Op.FromIterNocache, addr.Value);
    }

    /// <summary>
    /// _copy_from_iter_flushcache (CONFIG_ARCH_HAS_UACCESS_FLUSHCACHE, x86-64): user steps are
    /// __copy_from_user_flushcache, kernel steps memcpy_flushcache (D10; used by pmem/DAX writes).
    /// </summary>
    public ulong CopyFromIterFlushcache(KernelPtr addr, ulong bytes, IovIter i)
    {
        using var _ = _trace.Fn("_copy_from_iter_flushcache", "iov_iter");
        if (WrongDirection(i, true, "_copy_from_iter_flushcache")) return 0;
        return IterateAndAdvance(i, bytes, Op.FromIterFlushcache, addr.Value);
    }

    /// <summary>
    /// _copy_mc_to_iter (lib/iov_iter.c, 5.10+; _copy_to_iter_mcsafe 4.18–5.9): user steps are access_ok +
    /// copy_mc_to_user, kernel steps copy_mc_to_kernel with the remainder honoured, so KVEC and BVEC can be short
    /// too (D11). On <see cref="KernelProfile.KvecBvecMcNoAdvance"/> (4.18–5.13) a short KVEC/BVEC copy returns
    /// the right count but leaves the iterator untouched (D12, WE9, WE10).
    /// </summary>
    public ulong CopyMcToIter(KernelPtr addr, ulong bytes, IovIter i)
    {
        if (!_trace.Enabled)
        {
            // tracing off: no traced frame at all. A destination UBUF passes the direction check without a warning.
            if (i.Type == IterType.ITER_UBUF && !i.DataSource && _ownCopy is { } own) return CopyMcToUbuf(own, addr.Value, bytes, i);
            return CopyMcToIterBody(addr, bytes, i);
        }
        return CopyMcToIterTraced(addr, bytes, i); // the traced frame's try/finally is out of line: this hot method has none
    }

    /// <summary>_copy_mc_to_iter's traced frame around its body (tracing on).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ulong CopyMcToIterTraced(KernelPtr addr, ulong bytes, IovIter i)
    {
        using var _ = _trace.Fn(_copyMcToIterFn, "iov_iter");
        return CopyMcToIterBody(addr, bytes, i);
    }

    private ulong CopyMcToIterBody(KernelPtr addr, ulong bytes, IovIter i)
    {
        if (WrongDirection(i, false, "_copy_mc_to_iter")) return 0;
        if (_profile.KvecBvecMcNoAdvance && i.Type is IterType.ITER_KVEC or IterType.ITER_BVEC) return CopyMcToIterNoAdvance(addr, bytes, i);
        return IterateAndAdvance(i, bytes, Op.McToIter, addr.Value);
    }

    /// <summary>
    /// iterate_and_advance2's UBUF case of <see cref="CopyMcToIter"/> with tracing off and the machine's own copy
    /// routines: copy_to_user_iter_mc (access_ok + copy_mc_to_user) called directly, the iterator advanced by the
    /// bytes copied (what <see cref="IterateAndAdvance"/> and <see cref="UserStep"/> do for it).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong CopyMcToUbuf(CopyRoutines own, ulong kbuf, ulong len, IovIter i)
    {
        if (len > i.Count) len = i.Count;
        if (len == 0) return 0;
        var u = i.UbufBase.Value + i.IovOffset;
        var remain = CopyRoutines.AccessOk(new UserPtr(u), len) ? own.CopyMcToUserRaw(u, Space.Kernel, kbuf, len) : len;
        var progress = len - remain;
        i.IovOffset += progress;
        i.Count -= progress;
        return progress;
    }

    /// <summary>The 4.18–5.13 KVEC/BVEC form of <see cref="CopyMcToIter"/> (out of line: the common path stays small).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ulong CopyMcToIterNoAdvance(KernelPtr addr, ulong bytes, IovIter i)
    {
        var saved = (i.SegIndex, i.NrSegs, i.IovOffset, i.Count);
        var want = Math.Min(bytes, i.Count);
        var got = IterateAndAdvance(i, bytes, Op.McToIter, addr.Value);
        if (got < want)
        {
            // The macro returned from inside the iteration: none of the bookkeeping ran.
            (i.SegIndex, i.NrSegs, i.IovOffset, i.Count) = saved;
            if (_trace.Enabled) _trace.Event("iov_iter", $"short mcsafe copy of {got} bytes: iterator not advanced (4.18–5.13)");
        }
        return got;
    }

    /// <summary>copy_to_iter_full (include/linux/uio.h): copy_to_iter; on a short copy revert what was copied and return false.</summary>
    public bool CopyToIterFull(KernelPtr addr, ulong bytes, IovIter i)
    {
        using var _ = _trace.Fn("copy_to_iter_full", "iov_iter");
        var copied = CopyToIter(addr, bytes, i);
        if (copied == bytes) return true;
        Revert(i, copied);
        return false;
    }

    /// <summary>copy_from_iter_full (include/linux/uio.h): copy_from_iter; on a short copy revert what was copied and return false.</summary>
    public bool CopyFromIterFull(KernelPtr addr, ulong bytes, IovIter i)
    {
        using var _ = _trace.Fn("copy_from_iter_full", "iov_iter");
        var copied = CopyFromIter(addr, bytes, i);
        if (copied == bytes) return true;
        Revert(i, copied);
        return false;
    }

    /// <summary>
    /// page_copy_sane (lib/iov_iter.c): offset+n within the (compound) page of <paramref name="pageSize"/> bytes
    /// and no overflow; otherwise WARN and fail.
    /// </summary>
    private bool PageCopySane(ulong offset, ulong n, ulong pageSize, string fn)
    {
        var v = unchecked(n + offset);
        if (n <= v && v <= pageSize) return true;
        WarnOnce(fn);
        return false;
    }

    /// <summary>
    /// copy_page_to_iter (lib/iov_iter.c): page_copy_sane, direction check, then _copy_to_iter one subpage at a
    /// time, retrying from the stopping point after a short non-zero copy and stopping when a call copies 0
    /// (D14). <paramref name="pfn"/> is the (head) page; <paramref name="pageSize"/> is page_size(head).
    /// </summary>
    public ulong CopyPageToIter(ulong pfn, ulong offset, ulong bytes, IovIter i, ulong pageSize = PageDefs.PAGE_SIZE)
    {
        using var _ = _trace.Fn("copy_page_to_iter", "iov_iter");
        if (!PageCopySane(offset, bytes, pageSize, "page_copy_sane")) return 0;
        if (WrongDirection(i, false, "copy_page_to_iter")) return 0;
        return PageLoop(pfn, offset, bytes, i, toIter: true);
    }

    /// <summary>copy_page_from_iter (lib/iov_iter.c): the same loop with _copy_from_iter (page faults allowed).</summary>
    public ulong CopyPageFromIter(ulong pfn, ulong offset, ulong bytes, IovIter i, ulong pageSize = PageDefs.PAGE_SIZE)
    {
        using var _ = _trace.Fn("copy_page_from_iter", "iov_iter");
        if (!PageCopySane(offset, bytes, pageSize, "page_copy_sane")) return 0;
        return PageLoop(pfn, offset, bytes, i, toIter: false);
    }

    private ulong PageLoop(ulong pfn, ulong offset, ulong bytes, IovIter i, bool toIter)
    {
        pfn += offset / PageDefs.PAGE_SIZE;
        offset %= PageDefs.PAGE_SIZE;
        ulong res = 0;
        while (true)
        {
            var k = new KernelPtr(Kmap(pfn, offset));
            var n = Math.Min(bytes, PageDefs.PAGE_SIZE - offset);
            n = toIter ? CopyToIter(k, n, i) : CopyFromIter(k, n, i);
            res += n;
            bytes -= n;
            if (bytes == 0 || n == 0) break;
            offset += n;
            if (offset == PageDefs.PAGE_SIZE)
            {
                pfn++;
                offset = 0;
            }
        }
        return res;
    }

    /// <summary>
    /// copy_folio_from_iter_atomic (lib/iov_iter.c; copy_page_from_iter_atomic 5.14+; iov_iter_copy_from_user_atomic
    /// before): __copy_from_iter with page faults disabled (a non-resident or unmapped user page stops the copy).
    /// 5.14+ advances the iterator by the bytes copied; before (<see cref="KernelProfile.CopyFromIterAtomicAdvances"/>
    /// off) the iterator is left untouched and the caller advances it. On
    /// <see cref="KernelProfile.CopyFolioFromIterAtomicRetries"/> a short non-zero copy is retried from the stopping
    /// point (D15).
    /// </summary>
    public ulong CopyFolioFromIterAtomic(ulong pfn, ulong offset, ulong bytes, IovIter i, ulong folioSize = PageDefs.PAGE_SIZE)
    {
        if (!_profile.CopyFromIterAtomicAdvances)
        {
            using var __ = _trace.Fn("iov_iter_copy_from_user_atomic", "iov_iter");
            if (!PageCopySane(offset, bytes, folioSize, "page_copy_sane")) return 0;
            if (i.Type == IterType.ITER_DISCARD)
            {
                WarnOnce("iov_iter_copy_from_user_atomic");
                return 0;
            }
            var saved = (i.SegIndex, i.NrSegs, i.IovOffset, i.Count);
            ulong got;
            _cpu.PagefaultDisable();
            try { got = CopyFromIterUnchecked(new KernelPtr(Kmap(pfn, offset)), bytes, i); }
            finally { _cpu.PagefaultEnable(); }
            (i.SegIndex, i.NrSegs, i.IovOffset, i.Count) = saved;
            return got;
        }
        using var _ = _trace.Fn(_profile.CopyFolioFromIterAtomicRetries ? "copy_folio_from_iter_atomic" : "copy_page_from_iter_atomic", "iov_iter");
        if (!PageCopySane(offset, bytes, folioSize, "page_copy_sane")) return 0;
        if (i.Type == IterType.ITER_DISCARD || WrongDirection(i, true, "copy_folio_from_iter_atomic"))
        {
            if (i.Type == IterType.ITER_DISCARD) WarnOnce("copy_folio_from_iter_atomic");
            return 0;
        }
        ulong copied = 0, n;
        do
        {
            var to = new KernelPtr(Kmap(pfn, offset));
            n = bytes - copied;
            _cpu.PagefaultDisable();
            try { n = CopyFromIterUnchecked(to, n, i); }
            finally { _cpu.PagefaultEnable(); }
            copied += n;
            offset += n;
        } while (_profile.CopyFolioFromIterAtomicRetries && copied != bytes && n > 0);
        return copied;
    }

    /// <summary>iov_iter_zero (lib/iov_iter.c): clear_user for user segments (remainder honoured), memset otherwise (D13).</summary>
    public ulong IovIterZero(ulong bytes, IovIter i)
    {
        using var _ = _trace.Fn("iov_iter_zero", "iov_iter");
        return IterateAndAdvance(i, bytes, Op.Zero, 0);
    }
}
