using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// mmap(2) for anonymous memory (MAP_PRIVATE or MAP_SHARED) and shmem objects (<paramref name="shmem"/>,
    /// like a memfd). Checks follow sys_mmap → do_mmap → __get_unmapped_area in order. Returns the address
    /// or −errno.
    /// </summary>
    public long Mmap(ulong addr, ulong len, int prot, int flags, ShmemObject? shmem = null, long offset = 0) =>
        Machine.Syscall(this, "sys_mmap", () => DoMmap(addr, len, prot, flags, shmem, offset, null));

    /// <summary>
    /// mmap(2) of an open file (ksys_mmap_pgoff with an fd): −EBADF for a bad fd; the file's ->mmap sets the VMA's
    /// operations (−ENODEV when it has none). MAP_SHARED_VALIDATE accepts LEGACY_MAP_MASK and the file's
    /// mmap_supported_flags (MAP_SYNC on DAX files), other flags (MAP_FIXED_NOREPLACE included) → −EOPNOTSUPP;
    /// MAP_SHARED silently drops unknown flags, but calc_vm_flag_bits has already turned MAP_SYNC into VM_SYNC for
    /// every mapping type, so the file's ->mmap sees it (ext4/xfs refuse it without DAX; tmpfs and ramfs keep "sf";
    /// checked on Debian 6.1 and 6.12, MM14). The address comes from the file's get_unmapped_area (2 MiB-aligned for DAX).
    /// −EACCES for a file not open for reading, or a shared writable mapping of a file not open for writing.
    /// </summary>
    public long Mmap(ulong addr, ulong len, int prot, int flags, int fd, long offset) =>
        Machine.Syscall(this, "sys_mmap", () =>
        {
            if ((flags & Mman.MAP_ANONYMOUS) != 0) return DoMmap(addr, len, prot, flags, null, offset, null);
            var f = FileAt(fd);
            if (f == null) return -Errno.EBADF;
            return DoMmap(addr, len, prot, flags, null, offset, f);
        });

    private long DoMmap(ulong addr, ulong len, int prot, int flags, ShmemObject? shmem, long offset, KernelSim.Fs.KFile? file)
    {
        if ((offset & (long)(PageDefs.PAGE_SIZE - 1)) != 0) return -Errno.EINVAL;
        var anon = (flags & Mman.MAP_ANONYMOUS) != 0;
        if (!anon && shmem == null && file == null) return -Errno.EBADF;
        if (len == 0) return -Errno.EINVAL;
        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0) flags |= Mman.MAP_FIXED;
        if ((flags & Mman.MAP_FIXED) == 0 && addr != 0 && addr < MmStruct.MmapMinAddr) addr = MmStruct.MmapMinAddr;
        var plen = PageDefs.PageAlign(len);
        if (plen == 0) return -Errno.ENOMEM;
        var pgoff = anon ? 0UL : (ulong)offset >> PageDefs.PAGE_SHIFT;
        if (pgoff + (plen >> PageDefs.PAGE_SHIFT) < pgoff) return -Errno.EOVERFLOW;
        // __get_unmapped_area
        if (plen > PageDefs.TASK_SIZE_MAX) return -Errno.ENOMEM;
        var area = Mm.GetUnmappedArea(file, anon && (flags & Mman.MAP_TYPE) == Mman.MAP_SHARED, addr, plen, pgoff, flags);
        if (MmStruct.IsErrValue(area)) return area;
        var start = (ulong)area;
        if (start < MmStruct.MmapMinAddr && !CapSysAdmin) return -Errno.EPERM; // cap_mmap_addr
        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0 && Mm.Overlaps(start, start + plen)) return -Errno.EEXIST;
        var type = flags & Mman.MAP_TYPE;
        bool shared;
        if (anon)
        {
            if (type == Mman.MAP_SHARED) shared = true;
            else if (type == Mman.MAP_PRIVATE) shared = false;
            else return -Errno.EINVAL;
        }
        else
        {
            var supported = file?.MmapSupportedFlags ?? 0;
            if (type == Mman.MAP_SHARED_VALIDATE && (flags & ~(Mman.LEGACY_MAP_MASK | supported)) != 0)
                return -Errno.EOPNOTSUPP;
            if (file != null)
            {
                if ((file.Mode & KernelSim.Fs.KFile.FMODE_READ) == 0) return -Errno.EACCES;
                if (type != Mman.MAP_PRIVATE && (prot & Mman.PROT_WRITE) != 0 && (file.Mode & KernelSim.Fs.KFile.FMODE_WRITE) == 0)
                    return -Errno.EACCES;
            }
            if (type is Mman.MAP_SHARED or Mman.MAP_SHARED_VALIDATE) shared = true;
            else if (type == Mman.MAP_PRIVATE) shared = false;
            else return -Errno.EINVAL;
        }
        var so = anon && shared ? new ShmemObject($"dev/zero (deleted)", plen) : shmem;
        var vma = new Vma
        {
            Start = start,
            End = start + plen,
            Prot = prot & (Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC),
            Shared = shared,
            Shmem = file == null && (shared || !anon) ? so : null,
            PgOff = pgoff,
            File = file,
            VmSync = (flags & Mman.MAP_SYNC) != 0, // calc_vm_flag_bits, before the MAP_SHARED mask
            Account = !shared && (prot & Mman.PROT_WRITE) != 0, // accountable_mapping
        };
        if (file != null)
        {
            // call_mmap: the file sets vm_ops (and refuses what it cannot map).
            var mr = file.Mmap(vma);
            if (mr < 0) return mr;
        }
        if ((flags & Mman.MAP_FIXED) != 0) Mm.UnmapRange(start, start + plen);
        Mm.InsertVma(vma);
        if ((flags & Mman.MAP_POPULATE) != 0)
        {
            for (var va = start; va < start + plen; va += PageDefs.PAGE_SIZE)
                Mm.HandleMmFault(va, (prot & Mman.PROT_WRITE) != 0);
        }
        return (long)start;
    }

    /// <summary>munmap(2): −EINVAL for an unaligned start, zero length or a range beyond TASK_SIZE; unmapping holes is fine.</summary>
    public long Munmap(ulong addr, ulong len) => Machine.Syscall(this, "sys_munmap", () =>
    {
        if (!PageDefs.IsPageAligned(addr) || addr > PageDefs.TASK_SIZE_MAX || len > PageDefs.TASK_SIZE_MAX - addr) return -Errno.EINVAL;
        var end = addr + PageDefs.PageAlign(len);
        if (end == addr) return -Errno.EINVAL;
        Mm.UnmapRange(addr, end);
        return 0;
    });

    /// <summary>
    /// mprotect(2) (do_mprotect_pkey): −EINVAL for an unaligned start or unknown bits, 0 for zero length,
    /// −ENOMEM when the range has a hole (VMAs before the hole keep the new protection).
    /// </summary>
    public long Mprotect(ulong addr, ulong len, int prot) => Machine.Syscall(this, "sys_mprotect", () =>
    {
        if (!PageDefs.IsPageAligned(addr)) return -Errno.EINVAL;
        if (len == 0) return 0;
        var end = unchecked(addr + PageDefs.PageAlign(len));
        if (end <= addr) return -Errno.ENOMEM;
        if ((prot & ~(Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC | 0x8)) != 0) return -Errno.EINVAL;
        var vma = Mm.FindVma(addr);
        if (vma == null) return -Errno.ENOMEM;
        var a = addr;
        while (a < end)
        {
            var v = Mm.FindVma(a);
            if (v == null) return -Errno.ENOMEM;
            var to = Math.Min(end, v.End);
            Mm.ChangeProtection(a, to, prot & (Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC));
            a = to;
        }
        return 0;
    });

    /// <summary>
    /// madvise(2): checks in do_madvise order; MADV_HWPOISON (madvise_inject_error) needs CAP_SYS_ADMIN and
    /// calls memory_failure per page with the release's flags. MADV_DONTNEED drops private anonymous pages.
    /// </summary>
    public long Madvise(ulong addr, ulong len, int advice) => Machine.Syscall(this, "sys_madvise", () =>
    {
        if (advice is Mman.MADV_POPULATE_READ or Mman.MADV_POPULATE_WRITE) return MadvisePopulate(addr, len, advice);
        if (advice is not (Mman.MADV_NORMAL or Mman.MADV_DONTNEED or Mman.MADV_HWPOISON or Mman.MADV_SOFT_OFFLINE)) return -Errno.EINVAL;
        if (!PageDefs.IsPageAligned(addr)) return -Errno.EINVAL;
        var plen = PageDefs.PageAlign(len);
        if (len != 0 && plen == 0) return -Errno.EINVAL;
        if (addr + plen < addr) return -Errno.EINVAL;
        if (plen == 0) return 0;
        if (advice == Mman.MADV_HWPOISON) return MadviseInjectError(addr, addr + len);
        if (advice == Mman.MADV_SOFT_OFFLINE) return MadviseSoftOffline(addr, addr + len);
        var end = addr + plen;
        var result = 0L;
        for (var a = addr; a < end;)
        {
            var v = Mm.FindVma(a);
            if (v == null)
            {
                // madvise_walk_vmas: an unmapped gap sets -ENOMEM and skips to the next VMA (not page by page).
                result = -Errno.ENOMEM;
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
            var to = Math.Min(end, v.End);
            if (advice == Mman.MADV_DONTNEED && v.IsAnonymous) Mm.UnmapRange(a, to, keepVma: true);
            a = to;
        }
        return result;
    });

    private long MadviseInjectError(ulong start, ulong end)
    {
        if (!CapSysAdmin) return -Errno.EPERM;
        var flags = MfFlags.MF_COUNT_INCREASED;
        if (Machine.Profile.MadviseHwpoisonSwSimulated) flags |= MfFlags.MF_SW_SIMULATED;
        if (Machine.Profile.MadviseHwpoisonActionRequired) flags |= MfFlags.MF_ACTION_REQUIRED;
        for (var a = start; a < end; a += PageDefs.PAGE_SIZE)
        {
            // get_user_pages_fast(start, 1, 0): a read fault, no FOLL_HWPOISON.
            if (Mm.PfnAt(a) == null && (Mm.HandleMmFault(a, write: false) & VmFault.VM_FAULT_ERROR) != 0) return -Errno.EFAULT;
            var pfn = Mm.PfnAt(a)!.Value;
            Machine.State.Printk($"Injecting memory failure for pfn 0x{pfn:x} at process virtual address 0x{a & PageDefs.PAGE_MASK:x}");
            var ret = Machine.MemoryFailure.Run(pfn, flags);
            if (ret == -Errno.EOPNOTSUPP) ret = 0;
            if (ret != 0) return ret;
            a &= PageDefs.PAGE_MASK;
        }
        return 0;
    }

    /// <summary>prctl(PR_MCE_KILL / PR_MCE_KILL_GET, …) (kernel/sys.c); other options → −EINVAL.</summary>
    public long Prctl(int option, ulong arg2 = 0, ulong arg3 = 0, ulong arg4 = 0, ulong arg5 = 0) => Machine.Syscall(this, "sys_prctl", () =>
    {
        switch (option)
        {
            case Mman.PR_SET_NAME or Mman.PR_GET_NAME:
                return PrctlName(option, arg2);
            case Mman.PR_MCE_KILL:
                if ((arg4 | arg5) != 0) return -Errno.EINVAL;
                switch (arg2)
                {
                    case Mman.PR_MCE_KILL_CLEAR:
                        if (arg3 != 0) return -Errno.EINVAL;
                        PfMceProcess = false;
                        return 0;
                    case Mman.PR_MCE_KILL_SET:
                        PfMceProcess = true; // set before arg3 is validated, as the kernel does
                        if (arg3 == Mman.PR_MCE_KILL_EARLY) PfMceEarly = true;
                        else if (arg3 == Mman.PR_MCE_KILL_LATE) PfMceEarly = false;
                        else if (arg3 == Mman.PR_MCE_KILL_DEFAULT) PfMceEarly = PfMceProcess = false;
                        else return -Errno.EINVAL;
                        return 0;
                    default:
                        return -Errno.EINVAL;
                }
            case Mman.PR_MCE_KILL_GET:
                if ((arg2 | arg3 | arg4 | arg5) != 0) return -Errno.EINVAL;
                return PfMceProcess ? (PfMceEarly ? Mman.PR_MCE_KILL_EARLY : Mman.PR_MCE_KILL_LATE) : Mman.PR_MCE_KILL_DEFAULT;
            default:
                return -Errno.EINVAL;
        }
    });

    /// <summary>Convenience: an anonymous private read-write mapping of len bytes; the address (or throws if mmap failed).</summary>
    public UserPtr MapAnonymous(ulong len, int prot = Mman.PROT_READ | Mman.PROT_WRITE, bool shared = false)
    {
        var r = Mmap(0, len, prot, (shared ? Mman.MAP_SHARED : Mman.MAP_PRIVATE) | Mman.MAP_ANONYMOUS);
        if (r < 0) throw new InvalidOperationException($"mmap failed: {Errno.Describe(r)}");
        return new UserPtr((ulong)r);
    }
}
