using KernelSim.Mm;
using KernelSim.Profiles;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// dax_vm_ops (drivers/dax/device.c) with the walk of __handle_mm_fault in front of it: a PUD fault when the 1 GiB
/// entry is empty, a PMD fault when the 2 MiB entry is empty and the PUD fault fell back, then the PTE fault
/// (dev_dax_fault). DAX VMAs always try huge faults (VM_HUGEPAGE; the transparent_hugepage setting does not apply).
/// </summary>
internal sealed class DevDaxVmOperations(DevDax dev) : IVmOperations
{
    private const ulong PudSize = 1UL << PageDefs.PUD_SHIFT;

    /// <inheritdoc/>
    public VmFault Fault(MmStruct mm, Vma vma, ulong address, bool write, out ulong pfn, out int shift)
    {
        // A write to a present read-only PTE is do_wp_page → wp_pfn_shared (no pfn_mkwrite here): made writable, no fault.
        if (mm.PfnAt(address) is { } present)
        {
            pfn = present;
            shift = mm.MappingShift(address);
            return VmFault.VM_FAULT_NOPAGE;
        }
        VmFault rc;
        if (dev.Align != PudSize || mm.EntriesIn(address & ~(PudSize - 1), (address & ~(PudSize - 1)) + PudSize).Count == 0)
        {
            rc = HugeFault(vma, address, PageDefs.PUD_SHIFT, out pfn);
            if (rc != VmFault.VM_FAULT_FALLBACK) return Done(rc, PageDefs.PUD_SHIFT, out shift);
        }
        if (mm.EntriesIn(address & ~(PageDefs.PMD_SIZE - 1), (address & ~(PageDefs.PMD_SIZE - 1)) + PageDefs.PMD_SIZE).Count == 0)
        {
            rc = HugeFault(vma, address, PageDefs.PMD_SHIFT, out pfn);
            if (rc != VmFault.VM_FAULT_FALLBACK) return Done(rc, PageDefs.PMD_SHIFT, out shift);
        }
        rc = HugeFault(vma, address, PageDefs.PAGE_SHIFT, out pfn);
        return Done(rc, PageDefs.PAGE_SHIFT, out shift);
    }

    private static VmFault Done(VmFault rc, int level, out int shift)
    {
        shift = level;
        // VM_FAULT_FALLBACK from the PTE level cannot happen; a fallback that reached here is a SIGBUS for the caller.
        return rc == VmFault.VM_FAULT_FALLBACK ? VmFault.VM_FAULT_SIGBUS : rc;
    }

    /// <summary>
    /// dev_dax_huge_fault for one level (__dev_dax_pte_fault / _pmd_fault / _pud_fault): check_vma failing → SIGBUS; an
    /// alignment above the fault size → SIGBUS; below it → FALLBACK (PTE: any other alignment → SIGBUS); the aligned
    /// block must lie inside the VMA (SIGBUS) and inside the device (dax_pgoff_to_phys, SIGBUS). On success the
    /// pages get their mapping and index (dax_set_mapping, per release) and the pfn is inserted (NOPAGE).
    /// </summary>
    private VmFault HugeFault(Vma vma, ulong address, int level, out ulong pfn)
    {
        var name = level switch { PageDefs.PAGE_SHIFT => "__dev_dax_pte_fault", PageDefs.PMD_SHIFT => "__dev_dax_pmd_fault", _ => "__dev_dax_pud_fault" };
        using var _ = dev.Machine.Tracer.Fn(name, "dax");
        pfn = 0;
        var faultSize = 1UL << level;
        if (dev.CheckVma(vma.Shared, vma.Start, vma.End, name) != 0) return VmFault.VM_FAULT_SIGBUS;
        if (dev.Align > faultSize) return VmFault.VM_FAULT_SIGBUS;
        if (level == PageDefs.PAGE_SHIFT)
        {
            if (dev.Align != faultSize) return VmFault.VM_FAULT_SIGBUS;
        }
        else if (faultSize > dev.Align)
        {
            return VmFault.VM_FAULT_FALLBACK;
        }
        var blockAddr = address & ~(faultSize - 1);
        if (blockAddr < vma.Start || blockAddr + faultSize > vma.End) return VmFault.VM_FAULT_SIGBUS;
        var pgoff = LinearPageIndex(vma, blockAddr);
        var phys = dev.PgoffToPhys(pgoff, faultSize);
        if (phys == null) return VmFault.VM_FAULT_SIGBUS;
        // A file offset that is not a multiple of the alignment gives an unaligned huge pfn, which the kernel does not
        // check (not modelled: refused here).
        if ((phys.Value & (faultSize - 1)) != 0) return VmFault.VM_FAULT_SIGBUS;
        pfn = phys.Value >> PageDefs.PAGE_SHIFT;
        dev.SetMapping(vma, address, faultSize, pfn);
        switch (level)
        {
            case PageDefs.PAGE_SHIFT: dev.PteFaults++; break;
            case PageDefs.PMD_SHIFT: dev.PmdFaults++; break;
            default: dev.PudFaults++; break;
        }
        return VmFault.VM_FAULT_NOPAGE;
    }

    /// <summary>linear_page_index(vma, address): the file page of a user address (no range check).</summary>
    internal static ulong LinearPageIndex(Vma vma, ulong address) => unchecked(((address - vma.Start) >> PageDefs.PAGE_SHIFT) + vma.PgOff);
}
