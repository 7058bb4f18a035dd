using KernelSim.Kernel;

namespace KernelSim.Mm;

public sealed partial class MmStruct
{
    /// <summary>The machine this address space lives on (for the copy routines and the release's rules).</summary>
    internal Machine? Host { get; init; }

    private bool IsAnonFrame(ulong pfn) => (_phys.Frame(pfn).Flags & PageFlags.PAGE_MAPPING_ANON) != 0;

    /// <summary>
    /// dup_mmap (kernel/fork.c) into this (empty) address space of the child: every VMA is copied (a file
    /// VMA gets vm_ops-&gt;open), then copy_page_range for those vma_needs_copy selects — private VMAs with an anon_vma
    /// (private anonymous memory, or a private file mapping that has copy-on-write pages). copy_present_pte write-protects
    /// a private writable entry in both parent and child (the page is now shared copy-on-write, mapcount + 1);
    /// copy_nonpresent_pte copies hwpoison entries as they are; copy_huge_pmd skips PMD entries of file VMAs (they are
    /// refilled on fault). Shared VMAs copy nothing: the child faults the same pages in from the shared object or file.
    /// </summary>
    internal void DupMmap(MmStruct src)
    {
        using var _ = Host?.Tracer.Fn("dup_mmap", "mm");
        foreach (var v in src._vmas)
        {
            var nv = v.CloneRange(v.Start, v.End);
            _vmas.Add(nv);
            nv.VmOps?.Open(this, nv);
            if (!src.VmaNeedsCopy(v)) continue;
            foreach (var va in src.PagesWithPtes(v.Start, v.End))
            {
                var vpn = va >> PageDefs.PAGE_SHIFT;
                var pte = src._ptes[vpn];
                if (pte.HwPoisonEntry)
                {
                    _ptes[vpn] = pte;
                    continue;
                }
                if (!pte.Present || (pte.Shift > PageDefs.PAGE_SHIFT && !v.IsAnonymous)) continue;
                if (pte.Writable)
                {
                    // is_cow_mapping: ptep_set_wrprotect in the parent, pte_wrprotect for the child.
                    pte.Writable = false;
                    src._ptes[vpn] = pte;
                }
                _ptes[vpn] = pte;
                _phys.Frame(pte.Pfn).AddRmap(this, va);
            }
        }
    }

    /// <summary>vma_needs_copy (mm/memory.c): a private VMA with an anon_vma (anonymous memory, or copy-on-write pages of a file).</summary>
    private bool VmaNeedsCopy(Vma v)
    {
        if (v.Shared) return false;
        if (v.IsAnonymous) return true;
        foreach (var va in PagesWithPtes(v.Start, v.End))
        {
            var p = _ptes[va >> PageDefs.PAGE_SHIFT];
            if (p.Present && IsAnonFrame(p.Pfn)) return true;
        }
        return false;
    }

    /// <summary>
    /// do_wp_page on an anonymous page of a private VMA: a page mapped only here is reused (wp_page_reuse: made writable);
    /// one still shared with another address space after fork is copied (wp_page_copy → __wp_page_copy_user): from 6.1
    /// with copy_mc_user_highpage, where poison in the source gives VM_FAULT_HWPOISON and memory_failure_queue
    /// (a873dfe1032a 'mm, hwpoison: try to recover from copy-on write faults'); before, copy_user_highpage, whose
    /// poison consumption is a fatal kernel machine check.
    /// </summary>
    private VmFault DoWpPage(ulong addr, Pte pte)
    {
        var pageVa = addr & PageDefs.PAGE_MASK;
        var vpn = pageVa >> PageDefs.PAGE_SHIFT;
        var old = _phys.Frame(pte.Pfn);
        if (old.MapCount <= 1)
        {
            pte.Writable = true;
            pte.ProtNone = false;
            _ptes[vpn] = pte;
            return VmFault.None;
        }
        var m = Host!;
        using var _ = m.Tracer.Fn("wp_page_copy", "mm");
        var p = _phys.AllocPage();
        if (p < 0) return VmFault.VM_FAULT_OOM;
        var np = (ulong)p;
        if (!m.Profile.WpPageCopyMc)
        {
            Highmem.CopyUserHighpage(m, np, pte.Pfn);
        }
        else if (Highmem.CopyMcUserHighpage(m, np, pte.Pfn) != 0)
        {
            _phys.FreePage(np);
            return VmFault.VM_FAULT_HWPOISON;
        }
        _phys.Frame(np).SetAnon();
        InstallPte(pageVa, np, writable: true, PageDefs.PAGE_SHIFT);
        return VmFault.None;
    }
}
