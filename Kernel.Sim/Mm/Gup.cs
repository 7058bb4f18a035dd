using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Mm;

/// <summary>
/// mm/gup.c: the fault-in helpers (fault_in_readable, fault_in_writeable, fault_in_safe_writeable,
/// fault_in_subpage_writeable; include/linux/pagemap.h fault_in_pages_* before 5.16) and
/// get_user_pages_fast. The fault_in_* helpers return the number of bytes NOT faulted in
/// (0 = everything). They run in the context of current (the process whose system call is executing).
/// </summary>
public sealed class Gup
{
    private readonly ICopyRoutines _copy;
    private readonly KernelProfile _profile;
    private readonly Tracer _trace;
    private readonly Scheduler _sched;
    // Reference and FOLL_PIN counts per frame (the page refcount / pincount of the pages gup handed out).
    private readonly PinCounts _pins = new();
    private readonly PinCounts _follPins = new();
    private int _follPinned; // frames with a FOLL_PIN count above 0
    // The page table of the process that pinned last (a process's mm and its page table never change): the walk
    // starts there instead of at current → mm → page table, a chain of dependent loads on every direct I/O.
    private Process? _ptOwner;
    private PageTable? _pt;

    /// <summary>Created by the machine's service provider.</summary>
    public Gup(ICopyRoutines copy, KernelProfile profile, Tracer trace, Scheduler sched)
    {
        _copy = copy;
        _profile = profile;
        _trace = trace;
        _sched = sched;
    }

    private MmStruct? CurrentMm => _sched.Current?.Mm;

    // ---- fault_in_* (5.16+) ------------------------------------------------------------------------

    /// <summary>
    /// fault_in_readable (mm/gup.c, 5.16+): if access_ok fails, nothing is faulted in; otherwise a one-byte user
    /// load at <paramref name="uaddr"/> and at each following page start below uaddr+size, stopping at the first
    /// failure. Returns size − (failing probe − uaddr), or 0 when every probe succeeded (WE11: 1908).
    /// </summary>
    public ulong FaultInReadable(UserPtr uaddr, ulong size)
    {
        using var _ = _trace.Fn("fault_in_readable", "mm");
        return FaultInLoop(uaddr, size, ProbeKind.Read);
    }

    /// <summary>
    /// fault_in_writeable (mm/gup.c, 5.16+): as <see cref="FaultInReadable"/> but each probe stores a zero byte
    /// (destructive: the caller is about to overwrite the range).
    /// </summary>
    public ulong FaultInWriteable(UserPtr uaddr, ulong size)
    {
        using var _ = _trace.Fn("fault_in_writeable", "mm");
        return FaultInLoop(uaddr, size, ProbeKind.Write);
    }

    /// <summary>
    /// fault_in_safe_writeable (mm/gup.c, 5.16+, fixup_user_fault form of fe673d3f5bf1): under mmap_read_lock,
    /// fixup_user_fault(FAULT_FLAG_WRITE) at uaddr and each following page start; non-destructive. On
    /// <see cref="KernelProfile.FaultInSafeWriteableBug"/> (5.16–6.15) the return value is computed as
    /// size − (uaddr − cur) in unsigned arithmetic: size when the first page fails, 0 otherwise (WE11).
    /// </summary>
    public ulong FaultInSafeWriteable(UserPtr uaddr, ulong size)
    {
        using var _ = _trace.Fn("fault_in_safe_writeable", "mm");
        if (size == 0) return 0;
        var start = uaddr.Value;
        var end = unchecked(start + size);
        var endAligned = end < start ? 0 : PageDefs.PageAlign(end);
        var cur = start;
        var mm = CurrentMm;
        do
        {
            if (FixupUserFault(mm, cur) != 0) break;
            cur = unchecked(cur + PageDefs.PAGE_SIZE) & PageDefs.PAGE_MASK;
        } while (cur != endAligned && cur != 0);
        if (_profile.FaultInSafeWriteableBug)
        {
            var wrong = unchecked(start - cur);
            return size > wrong ? size - wrong : 0;
        }
        var faulted = unchecked(cur - start);
        return size > faulted ? size - faulted : 0;
    }

