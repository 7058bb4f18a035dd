namespace KernelSim.Mm;

/// <summary>vm_operations_struct for file-backed mappings (DAX, virtio-fs): supplies the page for a fault.</summary>
public interface IVmOperations
{
    /// <summary>
    /// -&gt;fault / -&gt;huge_fault: resolve a fault at <paramref name="address"/> (page aligned) of
    /// <paramref name="vma"/>. On success return <see cref="VmFault.VM_FAULT_NOPAGE"/> or None with the pfn to map and
    /// the mapping shift (12, or 21 for a PMD); otherwise the VM_FAULT error bits.
    /// </summary>
    VmFault Fault(MmStruct mm, Vma vma, ulong address, bool write, out ulong pfn, out int shift);

    /// <summary>
    /// -&gt;open: a copy of <paramref name="vma"/> now exists in <paramref name="mm"/> (dup_mmap at fork links it into the
    /// file's i_mmap tree and calls vm_ops-&gt;open). Default: nothing to do.
    /// </summary>
    void Open(MmStruct mm, Vma vma)
    {
    }
}
