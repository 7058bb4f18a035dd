using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// madvise_inject_error(MADV_SOFT_OFFLINE) (mm/madvise.c): CAP_SYS_ADMIN or −EPERM; per page get_user_pages_fast
    /// (a read fault; −EFAULT when the page cannot be faulted in), "Soft offlining pfn … at process virtual address …",
    /// then soft_offline_page(pfn, MF_COUNT_INCREASED); the first error is returned.
    /// </summary>
    private long MadviseSoftOffline(ulong start, ulong end)
    {
        if (!CapSysAdmin) return -Errno.EPERM;
        for (var a = start & PageDefs.PAGE_MASK; a < end; a += PageDefs.PAGE_SIZE)
        {
            if (Mm.PfnAt(a) == null && (Mm.HandleMmFault(a, write: false) & VmFault.VM_FAULT_ERROR) != 0) return -Errno.EFAULT;
            var pfn = Mm.PfnAt(a)!.Value;
            Machine.State.Printk($"Soft offlining pfn 0x{pfn:x} at process virtual address 0x{a:x}");
            var ret = Machine.MemoryFailure.SoftOfflinePage(pfn, MfFlags.MF_COUNT_INCREASED);
            if (ret != 0) return ret;
        }
        return 0;
    }
}
