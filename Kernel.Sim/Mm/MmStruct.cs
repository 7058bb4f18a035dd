using KernelSim.Uapi;

namespace KernelSim.Mm;

/// <summary>
/// A process address space (struct mm_struct): VMAs, a page table and demand paging
/// (mm/memory.c handle_mm_fault for anonymous and shmem memory; file mappings delegate to their
/// <see cref="IVmOperations"/>).
/// </summary>
public sealed partial class MmStruct
{
    /// <summary>mmap_base with address-space randomisation off (setarch -R); top-down allocation starts here.</summary>
    public const ulong MmapBase = 0x7fff_f7ff_f000UL;
    /// <summary>vm.mmap_min_addr default.</summary>
    public const ulong MmapMinAddr = 0x10000;

    private readonly List<Vma> _vmas = [];
    private readonly PageTable _ptes;
    private readonly PhysicalMemory _phys;

    internal MmStruct(PhysicalMemory phys)
    {
        _phys = phys;
        _ptes = new(phys);
    }

    /// <summary>The sub-page permission granule (arm64 MTE tag granule, MTE_GRANULE_SIZE).</summary>
    public const int SubpageGranule = 16;

    private HashSet<ulong>? _subpageDenied;

    /// <summary>
    /// Sub-page permissions (an arm64 MTE-like model, used by fault_in_subpage_writeable scenarios): mark every
    /// 16-byte granule touching [start, start+len) inaccessible (<paramref name="accessible"/> false) or
    /// accessible again. Loads and stores, from user or kernel mode, to a denied granule fault like a #PF that
    /// handle_mm_fault cannot fix; one-byte-per-page probes of other granules still succeed.
    /// </summary>
    public void SetSubpageProtection(UserPtr start, ulong len, bool accessible)
    {
        if (len == 0) return;
        var first = start.Value / SubpageGranule;
        var last = (start.Value + (len - 1)) / SubpageGranule;
        if (!accessible) _subpageDenied ??= [];
        if (_subpageDenied == null) return;
        for (var g = first; g <= last && g >= first; g++)
        {
            if (accessible) _subpageDenied.Remove(g);
            else _subpageDenied.Add(g);
        }
    }

    /// <summary>True when some granule is denied (the CPU then checks sub-page permissions).</summary>
    public bool HasSubpageProtection => _subpageDenied is { Count: > 0 };

    /// <summary>Offset in [va, va+n) of the first byte in a denied granule, or −1.</summary>
    internal int FirstDeniedByte(ulong va, int n)
    {
        if (_subpageDenied is not { Count: > 0 } || n <= 0) return -1;
        var first = va / SubpageGranule;
        var last = (va + (ulong)(n - 1)) / SubpageGranule;
        for (var g = first; g <= last; g++)
            if (_subpageDenied.Contains(g)) return (int)(Math.Max(g * SubpageGranule, va) - va);
        return -1;
    }

    /// <summary>The VMAs in address order.</summary>
    public IReadOnlyList<Vma> Vmas => _vmas;

