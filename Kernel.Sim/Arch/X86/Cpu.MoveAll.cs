using KernelSim.Mm;

namespace KernelSim.Arch.X86;

// Cpu.TryMoveAll: the one-pass probe and move of the fault-free copy path (kept apart from the general probe).
public sealed partial class Cpu
{
    /// <summary>The longest copy <see cref="TryMoveAll"/> takes; longer ones probe and move separately (bounds its pfn arrays).</summary>
    internal const ulong MoveAllMax = 16UL << 20;
    // The translations TryMoveAll's probe found (one pfn per page touched), which its move then uses. Made on the first
    // copy that crosses a page (a machine that makes none allocates none), then grown on demand.
    private ulong[] _loadPfns = [], _storePfns = [];

    /// <summary>
    /// The fault-free copy in one pass: when every page of both ranges is what <see cref="ProbeFast"/> accepts (a
    /// present, permitted translation, no host-side window, no sub-page permissions, no poison in the source, the
    /// machine's own memory as the media), move all <paramref name="n"/> bytes and return true. That is exactly what
    /// <see cref="Probe"/> of the source, <see cref="Probe"/> of the destination and <see cref="Move"/> of n bytes do
    /// when neither probe stops early: the same PTEs marked dirty, the same span copies in the same order; only the
    /// second translation of every page is saved. Otherwise nothing is moved and false is returned: the caller takes
    /// its general path, whose probes repeat these translations with the same result.
    /// </summary>
    internal bool TryMoveAll(Space ds, ulong dst, Space ss, ulong src, ulong n) => TryMoveAllNotInto(ds, dst, ss, src, n, 1, 0);

    /// <summary>
    /// <see cref="TryMoveAll"/> that also refuses (after both translations, before
    /// moving anything) when a destination page maps a frame in [<paramref name="keepOutFirst"/>,
    /// <paramref name="keepOutLast"/>] (an empty range when first &gt; last): a run copy must not copy into itself.
    /// </summary>
    internal bool TryMoveAllNotInto(Space ds, ulong dst, Space ss, ulong src, ulong n, ulong keepOutFirst, ulong keepOutLast)
    {
        if (_phys.WindowHandlerCount != 0 || _mediaReplaced || n > MoveAllMax) return false;
        if (unchecked(src + n) < src || unchecked(dst + n) < dst) return false; // wraps: the probe reports the #GP
        if (n != 0 && PageDefs.OffsetInPage(src) + n <= PageDefs.PAGE_SIZE && PageDefs.OffsetInPage(dst) + n <= PageDefs.PAGE_SIZE)
            return TryMoveInPage(ds, dst, ss, src, (int)n, keepOutFirst, keepOutLast);
        return TryMovePages(ds, dst, ss, src, n, keepOutFirst, keepOutLast);
    }

