namespace KernelSim.Mm;

/// <summary>
/// The kernel half of the address space: the direct map of every registered physical range
/// (__va/__pa) and ioremap/memremap windows in vmalloc space. set_mce_nospec removes a page from the
/// direct map so speculation cannot touch it; kernel accesses there then fault.
/// </summary>
public sealed class KernelMap
{
    private readonly PhysicalMemory _phys;
    private readonly HashSet<ulong> _nospec = [];
    private readonly List<(ulong Start, ulong Size, PhysAddr Base, string Name)> _windows = [];
    private ulong _nextWindow = PageDefs.VMALLOC_START;

    internal KernelMap(PhysicalMemory phys) => _phys = phys;

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

    /// <summary>Translate a kernel virtual address; false when nothing is mapped there (a kernel #PF).</summary>
    internal bool TryTranslate(ulong va, out ulong pfn)
    {
        if (va >= PageDefs.PAGE_OFFSET && va < PageDefs.VMALLOC_START)
        {
            var pa = new PhysAddr(va - PageDefs.PAGE_OFFSET);
            var r = _phys.FindRange(pa);
            if (r != null && r.DirectMapped && (_nospec.Count == 0 || !_nospec.Contains(pa.Pfn)))
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