    /// <summary>find_vma-like: the VMA containing addr, or null.</summary>
    public Vma? FindVma(ulong addr)
    {
        int lo = 0, hi = _vmas.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var v = _vmas[mid];
            if (addr < v.Start) hi = mid - 1;
            else if (addr >= v.End) lo = mid + 1;
            else return v;
        }
        return null;
    }

    /// <summary>The physical frame mapped at a user address, or null if not present (for inspection).</summary>
    public ulong? PfnAt(ulong addr) =>
        _ptes.TryGetValue(addr >> PageDefs.PAGE_SHIFT, out var p) && p.Present ? p.Pfn : null;

    /// <summary>True if a hwpoison entry replaced the page at addr (memory_failure unmapped it).</summary>
    public bool IsHwPoisonEntry(ulong addr) =>
        _ptes.TryGetValue(addr >> PageDefs.PAGE_SHIFT, out var p) && p.HwPoisonEntry;

    /// <summary>The pfn recorded in the hwpoison entry at addr, or null.</summary>
    public ulong? HwPoisonPfn(ulong addr) =>
        _ptes.TryGetValue(addr >> PageDefs.PAGE_SHIFT, out var p) && p.HwPoisonEntry ? p.Pfn : null;

    /// <summary>Number of present pages (RSS).</summary>
    public int ResidentPages
    {
        get
        {
            var n = 0;
            foreach (var p in _ptes.Values) if (p.Present) n++;
            return n;
        }
    }

    /// <summary>
    /// Hot path: the pfn for an access if the page is present and the access is permitted by the PTE
    /// (no fault needed). Marks the PTE dirty on writes.
    /// </summary>
    internal bool TryTranslate(ulong va, bool write, out ulong pfn) => _ptes.TryTranslate(va, write, out pfn);

    /// <summary>The page table <see cref="TryTranslate"/> walks (fixed for the mm's life).</summary>
    internal PageTable PageTable => _ptes;

    /// <summary>
    /// The page-table level mapping va: 30 for a PUD, 21 for a PMD, 12 for a PTE, 0 when nothing present maps it (the
    /// walk of dev_pagemap_mapping_shift, mm/memory-failure.c).
    /// </summary>
    public int MappingShift(ulong va) =>
        _ptes.TryGetValue(va >> PageDefs.PAGE_SHIFT, out var p) && p.Present ? p.Shift : 0;

    /// <summary>The mapping shift of the entry at va (12 or 21), 0 if none.</summary>
    internal int ShiftAt(ulong va) => _ptes.TryGetValue(va >> PageDefs.PAGE_SHIFT, out var p) ? p.Shift : 0;

    /// <summary>
    /// handle_mm_fault after find_vma and access_error (arch/x86/mm/fault.c do_user_addr_fault):
    /// returns None when the page is now mapped, else the fault bits that decide the signal or fixup.
    /// </summary>
    internal VmFault HandleMmFault(ulong addr, bool write)
    {
        var vma = FindVma(addr);
        if (vma == null) return VmFault.VM_FAULT_BADMAP;
        if (write ? !vma.MayWrite : !vma.MayRead) return VmFault.VM_FAULT_BADACCESS;
        var vpn = addr >> PageDefs.PAGE_SHIFT;
        if (_ptes.TryGetValue(vpn, out var pte))
        {
            if (pte.HwPoisonEntry) return pte.Shift > PageDefs.PAGE_SHIFT ? VmFault.VM_FAULT_HWPOISON_LARGE : VmFault.VM_FAULT_HWPOISON;
            if (pte.Present && write && !pte.Writable && !vma.Shared && IsAnonFrame(pte.Pfn)) return DoWpPage(addr, pte); // copy-on-write
            if (pte.Present && write && !pte.Writable && vma.IsAnonymous && _phys.IsZeroPfn(pte.Pfn)) return WpZeroPage(addr);
            // A write to a read-only PTE of a file mapping goes back to the file (page_mkwrite / pfn_mkwrite / CoW).
            if (pte.Present && !(write && !pte.Writable && vma.VmOps != null))
            {
                // The VMA allows the access (checked above): clear a stale protnone / upgrade to writable,
                // as do_numa_page / a write-notify fault would.
                pte.ProtNone = false;
                if (write) pte.Writable = true;
                _ptes[vpn] = pte;
                return VmFault.None;
            }
        }
        var pageVa = addr & PageDefs.PAGE_MASK;
        if (vma.VmOps != null)
        {
            var r = vma.VmOps.Fault(this, vma, pageVa, write, out var pfn, out var shift);
            if ((r & VmFault.VM_FAULT_ERROR) != 0) return r;
            if (shift > PageDefs.PAGE_SHIFT)
            {
                var size = 1UL << shift;
                var baseVa = addr & ~(size - 1);
                var basePfn = pfn & ~((size >> PageDefs.PAGE_SHIFT) - 1);
                for (var i = 0UL; i < size >> PageDefs.PAGE_SHIFT; i++)
                    InstallPte(baseVa + (i << PageDefs.PAGE_SHIFT), basePfn + i, write && vma.MayWrite, shift); // vmf_insert_pfn_pmd(write): a read maps read-only (write-notify)
            }
            else
            {
                InstallPte(pageVa, pfn, write && vma.MayWrite, PageDefs.PAGE_SHIFT);
            }
            return VmFault.None;
        }
        ulong newPfn;
        if (vma.Shmem != null)
        {
            var index = vma.PgOff + ((pageVa - vma.Start) >> PageDefs.PAGE_SHIFT);
            if (index >= vma.Shmem.Size >> PageDefs.PAGE_SHIFT) return VmFault.VM_FAULT_SIGBUS; // beyond EOF of the object
            if (!vma.Shmem.Pages.TryGetValue(index, out newPfn))
            {
                var p = _phys.AllocPage();
                if (p < 0) return VmFault.VM_FAULT_OOM;
                newPfn = (ulong)p;
                vma.Shmem.Pages[index] = newPfn;
                var f = _phys.Frame(newPfn);
                f.Flags = PageFlags.PG_swapbacked;
                f.ShmemOwner = vma.Shmem;
                f.ShmemIndex = index;
            }
            else if (_phys.Frame(newPfn).IsHwPoison)
            {
                return VmFault.VM_FAULT_HWPOISON; // shmem_fault finds a hwpoisoned folio
            }
        }
        else
        {
            var p = _phys.AllocPage();
            if (p < 0) return VmFault.VM_FAULT_OOM;
            newPfn = (ulong)p;
            _phys.Frame(newPfn).Flags = PageFlags.PAGE_MAPPING_ANON;
        }
        InstallPte(pageVa, newPfn, vma.MayWrite, PageDefs.PAGE_SHIFT);
        return VmFault.None;
    }

    /// <summary>
    /// The fault get_user_pages makes for an access without FOLL_WRITE (madvise_inject_error's get_user_pages_fast(start,
    /// 1, 0)): handle_mm_fault without FAULT_FLAG_WRITE. On a private anonymous VMA with nothing mapped that is
    /// do_anonymous_page's read path — the zero page mapped read-only (pte_mkspecial(my_zero_pfn)) —, so GUP hands back
    /// ZERO_PAGE (follow_page_pte: is_zero_pfn); any other case faults as <see cref="HandleMmFault"/> does.
    /// </summary>
    internal VmFault GupReadFault(ulong addr)
    {
        var vma = FindVma(addr);
        if (vma == null || !vma.IsAnonymous || vma.Shared || !vma.MayRead || _ptes.ContainsKey(addr >> PageDefs.PAGE_SHIFT))
            return HandleMmFault(addr, write: false);
        var zero = _phys.ZeroPfn();
        if (zero < 0) return VmFault.VM_FAULT_OOM;
        InstallPte(addr & PageDefs.PAGE_MASK, (ulong)zero, writable: false, PageDefs.PAGE_SHIFT);
        return VmFault.None;
    }

    /// <summary>
    /// do_wp_page on the zero page of a private anonymous VMA: wp_page_copy with a new zeroed page
    /// (alloc_zeroed_user_highpage_movable), mapped writable in its place.
    /// </summary>
    private VmFault WpZeroPage(ulong addr)
    {
        var p = _phys.AllocPage();
        if (p < 0) return VmFault.VM_FAULT_OOM;
        _phys.Frame((ulong)p).Flags = PageFlags.PAGE_MAPPING_ANON;
        InstallPte(addr & PageDefs.PAGE_MASK, (ulong)p, writable: true, PageDefs.PAGE_SHIFT);
        return VmFault.None;
    }

    /// <summary>
    /// How many entries (present or hwpoison) lie in [start, end), and whether every present one belongs to a
    /// PMD (shift 21) mapping: pmd_none / pmd_trans_huge for the huge-fault path.
    /// </summary>
    public (int Count, bool AllHuge) EntriesIn(ulong start, ulong end)
    {
        var n = 0;
        var huge = true;
        for (var vpn = start >> PageDefs.PAGE_SHIFT; vpn < end >> PageDefs.PAGE_SHIFT; vpn++)
        {
            if (!_ptes.TryGetValue(vpn, out var p)) continue;
            n++;
            if (!p.Present || p.Shift <= PageDefs.PAGE_SHIFT) huge = false;
        }
        return (n, huge);
    }

    /// <summary>
    /// page_vma_mkclean_one / pfn_mkclean_range for the entry at <paramref name="pageVa"/> (mm/rmap.c): write-protect it
    /// and clear its dirty bit, so the next store faults (dax_entry_mkclean during DAX writeback; page_mkclean_one of
    /// mm/rmap.c for page-cache writeback). Returns true when the
    /// entry was writable or dirty.
    /// </summary>
    public bool MkcleanPte(ulong pageVa)
    {
        var vpn = pageVa >> PageDefs.PAGE_SHIFT;
        if (!_ptes.TryGetValue(vpn, out var pte) || !pte.Present) return false;
        var was = pte.Writable || pte.Dirty;
        pte.Writable = false;
        pte.Dirty = false;
        _ptes[vpn] = pte;
        return was;
    }

    /// <summary>True when the entry at <paramref name="pageVa"/> is present and writable (for inspection).</summary>
    internal bool IsWritable(ulong pageVa) => _ptes.TryGetValue(pageVa >> PageDefs.PAGE_SHIFT, out var p) && p.Present && p.Writable;

    internal void InstallPte(ulong pageVa, ulong pfn, bool writable, int shift)
    {
        var vpn = pageVa >> PageDefs.PAGE_SHIFT;
        if (_ptes.TryGetValue(vpn, out var old) && old.Present) _phys.Frame(old.Pfn).RemoveRmap(this, pageVa);
        _ptes[vpn] = new Pte { Pfn = pfn, Present = true, Writable = writable, Shift = shift };
        _phys.Frame(pfn).AddRmap(this, pageVa);
    }

    /// <summary>
    /// try_to_unmap with TTU_HWPOISON for one mapping: the PTE becomes a hwpoison entry; the dirty bit is
    /// propagated to the page. Returns the mapping shift that was there (0 if not mapped).
    /// </summary>
    internal int UnmapForHwpoison(ulong pageVa)
    {
        var vpn = pageVa >> PageDefs.PAGE_SHIFT;
        if (!_ptes.TryGetValue(vpn, out var pte) || !pte.Present) return 0;
        var f = _phys.Frame(pte.Pfn);
        if (pte.Dirty) f.Flags |= PageFlags.PG_dirty;
        f.RemoveRmap(this, pageVa);
        _ptes[vpn] = new Pte { Pfn = pte.Pfn, HwPoisonEntry = true, Shift = pte.Shift };
        return pte.Shift;
    }

    /// <summary>Page addresses in [start, end) that have a PTE, in order, without walking a huge empty range.</summary>
    private List<ulong> PagesWithPtes(ulong start, ulong end)
    {
        var list = new List<ulong>();
        var first = start >> PageDefs.PAGE_SHIFT;
        var last = (end + PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT;
        if (last - first <= (ulong)_ptes.Count * 4)
        {
            for (var vpn = first; vpn < last; vpn++) if (_ptes.ContainsKey(vpn)) list.Add(vpn << PageDefs.PAGE_SHIFT);
        }
        else
        {
            foreach (var vpn in _ptes.Keys) if (vpn >= first && vpn < last) list.Add(vpn << PageDefs.PAGE_SHIFT);
            list.Sort();
        }
        return list;
    }

    /// <summary>Remove every mapping of [start, end) and zap its PTEs (unmap_mapping_range-like, for file mappings).</summary>
    public void ZapRange(ulong start, ulong end)
    {
        foreach (var va in PagesWithPtes(start, end)) ZapPte(va, freeAnon: false);
    }

    private void ZapPte(ulong pageVa, bool freeAnon)
    {
        var vpn = pageVa >> PageDefs.PAGE_SHIFT;
        if (!_ptes.Remove(vpn, out var pte) || !pte.Present) return;
        var f = _phys.Frame(pte.Pfn);
        if (pte.Dirty) f.Flags |= PageFlags.PG_dirty;
        f.RemoveRmap(this, pageVa);
        if (freeAnon && (f.Flags & PageFlags.PAGE_MAPPING_ANON) != 0 && f.MapCount == 0) _phys.FreePage(pte.Pfn);
    }

    // ---- VMA management (mm/mmap.c, mm/vma.c) -------------------------------------------------

    /// <summary>mm-&gt;get_unmapped_area (arch_get_unmapped_area_topdown) from <see cref="MmapBase"/>; 0 when nothing fits.</summary>
    public ulong GetUnmappedArea(ulong len)
    {
        var top = MmapBase;
        for (var i = _vmas.Count - 1; i >= -1; i--)
        {
            var floor = i >= 0 ? _vmas[i].End : MmapMinAddr;
            if (top > floor && top - floor >= len && top <= MmapBase)
                return top - len;
            if (i >= 0) top = Math.Min(top, _vmas[i].Start);
        }
        return 0;
    }

    /// <summary>True if any VMA overlaps [start, end).</summary>
    internal bool Overlaps(ulong start, ulong end)
    {
        foreach (var v in _vmas) if (v.Start < end && start < v.End) return true;
        return false;
    }

    internal void InsertVma(Vma vma)
    {
        var i = 0;
        while (i < _vmas.Count && _vmas[i].Start < vma.Start) i++;
        _vmas.Insert(i, vma);
    }

    /// <summary>Split VMAs so that start and end fall on VMA boundaries.</summary>
    private void SplitAt(ulong addr)
    {
        var v = FindVma(addr);
        if (v == null || v.Start == addr) return;
        var tail = v.CloneRange(addr, v.End);
        v.End = addr;
        InsertVma(tail);
    }

    /// <summary>do_vmi_munmap body: remove [start, end) (holes are fine), freeing private anonymous pages.</summary>
    internal void UnmapRange(ulong start, ulong end, bool keepVma = false)
    {
        if (keepVma)
        {
            foreach (var va in PagesWithPtes(start, end)) ZapPte(va, freeAnon: true);
            return;
        }
        SplitAt(start);
        SplitAt(end);
        for (var i = _vmas.Count - 1; i >= 0; i--)
        {
            var v = _vmas[i];
            if (v.Start >= start && v.End <= end)
            {
                foreach (var va in PagesWithPtes(v.Start, v.End)) ZapPte(va, freeAnon: true);
                _vmas.RemoveAt(i);
            }
        }
        // hwpoison entries of removed VMAs go too (walk the entries, not the possibly huge range)
        var startVpn = start >> PageDefs.PAGE_SHIFT;
        var endVpn = end >> PageDefs.PAGE_SHIFT;
        List<ulong>? gone = null;
        foreach (var vpn in _ptes.Keys)
        {
            if (vpn >= startVpn && vpn < endVpn) (gone ??= []).Add(vpn);
        }
        if (gone != null) foreach (var vpn in gone) _ptes.Remove(vpn);
    }

    /// <summary>True if [start, end) is covered by VMAs without holes.</summary>
    internal bool FullyMapped(ulong start, ulong end)
    {
        var a = start;
        while (a < end)
        {
            var v = FindVma(a);
            if (v == null) return false;
            a = v.End;
        }
        return true;
    }

    /// <summary>mprotect_fixup over [start, end), which must be fully mapped.</summary>
    internal void ChangeProtection(ulong start, ulong end, int prot)
    {
        SplitAt(start);
        SplitAt(end);
        foreach (var v in _vmas)
        {
            if (v.Start < start || v.End > end) continue;
            v.Prot = prot;
            if ((prot & Mman.PROT_WRITE) != 0 && !v.Shared) v.Account = true; // mprotect_fixup charges a private mapping made writable
            foreach (var va in PagesWithPtes(v.Start, v.End))
            {
                var vpn = va >> PageDefs.PAGE_SHIFT;
                if (!_ptes.TryGetValue(vpn, out var pte) || !pte.Present) continue;
                // PROT_NONE keeps the page but makes the PTE inaccessible (pte_protnone).
                pte.ProtNone = prot == Mman.PROT_NONE;
                pte.Writable = (prot & Mman.PROT_WRITE) != 0 && v.IsAnonymous && _phys.Frame(pte.Pfn).MapCount <= 1; // a COW-shared page stays read-only
                _ptes[vpn] = pte;
            }
        }
    }

    /// <summary>True if the PTE exists but the VMA forbids the access (PROT_NONE or read-only): used by the hot path.</summary>
    internal bool VmaPermits(ulong va, bool write)
    {
        var v = FindVma(va);
        return v != null && (write ? v.MayWrite : v.MayRead);
    }
}