    /// <summary>
    /// fixup_user_fault(mm, address, FAULT_FLAG_WRITE) (mm/gup.c): find the VMA, check it permits a write, and
    /// run handle_mm_fault. 0 or −EFAULT.
    /// </summary>
    private int FixupUserFault(MmStruct? mm, ulong address)
    {
        using var _ = _trace.Fn("fixup_user_fault", "mm");
        if (mm == null || address > PageDefs.TASK_SIZE_MAX) return -Errno.EFAULT;
        var r = mm.HandleMmFault(address, write: true);
        return (r & VmFault.VM_FAULT_ERROR) != 0 ? -Errno.EFAULT : 0;
    }

    /// <summary>
    /// fault_in_subpage_writeable (mm/gup.c, 5.18+, Catalin Marinas): fault_in_writeable, then
    /// probe_subpage_writeable over the faulted-in prefix. The generic (x86) probe returns 0; when the address
    /// space has sub-page permissions (<see cref="MmStruct.SetSubpageProtection"/>) it is arm64's
    /// mte_probe_user_range: a load at uaddr, then one at each 16-byte granule start, returning end − the first
    /// failing granule (or everything if the first load fails).
    /// </summary>
    public ulong FaultInSubpageWriteable(UserPtr uaddr, ulong size)
    {
        using var _ = _trace.Fn("fault_in_subpage_writeable", "mm");
        var faulted = size - FaultInWriteable(uaddr, size);
        if (faulted != 0) faulted -= ProbeSubpageWriteable(uaddr, faulted);
        return size - faulted;
    }

    /// <summary>probe_subpage_writeable (arm64 mte_probe_user_range when sub-page permissions are in use, else 0).</summary>
    private ulong ProbeSubpageWriteable(UserPtr uaddr, ulong size)
    {
        var mm = CurrentMm;
        if (mm is not { HasSubpageProtection: true }) return 0;
        using var scope = _trace.Fn("mte_probe_user_range", "arm64");
        var end = uaddr.Value + size;
        if (_copy.GetUser(uaddr, 1, out _) != 0) return size;
        var a = (uaddr.Value + (MmStruct.SubpageGranule - 1)) & ~(ulong)(MmStruct.SubpageGranule - 1);
        while (a < end)
        {
            if (_copy.GetUser(new UserPtr(a), 1, out _) != 0) return end - a;
            a += MmStruct.SubpageGranule;
        }
        return 0;
    }

    private enum ProbeKind : byte { Read, Write }

    private bool Probe(ulong a, ProbeKind kind) => kind == ProbeKind.Read
        ? _copy.GetUser(new UserPtr(a), 1, out _) == 0
        : _copy.PutUser(0, new UserPtr(a), 1) == 0;

    /// <summary>The 2025 loop shape (same probes and results as the 5.16/5.17 forms).</summary>
    private ulong FaultInLoop(UserPtr uaddr, ulong size, ProbeKind kind)
    {
        if (size == 0) return 0;
        if (!CopyRoutines.AccessOk(uaddr, size)) return size; // user_{read,write}_access_begin
        var start = uaddr.Value;
        var end = start + size;
        var cur = start;
        for (; cur != 0 && cur < end; cur = PageDefs.PageAlignDown(cur + PageDefs.PAGE_SIZE))
            if (!Probe(cur, kind)) break;
        var faulted = cur - start;
        return size > faulted ? size - faulted : 0;
    }

    // ---- fault_in_pages_* (≈4.9–5.15) -----------------------------------------------------------------

    /// <summary>
    /// fault_in_pages_readable (include/linux/pagemap.h, ≈4.9–5.15): size is an int. Probes uaddr,
    /// uaddr+PAGE_SIZE, … (same in-page offset) while ≤ end = uaddr+size−1, then end itself if the next probe
    /// position lies in end's page (WE12). 0, or −EFAULT at the first failing probe (also when end wraps).
    /// </summary>
    public int FaultInPagesReadable(UserPtr uaddr, ulong size)
    {
        using var _ = _trace.Fn("fault_in_pages_readable", "mm");
        return FaultInPages(uaddr, size, ProbeKind.Read);
    }

