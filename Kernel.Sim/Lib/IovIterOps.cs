using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Lib;

/// <summary>
/// lib/iov_iter.c and include/linux/iov_iter.h: copies to and from iterators, the positioning helpers,
/// get_pages, import_iovec/import_ubuf and the fault_in_iov_iter_* wrappers. Every byte moves through
/// <see cref="CopyRoutines"/>. The copies follow the v5.14+ iterate_and_advance engine (the iterator advances
/// by exactly the bytes copied); release differences go through <see cref="KernelProfile"/> switches.
/// </summary>
public sealed partial class IovIterOps
{
    private readonly ICopyRoutines _copy;
    // _copy when it is the machine's own CopyRoutines (sealed: called directly, no interface dispatch), else null.
    private readonly CopyRoutines? _ownCopy;
    private readonly Cpu _cpu;
    private readonly KernelProfile _profile;
    private readonly Tracer _trace;
    private readonly Gup _gup;
    private readonly MachineState _state;
    private readonly KernelMap _kmap;
    private readonly HashSet<string> _warned = [];
    // Traced names that depend on the release, chosen once so that a disabled trace evaluates nothing per call.
    private readonly string _copyMcToIterFn, _getPagesFn;

    /// <summary>Created by the machine's service provider.</summary>
    public IovIterOps(Cpu cpu, ICopyRoutines copy, KernelProfile profile, Tracer trace, Gup gup, MachineState state, KernelMap kmap)
    {
        _kmap = kmap;
        _cpu = cpu;
        _copy = copy;
        _ownCopy = copy as CopyRoutines;
        _profile = profile;
        _trace = trace;
        _gup = gup;
        _state = state;
        _copyMcToIterFn = profile.CopyMcFastString ? "_copy_mc_to_iter" : "_copy_to_iter_mcsafe";
        _getPagesFn = profile.GetPagesAdvances ? "iov_iter_get_pages2" : "iov_iter_get_pages";
    }

    /// <summary>MAX_RW_COUNT (include/linux/fs.h).</summary>
    public const ulong MaxRwCount = (ulong)PageDefs.MAX_RW_COUNT;
    /// <summary>UIO_MAXIOV (include/uapi/linux/uio.h).</summary>
    public const int UioMaxIov = 1024;

    // ---- the step operations -------------------------------------------------------------------------

    private enum Op : byte
    {
        /// <summary>copy_to_user_iter / memcpy_to_iter.</summary>
        ToIter,
        /// <summary>copy_to_user_iter_mc / memcpy_to_iter_mc.</summary>
        McToIter,
        /// <summary>copy_from_user_iter / memcpy_from_iter.</summary>
        FromIter,
        /// <summary>copy_from_user_iter_nocache / memcpy_from_iter.</summary>
        FromIterNocache,
        /// <summary>__copy_from_iter_flushcache / __memcpy_from_iter_flushcache.</summary>
        FromIterFlushcache,
        /// <summary>zero_to_user_iter / zero_to_iter.</summary>
        Zero,
    }

    /// <summary>A user step (ustep): returns bytes of <paramref name="part"/> not processed.</summary>
    private ulong UserStep(Op op, ulong kbuf, ulong uaddr, ulong progress, ulong part)
    {
        var u = new UserPtr(uaddr);
        var k = new KernelPtr(kbuf + progress);
        switch (op)
        {
            case Op.ToIter:
            {
                using var _ = _trace.Fn("copy_to_user_iter", "iov_iter");
                return CopyRoutines.AccessOk(u, part) ? _copy.RawCopyToUser(u, k, part) : part;
            }
            case Op.McToIter:
            {
                if (!_trace.Enabled) return !CopyRoutines.AccessOk(u, part) ? part : _ownCopy is { } own ? own.CopyMcToUserRaw(uaddr, Space.Kernel, k.Value, part) : _copy.CopyMcToUser(u, k, part);
                using var _ = _trace.Fn("copy_to_user_iter_mc", "iov_iter");
                return CopyRoutines.AccessOk(u, part) ? _copy.CopyMcToUser(u, k, part) : part;
            }
            case Op.FromIter:
            {
                using var _ = _trace.Fn("copy_from_user_iter", "iov_iter");
                return CopyRoutines.AccessOk(u, part) ? _copy.RawCopyFromUser(k, u, part) : part;
            }
            case Op.FromIterNocache:
            {
                using var _ = _trace.Fn("copy_from_user_iter_nocache", "iov_iter");
                return _copy.CopyFromUserInatomicNocache(k, u, part);
            }
            case Op.FromIterFlushcache:
            {
                using var _ = _trace.Fn("__copy_from_iter_flushcache", "iov_iter");
                return _copy.CopyFromUserFlushcache(k, u, part);
            }
            default:
            {
                using var _ = _trace.Fn("zero_to_user_iter", "iov_iter");
                return _copy.ClearUser(u, part);
            }
        }
    }

