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

    /// <summary>
    /// memfd_create(name, flags) with MFD_HUGETLB (mm/memfd.c → hugetlb_file_setup): the MFD_HUGETLB branch until the
    /// shared memfd_create (plain shmem) lands; the name is given as a string. −EINVAL for unknown flags, a missing
    /// MFD_HUGETLB, a huge-page size with MFD_HUGETLB unset or a name longer than 249 bytes; −ENODEV for a size other
    /// than the 2 MiB hstate (MFD_HUGE_2MB or 0). Returns the fd (O_RDWR, unlinked "memfd:name" on the internal
    /// hugetlbfs mount) or −errno.
    /// </summary>
    public long MemfdCreateHugetlb(string name, uint flags) => Machine.Syscall(this, "sys_memfd_create", () =>
    {
        const uint MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_HUGE_MASK = 0x3fu << 26;
        if ((flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_HUGE_MASK)) != 0) return -Errno.EINVAL;
        if ((flags & MFD_HUGETLB) == 0) return -Errno.EINVAL;
        if (name.Length > 249) return -Errno.EINVAL;
        var log = (flags & MFD_HUGE_MASK) >> 26;
        if (log != 0 && log != Hugetlb.HPAGE_SHIFT) return -Errno.ENODEV;
        var fd = GetUnusedFd();
        if (fd < 0) return fd;
        var file = HugetlbFs.Internal(Machine).FileSetup(name);
        while (_fds.Count <= fd) _fds.Add(null);
        _fds[fd] = file;
        return fd;
    });
}
