using KernelSim.Mm;

namespace KernelSim.Fs;

/// <summary>
/// shmem_vm_ops (mm/shmem.c): shmem_fault finds or allocates the folio, and mm/memory.c around it —
/// __do_fault's PageHWPoison check, do_shared_fault (dirty the folio) and do_cow_fault (a private copy).
/// </summary>
internal sealed class ShmemVmOps(ShmemInode inode) : IVmOperations
{
    /// <summary>
    /// A page at or past i_size → VM_FAULT_SIGBUS (shmem_get_folio's −EINVAL through vmf_error); the folio (allocated
    /// zeroed if absent); a HWPoison folio → VM_FAULT_HWPOISON (__do_fault: shmem folios are dirty, so
    /// invalidate_inode_page cannot drop it), which do_sigbus turns into SIGBUS BUS_MCEERR_AR at the exact address with
    /// si_addr_lsb 12 (SH4). A private write copies the page (copy_mc_user_highpage from 6.12, else copy_user_highpage:
    /// <see cref="Profiles.KernelProfile.CowFaultCopyMc"/>); a shared write dirties the folio.
    /// </summary>
    public VmFault Fault(MmStruct mm, Vma vma, ulong address, bool write, out ulong pfn, out int shift)
    {
        var m = inode.Sb.Machine;
        using var fn = m.Tracer.Fn("shmem_fault", "mm");
        shift = PageDefs.PAGE_SHIFT;
        pfn = 0;
        var index = vma.PgOff + ((address - vma.Start) >> PageDefs.PAGE_SHIFT);
        if ((long)(index << PageDefs.PAGE_SHIFT) >= inode.Size) return VmFault.VM_FAULT_SIGBUS;
        var folio = inode.GetFolio(index, create: true);
        if (folio == null) return VmFault.VM_FAULT_OOM;
        if (inode.IsHwPoison(folio)) return VmFault.VM_FAULT_HWPOISON;
        if (write && !vma.Shared)
        {
            var p = m.Phys.AllocPage();
            if (p < 0) return VmFault.VM_FAULT_OOM;
            if (!m.Profile.CowFaultCopyMc)
            {
                Highmem.CopyUserHighpage(m, (ulong)p, folio.Pfn);
            }
            else if (Highmem.CopyMcUserHighpage(m, (ulong)p, folio.Pfn) != 0)
            {
                m.Phys.FreePage((ulong)p);
                return VmFault.VM_FAULT_HWPOISON;
            }
            m.Phys.Frame((ulong)p).SetAnon();
            pfn = (ulong)p;
            return VmFault.VM_FAULT_NOPAGE;
        }
        if (write) ShmemInode.MarkDirty(folio);
        pfn = folio.Pfn;
        return VmFault.VM_FAULT_NOPAGE;
    }
}