    /// <summary>fault_in_pages_writeable (include/linux/pagemap.h, ≈4.9–5.15): as the readable form, storing zeros.</summary>
    public int FaultInPagesWriteable(UserPtr uaddr, ulong size)
    {
        using var _ = _trace.Fn("fault_in_pages_writeable", "mm");
        return FaultInPages(uaddr, size, ProbeKind.Write);
    }

    private int FaultInPages(UserPtr uaddr, ulong size, ProbeKind kind)
    {
        var isize = (int)size; // the parameter is an int
        if (isize == 0) return 0;
        var a = uaddr.Value;
        var end = unchecked(a + (ulong)(long)isize - 1);
        if (a > end) return -Errno.EFAULT;
        do
        {
            if (!Probe(a, kind)) return -Errno.EFAULT;
            var next = unchecked(a + PageDefs.PAGE_SIZE);
            if (next < a) return 0; // wrapped: the loop would end (uaddr > end)
            a = next;
        } while (a <= end);
        if ((a & PageDefs.PAGE_MASK) == (end & PageDefs.PAGE_MASK))
            return Probe(end, kind) ? 0 : -Errno.EFAULT;
        return 0;
    }

    // ---- get_user_pages_fast -----------------------------------------------------------------------------

    /// <summary>
    /// get_user_pages_fast (mm/gup.c): pin up to <paramref name="nrPages"/> pages from the page containing
    /// <paramref name="start"/> into <paramref name="pages"/> (pfns). A page is pinned if its VMA allows the
    /// access (FOLL_WRITE: writable) and it is present or can be faulted in (FOLL_NOFAULT: only present pages).
    /// Returns the number pinned (a prefix; the walk stops at the first failure), −EFAULT when the first page
    /// fails (or the range is beyond TASK_SIZE_MAX), −EOVERFLOW when start+len wraps. Pins are dropped with
    /// <see cref="UnpinUserPage"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public long GetUserPagesFast(UserPtr start, int nrPages, bool write, bool nofault, Span<ulong> pages) =>
        _trace.Enabled // tracing off: no traced frame at all
            ? GetUserPagesFastTraced(start, nrPages, write, nofault, pages)
            : GupFast(start, nrPages, write, nofault, pages, _pins, foll: false);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long GetUserPagesFastTraced(UserPtr start, int nrPages, bool write, bool nofault, Span<ulong> pages)
    {
        using var _ = _trace.Fn("get_user_pages_fast", "mm");
        return TracedPinned(GupFast(start, nrPages, write, nofault, pages, _pins, foll: false), start, nrPages, foll: false, write, nofault);
    }

    /// <summary>
    /// pin_user_pages_fast (mm/gup.c): the same walk as <see cref="GetUserPagesFast"/> with FOLL_PIN, so each page
    /// counts as DMA-pinned (<see cref="PageMaybeDmaPinned"/>) until <see cref="UnpinUserPage"/>. Same results.
    /// </summary>
    public long PinUserPagesFast(UserPtr start, int nrPages, bool write, bool nofault, Span<ulong> pages)
    {
        using var _ = _trace.Fn("pin_user_pages_fast", "mm");
        return TracedPinned(GupFast(start, nrPages, write, nofault, pages, _follPins, foll: true), start, nrPages, foll: true, write, nofault);
    }

    // Runs of more pages than this are translated, pinned and unpinned by out-of-line loops.
    private const int LongRun = 8;

