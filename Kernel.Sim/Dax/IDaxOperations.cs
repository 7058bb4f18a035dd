using KernelSim.Lib;
using KernelSim.Mm;

namespace KernelSim.Dax;

/// <summary>struct dax_operations: what a DAX driver (pmem, virtio-fs) provides to drivers/dax/super.c.</summary>
public interface IDaxOperations
{
    /// <summary>
    /// -&gt;direct_access(dax_dev, pgoff, nr_pages, mode, &amp;kaddr, &amp;pfn): pages available from pgoff (0
    /// becomes -ERANGE in the core) or -errno (-EIO / -EHWPOISON for known-bad ranges).
    /// </summary>
    long DirectAccess(DaxDevice dev, ulong pgoff, long nrPages, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn);

    /// <summary>-&gt;zero_page_range(dax_dev, pgoff, nr_pages): 0 or -errno (memory errno, before dax_mem2blk_err).</summary>
    int ZeroPageRange(DaxDevice dev, ulong pgoff, ulong nrPages);

    /// <summary>-&gt;recovery_write (5.19+): bytes written; null when the driver has no such op.</summary>
    ulong? RecoveryWrite(DaxDevice dev, ulong pgoff, KernelPtr addr, ulong bytes, IovIter iter);
}

/// <summary>struct dax_holder_operations: the filesystem that owns a dax device (XFS registers one; ext4 does not).</summary>
public interface IDaxHolderOperations
{
    /// <summary>-&gt;notify_failure(dax_dev, offset, len, mf_flags): 0 or -errno.</summary>
    int NotifyFailure(DaxDevice dev, ulong offset, ulong len, MfFlags flags);
}
