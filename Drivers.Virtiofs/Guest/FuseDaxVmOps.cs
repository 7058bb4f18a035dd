using KernelSim.Mm;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// fuse_dax_vm_ops (fs/fuse/dax.c): huge_fault / fault / page_mkwrite / pfn_mkwrite, all __fuse_dax_fault. As
/// __handle_mm_fault does for a DAX VMA, an empty (or huge, for a write) PMD is tried with the 2 MiB order first and a
/// VM_FAULT_FALLBACK retries with 4 KiB (VF17).
/// </summary>
internal sealed class FuseDaxVmOps(FuseInode inode, FuseDaxIo io) : IVmOperations
{
    public VmFault Fault(MmStruct mm, Vma vma, ulong address, bool write, out ulong pfn, out int shift)
    {
        var r = io.HugeFault(mm, vma, address, write, out pfn);
        if (r != VmFault.VM_FAULT_FALLBACK)
        {
            shift = PageDefs.PMD_SHIFT;
            return r;
        }
        shift = PageDefs.PAGE_SHIFT;
        var pos = (long)((vma.PgOff << PageDefs.PAGE_SHIFT) + (address - vma.Start));
        return io.Fault(inode, pos, write, cow: write && !vma.Shared, out pfn);
    }
}
