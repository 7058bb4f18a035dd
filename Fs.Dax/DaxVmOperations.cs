using KernelSim.Mm;

namespace KernelSim.Fs.Dax;

/// <summary>
/// The vm_operations_struct of a DAX file mapping (ext4_dax_vm_ops in spirit): -&gt;huge_fault tries a 2 MiB
/// PMD mapping (if the mount allows it) and -&gt;fault maps 4 KiB pages, both through fs/dax.c.
/// </summary>
public sealed class DaxVmOperations : IVmOperations
{
    private readonly DaxFs _fs;

    internal DaxVmOperations(DaxFs fs) => _fs = fs;

    /// <summary>ext4_dax_huge_fault / ext4_dax_fault: dax_iomap_fault with the filesystem's iomap ops.</summary>
    public VmFault Fault(MmStruct mm, Vma vma, ulong address, bool write, out ulong pfn, out int shift)
    {
        using var fn = _fs.Machine.Tracer.Fn("daxfs_dax_fault", "fs");
        if (_fs.Options.HugeFaults) return _fs.FsDax.DaxIomapFault(mm, vma, address, write, _fs.IomapOps, out pfn, out shift);
        shift = PageDefs.PAGE_SHIFT;
        return _fs.FsDax.DaxIomapPteFault(vma, address, write, _fs.IomapOps, out pfn);
    }

    /// <summary>A forked copy of the VMA: the child's address space joins the inode's mappers (i_mmap).</summary>
    public void Open(MmStruct mm, Vma vma) => ((DaxFile)vma.File!).DInode.AddMapper(mm);
}

/// <summary>
/// filemap_fault for a dax=never mount: the page-cache folio (read through -&gt;read_folio and the block driver)
/// is mapped; a private write gets an anonymous copy (do_cow_fault: copy_mc_user_highpage from 6.12, poison in
/// the folio → VM_FAULT_HWPOISON; copy_user_highpage before, poison → a fatal kernel machine check — see
/// <see cref="Profiles.KernelProfile.CowFaultCopyMc"/>); a shared write marks the folio dirty (page_mkwrite
/// allocates the block first). A read error → VM_FAULT_SIGBUS; past EOF → VM_FAULT_SIGBUS.
/// </summary>
public sealed class PagecacheVmOperations : IVmOperations
{
    private readonly DaxFs _fs;

    internal PagecacheVmOperations(DaxFs fs) => _fs = fs;

    /// <inheritdoc/>
    public VmFault Fault(MmStruct mm, Vma vma, ulong address, bool write, out ulong pfn, out int shift)
    {
        using var fn = _fs.Machine.Tracer.Fn("filemap_fault", "mm");
        shift = PageDefs.PAGE_SHIFT;
        pfn = 0;
        var file = (DaxFile)vma.File!;
        var inode = file.DInode;
        var index = vma.PgOff + ((address - vma.Start) >> PageDefs.PAGE_SHIFT);
        if ((long)(index << PageDefs.PAGE_SHIFT) >= inode.Size) return VmFault.VM_FAULT_SIGBUS;
        var mapping = inode.Mapping!;
        var folio = mapping.GrabFolio(index);
        if (folio == null) return VmFault.VM_FAULT_OOM;
        if (write && vma.Shared)
        {
            // page_mkwrite (block_page_mkwrite): make sure the block is allocated.
            var r = _fs.EnsureBlock(inode, (long)index);
            if (r < 0) return VmFault.VM_FAULT_SIGBUS;
        }
        if (!folio.Uptodate && mapping.AOps.ReadFolio(file, mapping, folio) < 0) return VmFault.VM_FAULT_SIGBUS;
        if (write && !vma.Shared)
        {
            var p = _fs.Machine.Phys.AllocPage();
            if (p < 0) return VmFault.VM_FAULT_OOM;
            var m = _fs.Machine;
            if (!m.Profile.CowFaultCopyMc)
            {
                Highmem.CopyUserHighpage(m, (ulong)p, folio.Pfn);
            }
            else if (Highmem.CopyMcUserHighpage(m, (ulong)p, folio.Pfn) != 0)
            {
                m.Phys.FreePage((ulong)p); // folio_put(vmf->cow_page)
                return VmFault.VM_FAULT_HWPOISON;
            }
            m.Phys.Frame((ulong)p).SetAnon();
            pfn = (ulong)p;
            return VmFault.VM_FAULT_NOPAGE;
        }
        if (write) folio.MarkDirty();
        pfn = folio.Pfn;
        return VmFault.VM_FAULT_NOPAGE;
    }

    /// <summary>A forked copy of the VMA: the child's address space joins the inode's mappers (i_mmap).</summary>
    public void Open(MmStruct mm, Vma vma) => ((DaxFile)vma.File!).DInode.AddMapper(mm);
}
