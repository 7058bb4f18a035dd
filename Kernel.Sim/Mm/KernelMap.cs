using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Mm;

/// <summary>
/// The kernel half of the address space: the direct map of every registered physical range
/// (__va/__pa) and ioremap/memremap windows in vmalloc space. set_mce_nospec removes a page from the
/// direct map so speculation cannot touch it; kernel accesses there then fault. The set_memory_* calls
/// (<see cref="SetMemoryNp"/>, <see cref="SetMemoryRo"/> …) change the protection of kernel virtual pages, so a
/// kernel buffer can fault from an exact page-aligned byte.
/// </summary>
public sealed class KernelMap
{
    private readonly PhysicalMemory _phys;
    private readonly MachineState? _state;
    private readonly HashSet<ulong> _nospec = [];
    private readonly Dictionary<ulong, KernelPageProt> _prot = [];
    private readonly List<(ulong Start, ulong Size, PhysAddr Base, string Name)> _windows = [];
    private ulong _nextWindow = PageDefs.VMALLOC_START;
    private bool _warnedUnaligned;

    internal KernelMap(PhysicalMemory phys, MachineState? state = null)
    {
        _phys = phys;
        _state = state;
    }

    /// <summary>Protection bits cleared from a kernel PTE by set_memory_np / set_memory_ro.</summary>
    [Flags]
    private enum KernelPageProt : byte
    {
        None = 0,
        NotPresent = 1, // _PAGE_PRESENT cleared
        ReadOnly = 2,   // _PAGE_RW cleared
    }

    /// <summary>
    /// set_memory_np(addr, numpages) (arch/x86/mm/pat/set_memory.c): clear _PAGE_PRESENT on numpages kernel pages
    /// from addr; every kernel load or store there then takes a #PF. Returns 0, or −EFAULT for a vmalloc-space page
    /// with nothing mapped (the kernel WARNs "CPA: called for zero pte"). An unaligned addr is aligned down with a
    /// WARN, as change_page_attr_set_clr does; holes in the direct map are skipped.
    /// </summary>
    public int SetMemoryNp(KernelPtr addr, int numpages) => ChangePageAttr(addr, numpages, set: KernelPageProt.NotPresent, clear: KernelPageProt.None);

    /// <summary>set_memory_p(addr, numpages): set _PAGE_PRESENT again (undoes <see cref="SetMemoryNp"/>).</summary>
    public int SetMemoryP(KernelPtr addr, int numpages) => ChangePageAttr(addr, numpages, set: KernelPageProt.None, clear: KernelPageProt.NotPresent);

    /// <summary>set_memory_ro(addr, numpages): clear _PAGE_RW; kernel loads still work, a kernel store takes a #PF.</summary>
    public int SetMemoryRo(KernelPtr addr, int numpages) => ChangePageAttr(addr, numpages, set: KernelPageProt.ReadOnly, clear: KernelPageProt.None);

    /// <summary>set_memory_rw(addr, numpages): set _PAGE_RW again (undoes <see cref="SetMemoryRo"/>).</summary>
    public int SetMemoryRw(KernelPtr addr, int numpages) => ChangePageAttr(addr, numpages, set: KernelPageProt.None, clear: KernelPageProt.ReadOnly);

    /// <summary>
    /// change_page_attr_set_clr for 4 KiB kernel pages. A negative numpages (which the kernel would walk as a huge
    /// unsigned count) is refused with −EINVAL.
    /// </summary>
    private int ChangePageAttr(KernelPtr addr, int numpages, KernelPageProt set, KernelPageProt clear)
    {
        if (numpages < 0) return -Errno.EINVAL;
        var va = addr.Value;
        if (!PageDefs.IsPageAligned(va))
        {
            va = PageDefs.PageAlignDown(va);
            if (!_warnedUnaligned) _state?.Printk("WARNING: at arch/x86/mm/pat/set_memory.c change_page_attr_set_clr (unaligned address)");
            _warnedUnaligned = true;
        }
        for (var i = 0; i < numpages; i++)
        {
            var page = va + (ulong)i * PageDefs.PAGE_SIZE;
            if (!TryTranslate(page, out _) && !IsNospecAlias(page))
            {
                if (page >= PageDefs.PAGE_OFFSET && page < PageDefs.VMALLOC_START) continue; // a direct-map hole: expected, skipped
                _state?.Printk($"CPA: called for zero pte. vaddr = {page:x} cpa->vaddr = {va:x}");
                return -Errno.EFAULT;
            }
            var vpn = page >> PageDefs.PAGE_SHIFT;
            var prot = (_prot.GetValueOrDefault(vpn) & ~clear) | set;
            if (prot == KernelPageProt.None) _prot.Remove(vpn);
            else _prot[vpn] = prot;
        }
        return 0;
    }