    /// <summary>A kernel step (KVEC/BVEC): returns bytes of <paramref name="part"/> not processed.</summary>
    private ulong KernelStep(Op op, ulong kbuf, ulong kaddr, ulong progress, ulong part)
    {
        if (part == 0) return 0;
        var it = new KernelPtr(kaddr);
        var k = new KernelPtr(kbuf + progress);
        switch (op)
        {
            case Op.ToIter:
                _copy.Memcpy(it, k, part);
                return 0;
            case Op.McToIter:
            {
                using var _ = _trace.Fn("memcpy_to_iter_mc", "iov_iter");
                return _copy.CopyMcToKernel(it, k, part);
            }
            case Op.FromIter:
            case Op.FromIterNocache:
                _copy.Memcpy(k, it, part);
                return 0;
            case Op.FromIterFlushcache:
                _copy.MemcpyFlushcache(k, it, part);
                return 0;
            default:
                _copy.Memset(it, 0, part);
                return 0;
        }
    }

    private ulong Step(IovIter i, Op op, ulong kbuf, ulong addr, ulong progress, ulong part) =>
        i.IsUserBacked ? UserStep(op, kbuf, addr, progress, part) : KernelStep(op, kbuf, addr, progress, part);

    /// <summary>The direct-map address of byte <paramref name="offset"/> of a page run starting at pfn (kmap_local_page).</summary>
    private static ulong Kmap(ulong pfn, ulong offset) =>
        KernelPtr.FromPhys(PhysAddr.FromPfn(pfn + offset / PageDefs.PAGE_SIZE)).Value + offset % PageDefs.PAGE_SIZE;

    // ---- the iteration engine (include/linux/iov_iter.h iterate_and_advance2) ---------------------------

    /// <summary>
    /// iterate_and_advance2: clamp to count, run the step per segment (BVEC per page), stop at the first step
    /// that leaves a remainder, and advance the iterator by exactly the progress (D4–D8).
    /// </summary>
    private ulong IterateAndAdvance(IovIter i, ulong len, Op op, ulong kbuf)
    {
        if (len > i.Count) len = i.Count;
        if (len == 0) return 0;
        switch (i.Type)
        {
            case IterType.ITER_UBUF:
            {
                var remain = UserStep(op, kbuf, i.UbufBase.Value + i.IovOffset, 0, len);
                var progress = len - remain;
                i.IovOffset += progress;
                i.Count -= progress;
                return progress;
            }
            case IterType.ITER_IOVEC:
            case IterType.ITER_KVEC:
                return IterateIovec(i, len, op, kbuf);
            case IterType.ITER_BVEC:
                return IterateBvec(i, len, op, kbuf);
            case IterType.ITER_FOLIOQ:
                return IterateFolioq(i, len, op, kbuf);
            case IterType.ITER_XARRAY:
                return IterateXarray(i, len, op, kbuf);
            case IterType.ITER_DISCARD:
                i.Count -= len;
                return len;
            default:
                return 0;
        }
    }

    /// <summary>iterate_iovec / iterate_kvec (D6).</summary>
    private ulong IterateIovec(IovIter i, ulong len, Op op, ulong kbuf)
    {
        var idx = i.SegIndex;
        var total = i.SegCountTotal;
        ulong progress = 0, skip = i.IovOffset;
        do
        {
            if (idx >= total) break; // count larger than the segments: the kernel would read past the array
            var segLen = i.SegLen(idx);
            var part = Math.Min(len, segLen - skip);
            if (part != 0)
            {
                var remain = Step(i, op, kbuf, i.SegBase(idx) + skip, progress, part);
                var consumed = part - remain;
                progress += consumed;
                skip += consumed;
                len -= consumed;
                if (skip < segLen) break;
            }
            idx++;
            skip = 0;
        } while (len != 0);
        i.NrSegs -= (ulong)(idx - i.SegIndex);
        i.SegIndex = idx;
        i.IovOffset = skip;
        i.Count -= progress;
        return progress;
    }