    // Inlined into its three callers (the pin counts and FOLL_PIN are constants there); a page the TLB does not hold is
    // pinned out of line.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private long GupFast(UserPtr start, int nrPages, bool write, bool nofault, Span<ulong> pages, PinCounts counts, bool foll)
    {
        if (nrPages <= 0) return 0;
        var s = start.Value & PageDefs.PAGE_MASK;
        var len = (ulong)nrPages << PageDefs.PAGE_SHIFT;
        var end = unchecked(s + len);
        if (end < s) return -Errno.EOVERFLOW;
        if (end > PageDefs.TASK_SIZE_MAX) return -Errno.EFAULT;
        var cur = _sched.Current;
        if (cur == null) return -Errno.EFAULT;
        var pt = _pt;
        if (!ReferenceEquals(cur, _ptOwner) || pt is null) pt = PageTableOf(cur);
        var n = Math.Min(nrPages, pages.Length);
        var pinned = 0;
        while (pinned < n)
        {
            // The pages whose translation is in the TLB, then their pins: a hit changes nothing, so translating a run of
            // them before pinning it pins the same pages with the same counts as page by page.
            // A long run loops out of line, where its counters stay in registers (inlined here, they spill).
            var vpn = (s >> PageDefs.PAGE_SHIFT) + (ulong)pinned;
            var hits = n - pinned > LongRun ? pt.TranslateHitsRun(vpn, write, pages[pinned..n]) : pt.TranslateHits(vpn, write, pages[pinned..n]);
            if (hits > 0)
            {
                var fresh = hits > LongRun ? counts.PinRun(pages.Slice(pinned, hits)) : counts.Pin(pages.Slice(pinned, hits));
                if (foll) _follPinned += fresh;
                pinned += hits;
                if (pinned == n) break;
            }
            if (!PinWalked(cur, pt, s + ((ulong)pinned << PageDefs.PAGE_SHIFT), write, nofault, out var pfn, counts, foll)) break;
            pages[pinned++] = pfn;
        }
        return pinned == 0 ? -Errno.EFAULT : pinned; // the "gup" event is the traced callers' (TracedPinned)
    }

    /// <summary>
    /// <paramref name="pinned"/>, after the "gup" event of a walk that pinned pages (tracing on). In the callers, not in
    /// <see cref="GupFast"/>: the event's six values kept live through its page loop made the untraced walk spill.
    /// </summary>
    private long TracedPinned(long pinned, UserPtr start, int nrPages, bool foll, bool write, bool nofault)
    {
        if (pinned > 0 && _trace.Enabled) TracePinned((int)pinned, nrPages, start.Value & PageDefs.PAGE_MASK, foll, write, nofault);
        return pinned;
    }

    /// <summary>
    /// One page of the gup walk that missed the TLB: the page-table walk, the fault if needed (not with FOLL_NOFAULT), the
    /// pin. False when the page cannot be pinned (the walk stops there).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private bool PinWalked(Process cur, PageTable pt, ulong va, bool write, bool nofault, out ulong pfn, PinCounts counts, bool foll)
    {
        if (!pt.TryTranslate(va, write, out pfn)) // mm.TryTranslate
        {
            if (nofault) return false;
            // __get_user_pages → faultin_page → handle_mm_fault (check_vma_flags is part of HandleMmFault).
            if ((cur.Mm.HandleMmFault(va, write) & VmFault.VM_FAULT_ERROR) != 0) return false;
            if (!pt.TryTranslate(va, write, out pfn)) return false;
        }
        if (counts.Slot(pfn)++ == 0 && foll) _follPinned++;
        return true;
    }

    private PageTable PageTableOf(Process p)
    {
        _ptOwner = p;
        return _pt = p.Mm.PageTable;
    }

    // Out of line: the interpolated string would otherwise widen GupFast's frame on the untraced path.
    private void TracePinned(int pinned, int nrPages, ulong s, bool foll, bool write, bool nofault) =>
        _trace.Event("gup", $"pinned {pinned} of {nrPages} pages from 0x{s:x}{(foll ? " FOLL_PIN" : "")}{(write ? " FOLL_WRITE" : "")}{(nofault ? " FOLL_NOFAULT" : "")}");

    /// <summary>A reference taken on a kernel page (folio_get on a bvec page in iov_iter_get_pages2).</summary>
    internal void GetPage(ulong pfn) => _pins.Slot(pfn)++;

    /// <summary>
    /// unpin_user_page / put_page: drop one FOLL_PIN pin taken by <see cref="PinUserPagesFast"/> if the page has one,
    /// else one reference taken by <see cref="GetUserPagesFast"/> or get_pages.
    /// </summary>
    public void UnpinUserPage(ulong pfn)
    {
        if (_follPinned != 0 && _follPins.Get(pfn) > 0)
        {
            if (--_follPins.Slot(pfn) == 0) _follPinned--;
            return;
        }
        if (_pins.Get(pfn) > 0) _pins.Slot(pfn)--;
    }

    /// <summary>unpin_user_pages (mm/gup.c): <see cref="UnpinUserPage"/> on each page, in order.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void UnpinUserPages(ReadOnlySpan<ulong> pfns)
    {
        if (_follPinned != 0) UnpinEach(pfns);
        else if (pfns.Length > LongRun) _pins.UnpinRun(pfns);
        else _pins.Unpin(pfns);
    }