    /// <summary><see cref="TryMoveAllNotInto"/> of ranges that may cross pages: every page translated into the pfn arrays, then the runs moved.</summary>
    private bool TryMovePages(Space ds, ulong dst, Space ss, ulong src, ulong n, ulong keepOutFirst, ulong keepOutLast)
    {
        var pages = (int)((n + 2 * PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT);
        if (_loadPfns.Length < pages) GrowPfnArrays(pages);
        if (!TranslateAll(ss, src, n, write: false, _loadPfns, out var sLinear) || !TranslateAll(ds, dst, n, write: true, _storePfns, out var dLinear)) return false;
        if (keepOutFirst <= keepOutLast && !OutsideFrames(_storePfns, dLinear, dst, n, keepOutFirst, keepOutLast)) return false;
        ulong done = 0;
        while (done < n)
        {
            var so = (int)PageDefs.OffsetInPage(src + done);
            var dof = (int)PageDefs.OffsetInPage(dst + done);
            var si = (int)((PageDefs.OffsetInPage(src) + done) >> PageDefs.PAGE_SHIFT);
            var di = (int)((PageDefs.OffsetInPage(dst) + done) >> PageDefs.PAGE_SHIFT);
            var want = n - done;
            // A side whose pages are consecutive frames runs to the end of its storage group: the pieces ContiguousRun
            // finds (it may round a run up to the end of its page, which the Min with want below takes back).
            var sp = sLinear ? _loadPfns[0] + (ulong)si : _loadPfns[si];
            var sRun = sLinear ? Math.Min(want, (ulong)PhysicalMemory.CopyRunLimit(sp, so)) : ContiguousRun(_loadPfns, si, so, want);
            var dWant = Math.Min(want, sRun);
            var dp = dLinear ? _storePfns[0] + (ulong)di : _storePfns[di];
            var dRun = dLinear ? Math.Min(dWant, (ulong)PhysicalMemory.CopyRunLimit(dp, dof)) : ContiguousRun(_storePfns, di, dof, dWant);
            var chunk = (int)Math.Min(want, Math.Min(sRun, dRun));
            _phys.CopyRun(sp, so, dp, dof, chunk);
            done += (ulong)chunk;
        }
        return true;
    }

    /// <summary>
    /// <see cref="TryMoveAllNotInto"/> when the source and the destination each lie in one page (a 4 KiB read into a
    /// page-aligned buffer): the same steps in the same order (the source's translation and poison check, then the
    /// destination's translation, which marks its PTE dirty, then the keep-out check) and the one span copy the general
    /// loop would make (a run within one page never reaches the end of its storage chunk), without the pfn arrays.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool TryMoveInPage(Space ds, ulong dst, Space ss, ulong src, int n, ulong keepOutFirst, ulong keepOutLast)
    {
        if (!TranslateInPage(ss, src, n, write: false, out var spfn)) return false;
        var so = (int)PageDefs.OffsetInPage(src);
        // Before the destination is translated (and its PTE marked dirty), as TranslateAll of the source checks it.
        if (_phys.PoisonedFrameCount != 0 && _phys.FirstPoisonInFrame(spfn, so, n) >= 0) return false;
        if (!TranslateInPage(ds, dst, n, write: true, out var dpfn)) return false;
        if (dpfn >= keepOutFirst && dpfn <= keepOutLast) return false;
        _phys.CopyRun(spfn, so, dpfn, (int)PageDefs.OffsetInPage(dst), n);
        return true;
    }

    /// <summary><see cref="TranslateAll"/> of a non-empty range inside one page (no poison check: the caller makes it).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool TranslateInPage(Space space, ulong va, int n, bool write, out ulong pfn)
    {
        if (space == Space.User)
        {
            var mm = CurrentMm;
            if (mm == null || !UaccessAllowed || mm.HasSubpageProtection)
            {
                pfn = 0;
                return false;
            }
            return mm.TryTranslate(va, write, out pfn);
        }
        return _kmap.TryAccessRun(va, (ulong)n, write, out pfn) != 0;
    }

    /// <summary>True when none of the frames TranslateAll found for the pages of [va, va+len) lies in [first, last].</summary>
    private static bool OutsideFrames(ulong[] pfns, bool linear, ulong va, ulong len, ulong first, ulong last)
    {
        var pages = (int)((PageDefs.OffsetInPage(va) + len + PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT);
        if (linear) return pfns[0] + (ulong)(pages - 1) < first || pfns[0] > last; // frames pfns[0] … pfns[0]+pages-1
        for (var i = 0; i < pages; i++)
        {
            if (pfns[i] >= first && pfns[i] <= last) return false;
        }
        return true;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void GrowPfnArrays(int pages)
    {
        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(pages, 32));
        _loadPfns = new ulong[size];
        _storePfns = new ulong[size];
    }

    /// <summary>
    /// <see cref="ProbeFast"/>'s translation of every page of [va, va+len) into <paramref name="pfns"/>; false at the
    /// first page it does not accept. A store marks each PTE dirty, as the probe does. <paramref name="linear"/> when the
    /// pages are consecutive frames; then only pfns[0] need hold a translation (the others are pfns[0] + i).
    /// </summary>
    private bool TranslateAll(Space space, ulong va, ulong len, bool write, ulong[] pfns, out bool linear)
    {
        linear = false;
        MmStruct? mm = null;
        if (space == Space.User)
        {
            mm = CurrentMm;
            if (mm == null || !UaccessAllowed || mm.HasSubpageProtection) return false;
        }
        var poison = !write && _phys.PoisonedFrameCount != 0;
        if (!poison && len != 0)
        {
            // Nothing to check between two translations: the same translations in the same order, without the byte
            // bookkeeping per page (a 1 MiB copy is 256 pages on each side).
            var pages = (int)((PageDefs.OffsetInPage(va) + len + PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT);
            return mm != null
                ? mm.PageTable.TryTranslatePages(va >> PageDefs.PAGE_SHIFT, write, pfns.AsSpan(0, pages), out linear) == pages
                : TranslateKernelPages(va, len, write, pfns, out linear);
        }
        ulong done = 0;
        var i = 0;
        while (done < len)
        {
            var a = va + done;
            var off = PageDefs.OffsetInPage(a);
            ulong pfn, run;
            if (mm != null)
            {
                if (!mm.TryTranslate(a, write, out pfn)) return false;
                run = Math.Min(len - done, PageDefs.PAGE_SIZE - off);
            }
            else
            {
                run = _kmap.TryAccessRun(a, len - done, write, out pfn);
                if (run == 0) return false;
            }
            // The pages of this run: the first from off, the others whole, the last up to the end of the run.
            ulong at = 0;
            for (var p = pfn; at < run; p++)
            {
                var po = at == 0 ? off : 0;
                var pn = Math.Min(run - at, PageDefs.PAGE_SIZE - po);
                if (poison && _phys.FirstPoisonInFrame(p, (int)po, (int)pn) >= 0) return false;
                pfns[i++] = p;
                at += pn;
            }
            done += run;
        }
        return true;
    }

    /// <summary>
    /// <see cref="TranslateAll"/> of a non-empty kernel range with no poison to look for: each direct-map run's pages in
    /// order. <paramref name="linear"/> when the range is one run (its pages are pfns[0], pfns[0]+1, …); then only
    /// pfns[0] is filled in.
    /// </summary>
    private bool TranslateKernelPages(ulong va, ulong len, bool write, ulong[] pfns, out bool linear)
    {
        var first = _kmap.TryAccessRun(va, len, write, out pfns[0]);
        linear = first == len;
        if (linear) return true;
        if (first == 0) return false;
        ulong done = 0;
        var i = 0;
        while (done < len)
        {
            var a = va + done;
            var run = _kmap.TryAccessRun(a, len - done, write, out var pfn);
            if (run == 0) return false;
            var pages = (int)((PageDefs.OffsetInPage(a) + run + PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT);
            foreach (ref var slot in pfns.AsSpan(i, pages)) slot = pfn++;
            i += pages;
            done += run;
        }
        return true;
    }

    /// <summary><see cref="ContiguousRun(Space, ulong, ulong, int, ulong, bool)"/> over translations already made.</summary>
    private static ulong ContiguousRun(ulong[] pfns, int i, int off, ulong want)
    {
        var pfn = pfns[i];
        var run = PageDefs.PAGE_SIZE - (ulong)off;
        var limit = Math.Min(want, (ulong)PhysicalMemory.CopyRunLimit(pfn, off));
        for (var next = pfn + 1; run < limit; next++)
        {
            if (pfns[++i] != next) break;
            run += PageDefs.PAGE_SIZE;
        }
        return run;
    }
}