    /// <summary>iterate_bvec: one step per page (D7).</summary>
    private ulong IterateBvec(IovIter i, ulong len, Op op, ulong kbuf)
    {
        var idx = i.SegIndex;
        var total = i.SegCountTotal;
        ulong progress = 0, skip = i.IovOffset;
        do
        {
            if (idx >= total) break;
            var bv = i.Bvec(idx);
            var offset = bv.Offset + skip;
            var part = Math.Min(len, Math.Min(bv.Len - skip, PageDefs.PAGE_SIZE - offset % PageDefs.PAGE_SIZE));
            var remain = KernelStep(op, kbuf, Kmap(bv.Pfn, offset), progress, part);
            var consumed = part - remain;
            len -= consumed;
            progress += consumed;
            skip += consumed;
            if (skip >= bv.Len)
            {
                skip = 0;
                idx++;
            }
            if (remain != 0) break;
        } while (len != 0);
        i.NrSegs -= (ulong)(idx - i.SegIndex);
        i.SegIndex = idx;
        i.IovOffset = skip;
        i.Count -= progress;
        return progress;
    }

    /// <summary>
    /// iterate_folioq (include/linux/iov_iter.h, 6.12+): from (folioq, slot, iov_offset) one step per page of each
    /// folio; an exhausted folio moves to the next slot (and segment); an empty slot ends the walk; stop on a
    /// remainder (D25).
    /// </summary>
    private ulong IterateFolioq(IovIter i, ulong len, Op op, ulong kbuf)
    {
        var fq = i.Folioq!;
        var slot = i.FolioqSlot;
        ulong progress = 0, skip = i.IovOffset;
        if (slot == FolioQueue.NrSlots)
        {
            fq = fq.Next ?? throw _state.Oops("BUG: kernel NULL pointer dereference (iterate_folioq past the last segment)");
            slot = 0;
        }
        do
        {
            if (!fq.Present(slot)) break;
            var fsize = fq.FolioSize(slot);
            ulong remain = 0;
            if (skip < fsize)
            {
                var part = Math.Min(len, PageDefs.PAGE_SIZE - skip % PageDefs.PAGE_SIZE);
                remain = KernelStep(op, kbuf, Kmap(fq.Pfn(slot), skip), progress, part);
                var consumed = part - remain;
                len -= consumed;
                progress += consumed;
                skip += consumed;
            }
            if (skip >= fsize)
            {
                skip = 0;
                slot++;
                if (slot == FolioQueue.NrSlots && fq.Next != null)
                {
                    fq = fq.Next;
                    slot = 0;
                }
            }
            if (remain != 0) break;
        } while (len != 0);
        i.FolioqSlot = slot;
        i.Folioq = fq;
        i.IovOffset = skip;
        i.Count -= progress;
        return progress;
    }

    /// <summary>
    /// iterate_xarray (include/linux/iov_iter.h): xas_for_each from the page of xarray_start + iov_offset over the
    /// cached folios (holes are skipped, the offset in each folio is taken from the running position), one step
    /// per page; stop on a remainder or when done. iov_offset and count move by the progress (D25).
    /// </summary>
    private ulong IterateXarray(IovIter i, ulong len, Op op, ulong kbuf)
    {
        var mapping = i.Xarray!;
        var start = (ulong)i.XarrayStart + i.IovOffset;
        ulong progress = 0;
        for (var f = mapping.FindFrom(start / PageDefs.PAGE_SIZE); f != null; f = mapping.FindFrom(f.Index + 1))
        {
            var offset = (start + progress) % PageDefs.PAGE_SIZE; // offset_in_folio: single-page folios
            var flen = Math.Min(PageDefs.PAGE_SIZE - offset, len);
            while (flen != 0)
            {
                var part = Math.Min(flen, PageDefs.PAGE_SIZE - offset % PageDefs.PAGE_SIZE);
                var remain = KernelStep(op, kbuf, Kmap(f.Pfn, offset), progress, part);
                var consumed = part - remain;
                progress += consumed;
                len -= consumed;
                if (remain != 0 || len == 0) goto done;
                flen -= consumed;
                offset += consumed;
            }
        }
    done:
        i.IovOffset += progress;
        i.Count -= progress;
        return progress;
    }

    private void WarnOnce(string fn)
    {
        if (!_warned.Add(fn)) return;
        _state.Printk($"WARNING: at lib/iov_iter.c {fn}");
    }

    /// <summary>WARN_ON_ONCE(i->data_source != wantSource) on releases with the direction check (D2).</summary>
    private bool WrongDirection(IovIter i, bool wantSource, string fn)
    {
        if (!_profile.IovIterDirectionCheck || i.DataSource == wantSource) return false;
        WarnOnce(fn);
        return true;
    }

    /// <summary>check_copy_size (include/linux/thread_info.h): a size above INT_MAX WARNs and fails.</summary>
    private bool CheckCopySize(ulong bytes, string fn)
    {
        if (bytes <= int.MaxValue) return true;
        WarnOnce(fn);
        return false;
    }
}
