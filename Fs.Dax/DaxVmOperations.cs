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
}

/// <summary>
/// filemap_fault for a dax=never mount: the page-cache folio (read through -&gt;read_folio and the block driver)
/// is mapped; a private write gets an anonymous copy; a shared write marks the folio dirty (page_mkwrite
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
        var folio = mapping.GetOrCreate(index, out _);
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
            _fs.Machine.Phys.Frame((ulong)p).Flags = PageFlags.PAGE_MAPPING_ANON;
            _fs.Machine.Phys.ReadSpan(folio.Pfn, 0, (int)PageDefs.PAGE_SIZE).CopyTo(_fs.Machine.Phys.WriteSpan((ulong)p, 0, (int)PageDefs.PAGE_SIZE));
            pfn = (ulong)p;
            return VmFault.VM_FAULT_NOPAGE;
        }
        if (write) folio.Dirty = true;
        pfn = folio.Pfn;
        return VmFault.VM_FAULT_NOPAGE;
    }
}
