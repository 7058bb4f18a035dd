using System.Runtime.CompilerServices;
using KernelSim.Arch.X86;
using KernelSim.Mm;

namespace KernelSim.Lib;

public sealed partial class IovIterOps
{
    /// <summary>
    /// Whether <see cref="TryCopyPageRunToIter"/> may be tried for <paramref name="i"/>: tracing is off (every frame
    /// must be recorded otherwise), the copy routines are the machine's own <see cref="CopyRoutines"/> (a replaced
    /// <see cref="ICopyRoutines"/> sees every call), and <paramref name="i"/> is a destination user buffer (ITER_UBUF).
    /// </summary>
    internal bool PageRunCopyUsable(IovIter i) =>
        !_trace.Enabled && _ownCopy is not null && i.Type == IterType.ITER_UBUF && !i.DataSource;

    /// <summary>
    /// A simulator shortcut for filemap_read's loop of copy_folio_to_iter (copy_page_to_iter → _copy_to_iter →
    /// copy_to_user_iter → raw_copy_to_user, one page at a time) over <paramref name="bytes"/> bytes of the physically
    /// contiguous pages from <paramref name="pfn"/> + <paramref name="offset"/>. When access_ok passes, every byte loads
    /// and stores with no trap and no fault handling (<see cref="Cpu.ProbeFast"/>) and, for a run of more than one
    /// page, no destination page is one of the source pages, each of those page copies would copy all of its bytes
    /// with nothing happening in between, so the run moves at once and the iterator advances by
    /// <paramref name="bytes"/>: true. Otherwise false, and the caller copies page by page; the only trace of the
    /// attempt is the dirty bit of destination PTEs the store probe passed, which the page-by-page copy sets as well
    /// (the source probe comes first and found nothing to stop at). Only for an iterator that
    /// <see cref="PageRunCopyUsable"/> accepts.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // keeps the probe and move locals out of filemap_read's frame (zeroed per call)
    internal bool TryCopyPageRunToIter(ulong pfn, ulong offset, ulong bytes, IovIter i)
    {
        if (bytes == 0 || bytes > i.Count) return false;
        var to = i.UbufBase.Value + i.IovOffset;
        if (!CopyRoutines.AccessOk(new UserPtr(to), bytes)) return false;
        var from = Kmap(pfn, offset);
        var firstPfn = pfn + offset / PageDefs.PAGE_SIZE;
        var lastPfn = pfn + (offset + bytes - 1) / PageDefs.PAGE_SIZE;
        using (_cpu.Uaccess())
        {
            if (bytes <= Cpu.MoveAllMax)
            {
                // The same probes and move in one pass (each page translated once); one source page is one copy either
                // way, so only a longer run is refused when a destination page is one of its frames.
                var single = lastPfn == firstPfn;
                if (!_cpu.TryMoveAllNotInto(Space.User, to, Space.Kernel, from, bytes, single ? 1 : firstPfn, single ? 0 : lastPfn)) return false;
            }
            else
            {
                if (_cpu.ProbeFast(Space.Kernel, from, bytes, write: false, userMode: false) != bytes) return false;
                if (_cpu.ProbeFast(Space.User, to, bytes, write: true, userMode: false) != bytes) return false;
                if (lastPfn != firstPfn && !DestinationOutside(to, bytes, firstPfn, lastPfn)) return false;
                _cpu.Move(Space.User, to, Space.Kernel, from, bytes);
            }
        }
        i.IovOffset += bytes;
        i.Count -= bytes;
        return true;
    }

    /// <summary>True when no page of the probed user range [to, to+bytes) maps a frame in [first, last] (a copy into itself).</summary>
    private bool DestinationOutside(ulong to, ulong bytes, ulong first, ulong last)
    {
        var end = to + bytes;
        for (var va = to & PageDefs.PAGE_MASK; va < end; va += PageDefs.PAGE_SIZE)
        {
            if (!_cpu.TranslateNoFault(Space.User, Math.Max(va, to), write: false, out var p) || (p >= first && p <= last)) return false;
        }
        return true;
    }
}
