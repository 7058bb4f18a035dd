using KernelSim.Mm;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>fuse_dax_vm_ops (fs/fuse/dax.c): fault / huge_fault / page_mkwrite / pfn_mkwrite → __fuse_dax_fault (4 KiB entries here).</summary>
internal sealed class FuseDaxVmOps(FuseInode inode, FuseDaxIo io) : IVmOperations
{
    public VmFault Fault(MmStruct mm, Vma vma, ulong address, bool write, out ulong pfn, out int shift)
    {
        shift = PageDefs.PAGE_SHIFT;
        var pos = (long)((vma.PgOff << PageDefs.PAGE_SHIFT) + (address - vma.Start));
        return io.Fault(inode, pos, write, out pfn);
    }
}