    private void UnpinEach(ReadOnlySpan<ulong> pfns)
    {
        foreach (var pfn in pfns) UnpinUserPage(pfn);
    }

    /// <summary>Pins currently held on a frame.</summary>
    public int PinCount(ulong pfn) => _pins.Get(pfn);

    /// <summary>FOLL_PIN pins currently held on a frame (what folio_maybe_dma_pinned tests).</summary>
    public int FollPinCount(ulong pfn) => _follPins.Get(pfn);

    /// <summary>page_maybe_dma_pinned (include/linux/mm.h): the page holds at least one FOLL_PIN pin.</summary>
    public bool PageMaybeDmaPinned(ulong pfn) => _follPins.Get(pfn) > 0;

    /// <summary>
    /// Counts per frame in blocks of 512 neighbouring frames, the last block used kept at hand: pinning and unpinning
    /// the pages of one buffer again and again (direct I/O) touches no dictionary.
    /// </summary>
    private sealed class PinCounts
    {
        private const int Shift = 9;
        private const int Mask = (1 << Shift) - 1;
        private readonly Dictionary<ulong, int[]> _blocks = [];
        private ulong _lastKey = ulong.MaxValue;
        private int[]? _last;
        // The block used before the last: a buffer whose frames straddle two blocks switches between them on every pass.
        private ulong _prevKey = ulong.MaxValue;
        private int[]? _prev;

        /// <summary>One more pin on each of <paramref name="pfns"/>, in order; returns how many counts went from 0 to 1.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public int Pin(ReadOnlySpan<ulong> pfns)
        {
            var fresh = 0;
            var block = _last;
            var key = _lastKey;
            foreach (var pfn in pfns)
            {
                if ((pfn >> Shift) != key || block is null)
                {
                    key = pfn >> Shift;
                    block = Block(key);
                }
                if (block[(int)(pfn & Mask)]++ == 0) fresh++;
            }
            return fresh;
        }

        /// <summary><see cref="Pin"/> out of line (a long run).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public int PinRun(ReadOnlySpan<ulong> pfns) => Pin(pfns);

        /// <summary><see cref="Unpin"/> out of line (a long run).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public void UnpinRun(ReadOnlySpan<ulong> pfns) => Unpin(pfns);

        /// <summary>One pin less on each of <paramref name="pfns"/> that has one, in order (put_page of a bio's pages).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public void Unpin(ReadOnlySpan<ulong> pfns)
        {
            var block = _last;
            var key = _lastKey;
            foreach (var pfn in pfns)
            {
                if ((pfn >> Shift) != key || block is null)
                {
                    key = pfn >> Shift;
                    block = Block(key);
                }
                ref var c = ref block[(int)(pfn & Mask)];
                if (c > 0) c--;
            }
        }

        /// <summary>The count of <paramref name="pfn"/>, its block created if needed.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public ref int Slot(ulong pfn)
        {
            var last = _last;
            if ((pfn >> Shift) != _lastKey || last is null) last = Block(pfn >> Shift);
            return ref last[(int)(pfn & ((1 << Shift) - 1))];
        }

        // Out of line: a pin or unpin of the block last used (every direct I/O of the same buffer) inlines only the check.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private int[] Block(ulong key)
        {
            int[]? block;
            if (key == _prevKey && _prev is not null) block = _prev;
            else if (!_blocks.TryGetValue(key, out block))
            {
                block = new int[1 << Shift];
                _blocks.Add(key, block);
            }
            if (_last is not null)
            {
                _prev = _last;
                _prevKey = _lastKey;
            }
            _last = block;
            _lastKey = key;
            return block;
        }

        /// <summary>The count of <paramref name="pfn"/> (0 when its block was never used).</summary>
        public int Get(ulong pfn)
        {
            var key = pfn >> Shift;
            if (key == _lastKey && _last is not null) return _last[(int)(pfn & ((1 << Shift) - 1))];
            return _blocks.TryGetValue(key, out var block) ? block[(int)(pfn & ((1 << Shift) - 1))] : 0;
        }
    }
}
