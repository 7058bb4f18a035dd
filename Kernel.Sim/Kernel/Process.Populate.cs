using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// madvise(MADV_POPULATE_READ / MADV_POPULATE_WRITE) (mm/madvise.c madvise_populate, 5.14+; −EINVAL before): the
    /// do_madvise checks (−EINVAL for an unaligned start or an overflowing range, 0 for an empty one), then each page is
    /// faulted in as get_user_pages with FOLL_TOUCH | FOLL_HWPOISON (| FOLL_WRITE) would: a VMA the access is not allowed
    /// on (check_vma_flags: no VM_READ, or no VM_WRITE for WRITE) → −EINVAL; a fault ending in VM_FAULT_HWPOISON →
    /// −EHWPOISON, VM_FAULT_SIGBUS / SIGSEGV → −EFAULT, VM_FAULT_OOM → −ENOMEM. An unmapped gap → −ENOMEM: from 6.9 at
    /// once (the pages before it stay populated); before, the VMA walk skips the gap, populates what follows and returns
    /// −ENOMEM at the end (<see cref="Profiles.KernelProfile.MadvisePopulateStopsAtGap"/>). WRITE breaks copy-on-write
    /// and marks the pages dirty; pages already mapped as asked are left as they are.
    /// </summary>
    private long MadvisePopulate(ulong addr, ulong len, int advice)
    {
        if (!Machine.Profile.MadvisePopulate) return -Errno.EINVAL;
        if (!PageDefs.IsPageAligned(addr)) return -Errno.EINVAL;
        var plen = PageDefs.PageAlign(len);
        if (len != 0 && plen == 0) return -Errno.EINVAL;
        var end = unchecked(addr + plen);
        if (end < addr) return -Errno.EINVAL;
        if (plen == 0) return 0;
        var write = advice == Mman.MADV_POPULATE_WRITE;
        using var trace = Machine.Tracer.Fn("madvise_populate", "mm");
        var unmapped = 0L;
        for (var a = addr; a < end;)
        {
            var v = Mm.FindVma(a);
            if (v == null)
            {
                if (Machine.Profile.MadvisePopulateStopsAtGap) return -Errno.ENOMEM;
                unmapped = -Errno.ENOMEM;
                var next = end;
                foreach (var n in Mm.Vmas)
                {
                    if (n.Start <= a) continue;
                    next = Math.Min(next, n.Start);
                    break;
                }
                a = next;
                continue;
            }
            // check_vma_flags: permission problems are reported as -EINVAL.
            if ((v.Prot & (write ? Mman.PROT_WRITE : Mman.PROT_READ)) == 0) return -Errno.EINVAL;
            var to = Math.Min(end, v.End);
            for (; a < to; a += PageDefs.PAGE_SIZE)
            {
                if (Mm.TryTranslate(a, write, out _)) continue; // follow_page_mask found it
                var r = Mm.HandleMmFault(a, write);
                if ((r & (VmFault.VM_FAULT_HWPOISON | VmFault.VM_FAULT_HWPOISON_LARGE)) != 0) return -Errno.EHWPOISON;
                if ((r & (VmFault.VM_FAULT_SIGBUS | VmFault.VM_FAULT_SIGSEGV | VmFault.VM_FAULT_BADMAP | VmFault.VM_FAULT_BADACCESS)) != 0) return -Errno.EFAULT;
                if ((r & VmFault.VM_FAULT_OOM) != 0) return -Errno.ENOMEM;
                Mm.TryTranslate(a, write, out _); // FOLL_TOUCH: mark the page dirty for a write
            }
        }
        return unmapped;
    }
}