    /// <summary>A direct-map page that set_mce_nospec unmapped still has a PTE to change.</summary>
    private bool IsNospecAlias(ulong va) =>
        va >= PageDefs.PAGE_OFFSET && va < PageDefs.VMALLOC_START && _nospec.Contains((va - PageDefs.PAGE_OFFSET) >> PageDefs.PAGE_SHIFT);

    /// <summary>set_mce_nospec (arch/x86/mm/pat/set_memory.c): unmap pfn from the direct map.</summary>
    public void SetMceNospec(ulong pfn) => _nospec.Add(pfn);

    /// <summary>clear_mce_nospec: make pfn present in the direct map again.</summary>
    public void ClearMceNospec(ulong pfn) => _nospec.Remove(pfn);

    /// <summary>True if set_mce_nospec removed pfn from the direct map.</summary>
    public bool IsNospec(ulong pfn) => _nospec.Contains(pfn);

    /// <summary>memremap/ioremap a physical range into vmalloc space (for windows outside the direct map).</summary>
    public KernelPtr Ioremap(PhysAddr start, ulong size, string name)
    {
        var va = _nextWindow;
        _windows.Add((va, PageDefs.PageAlign(size), start, name));
        _nextWindow += PageDefs.PageAlign(size) + PageDefs.PMD_SIZE; // guard gap
        return new KernelPtr(va);
    }

    /// <summary>
    /// Translate a kernel virtual address for a CPU access: false, with the fault, when nothing is mapped there,
    /// the page is not present (set_memory_np) or a store meets a read-only page (set_memory_ro).
    /// </summary>
    internal bool TryAccess(ulong va, bool write, out ulong pfn, out VmFault fault)
    {
        fault = VmFault.None;
        if (!TryTranslate(va, out pfn))
        {
            fault = VmFault.VM_FAULT_BADMAP;
            return false;
        }
        if (_prot.Count == 0 || !_prot.TryGetValue(va >> PageDefs.PAGE_SHIFT, out var prot)) return true;
        if ((prot & KernelPageProt.NotPresent) != 0) fault = VmFault.VM_FAULT_BADMAP;
        else if (write && (prot & KernelPageProt.ReadOnly) != 0) fault = VmFault.VM_FAULT_BADACCESS;
        else return true;
        pfn = 0;
        return false;
    }

    /// <summary>
    /// <see cref="TryAccess"/> for a run of pages: how many bytes from va (at most len) translate, page after page, to
    /// consecutive pfns starting at <paramref name="pfn"/>; 0 when va itself does not. While no page has a set_memory_*
    /// protection or a set_mce_nospec hole, a direct-map address answers for the rest of its physical range at once
    /// (each of those pages would translate alone to the next pfn); otherwise one page at a time.
    /// </summary>
    internal ulong TryAccessRun(ulong va, ulong len, bool write, out ulong pfn)
    {
        if (_nospec.Count == 0 && _prot.Count == 0 && va >= PageDefs.PAGE_OFFSET && va < PageDefs.VMALLOC_START)
        {
            var pa = new PhysAddr(va - PageDefs.PAGE_OFFSET);
            var r = _phys.FindRange(pa);
            if (r is not null && r.DirectMapped)
            {
                pfn = pa.Pfn;
                return Math.Min(len, r.End.Value - pa.Value);
            }
            pfn = 0;
            return 0;
        }
        if (!TryAccess(va, write, out pfn, out _)) return 0;
        return Math.Min(len, PageDefs.PAGE_SIZE - PageDefs.OffsetInPage(va));
    }

    /// <summary>Translate a kernel virtual address, ignoring set_memory_* protections (as __pa does); false when nothing is mapped there.</summary>
    internal bool TryTranslate(ulong va, out ulong pfn)
    {
        if (va >= PageDefs.PAGE_OFFSET && va < PageDefs.VMALLOC_START)
        {
            var pa = new PhysAddr(va - PageDefs.PAGE_OFFSET);
            var r = _phys.FindRange(pa);
            if (r is not null && r.DirectMapped && (_nospec.Count == 0 || !_nospec.Contains(pa.Pfn)))
            {
                pfn = pa.Pfn;
                return true;
            }
        }
        else
        {
            foreach (var w in _windows)
            {
                if (va >= w.Start && va - w.Start < w.Size)
                {
                    pfn = (w.Base.Value + (va - w.Start)) >> PageDefs.PAGE_SHIFT;
                    return true;
                }
            }
        }
        pfn = 0;
        return false;
    }

    /// <summary>__pa for a direct-map or window address; null if unmapped.</summary>
    public PhysAddr? Pa(KernelPtr p) =>
        TryTranslate(p.Value, out var pfn) ? new PhysAddr((pfn << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(p.Value)) : null;
}
