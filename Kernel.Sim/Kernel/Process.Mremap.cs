using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// mremap(2) (mm/mremap.c, the checks in SYSCALL_DEFINE5(mremap) order): −EINVAL for unknown flags (MREMAP_DONTUNMAP
    /// before 5.7), MREMAP_FIXED or MREMAP_DONTUNMAP without MREMAP_MAYMOVE, MREMAP_DONTUNMAP with a different length, an
    /// unaligned address or a new length of 0 after PAGE_ALIGN; from 5.16, −EFAULT when no VMA contains the address
    /// (vma_lookup first; before, a shrink of an unmapped range succeeds). FIXED or DONTUNMAP go to mremap_to; otherwise a shrink unmaps the tail, a grow extends in place when the range after the
    /// VMA is free, else moves with MREMAP_MAYMOVE (to the file's get_unmapped_area: 2 MiB-aligned for DAX) or fails
    /// with −ENOMEM. vma_to_resize: the old range may not leave its VMA (−EFAULT); an old length of 0 duplicates a
    /// shared mapping and is −EINVAL on a private one. Returns the new address or −errno.
    /// </summary>
    public long Mremap(ulong addr, ulong oldLen, ulong newLen, int flags, ulong newAddr = 0) => Machine.Syscall(this, "sys_mremap", () =>
    {
        var known = Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE | (Machine.Profile.MremapDontunmap ? Mman.MREMAP_DONTUNMAP : 0);
        if ((flags & ~known) != 0) return -Errno.EINVAL;
        if ((flags & Mman.MREMAP_FIXED) != 0 && (flags & Mman.MREMAP_MAYMOVE) == 0) return -Errno.EINVAL;
        var dontUnmap = (flags & Mman.MREMAP_DONTUNMAP) != 0;
        if (dontUnmap && ((flags & Mman.MREMAP_MAYMOVE) == 0 || oldLen != newLen)) return -Errno.EINVAL;
        if (!PageDefs.IsPageAligned(addr)) return -Errno.EINVAL;
        oldLen = PageDefs.PageAlign(oldLen);
        newLen = PageDefs.PageAlign(newLen);
        if (newLen == 0) return -Errno.EINVAL;
        Vma? vma;
        if (Machine.Profile.MremapLooksUpVmaFirst && Mm.FindVma(addr) == null) return -Errno.EFAULT;
        if ((flags & (Mman.MREMAP_FIXED | Mman.MREMAP_DONTUNMAP)) != 0) return MremapTo(addr, oldLen, newAddr, newLen, flags);
        if (oldLen >= newLen)
        {
            if (oldLen > newLen) Mm.UnmapRange(addr + newLen, addr + oldLen);
            return (long)addr;
        }
        var r = VmaToResize(addr, oldLen, newLen, flags, out vma);
        if (r < 0) return r;
        if (oldLen == vma!.End - addr && Mm.TryExpandInPlace(vma, addr + newLen)) return (long)addr;
        if ((flags & Mman.MREMAP_MAYMOVE) == 0) return -Errno.ENOMEM;
        var pgoff = vma.PgOff + ((addr - vma.Start) >> PageDefs.PAGE_SHIFT);
        var area = Mm.GetUnmappedArea(vma.File as KFile, vma.Shared && vma.File == null, 0, newLen, pgoff, vma.Shared ? Mman.MAP_SHARED : 0);
        if (MmStruct.IsErrValue(area)) return area;
        return MoveVma(vma, addr, oldLen, newLen, (ulong)area, dontUnmap: false);
    });

    /// <summary>
    /// mremap_to: −EINVAL for an unaligned new address, a range beyond TASK_SIZE or one overlapping the old; MREMAP_FIXED
    /// unmaps the target first; a shrink drops the old tail; then vma_to_resize and the placement (the new address is a
    /// hint without MREMAP_FIXED, as for MREMAP_DONTUNMAP alone), and move_vma.
    /// </summary>
    private long MremapTo(ulong addr, ulong oldLen, ulong newAddr, ulong newLen, int flags)
    {
        if (!PageDefs.IsPageAligned(newAddr)) return -Errno.EINVAL;
        if (newLen > PageDefs.TASK_SIZE_MAX || newAddr > PageDefs.TASK_SIZE_MAX - newLen) return -Errno.EINVAL;
        if (addr + oldLen > newAddr && newAddr + newLen > addr) return -Errno.EINVAL;
        var fixedTarget = (flags & Mman.MREMAP_FIXED) != 0;
        if (fixedTarget) Mm.UnmapRange(newAddr, newAddr + newLen);
        if (oldLen > newLen)
        {
            Mm.UnmapRange(addr + newLen, addr + oldLen);
            oldLen = newLen;
        }
        var r = VmaToResize(addr, oldLen, newLen, flags, out var vma);
        if (r < 0) return r;
        var pgoff = vma!.PgOff + ((addr - vma.Start) >> PageDefs.PAGE_SHIFT);
        var mapFlags = (fixedTarget ? Mman.MAP_FIXED : 0) | (vma.Shared ? Mman.MAP_SHARED : 0);
        var area = Mm.GetUnmappedArea(vma.File as KFile, vma.Shared && vma.File == null, newAddr, newLen, pgoff, mapFlags);
        if (MmStruct.IsErrValue(area)) return area;
        if (!fixedTarget) newAddr = (ulong)area;
        return MoveVma(vma, addr, oldLen, newLen, newAddr, (flags & Mman.MREMAP_DONTUNMAP) != 0);
    }

    /// <summary>
    /// vma_to_resize: the VMA at addr (−EFAULT if none, or if the old range runs past it); an old length of 0 on a
    /// private mapping → −EINVAL; MREMAP_DONTUNMAP on anything but private anonymous memory → −EINVAL before 5.13;
    /// a pgoff overflow → −EINVAL.
    /// </summary>
    private long VmaToResize(ulong addr, ulong oldLen, ulong newLen, int flags, out Vma? vma)
    {
        vma = Mm.FindVma(addr);
        if (vma == null) return -Errno.EFAULT;
        if (oldLen == 0 && !vma.Shared) return -Errno.EINVAL;
        if ((flags & Mman.MREMAP_DONTUNMAP) != 0 && !Machine.Profile.MremapDontunmapAnyMapping && (!vma.IsAnonymous || vma.Shared)) return -Errno.EINVAL;
        if (oldLen > vma.End - addr) return -Errno.EFAULT;
        if (newLen == oldLen) return 0;
        var pgoff = vma.PgOff + ((addr - vma.Start) >> PageDefs.PAGE_SHIFT);
        if (pgoff + (newLen >> PageDefs.PAGE_SHIFT) < pgoff) return -Errno.EINVAL;
        return 0;
    }

    /// <summary>move_vma for [addr, addr + oldLen) to newAddr, grown to newLen (a grown tail is a fresh part of the same VMA).</summary>
    private long MoveVma(Vma vma, ulong addr, ulong oldLen, ulong newLen, ulong newAddr, bool dontUnmap)
    {
        if (oldLen == 0)
        {
            // A shared mapping duplicated: a new VMA over the same object, nothing moved.
            var dup = vma.CloneRange(addr, addr + PageDefs.PAGE_SIZE);
            dup.Start = newAddr;
            dup.End = newAddr + newLen;
            Mm.InsertVma(dup);
            return (long)newAddr;
        }
        Mm.MoveVma(vma, addr, oldLen, newAddr, dontUnmap);
        if (newLen > oldLen)
        {
            var moved = Mm.FindVma(newAddr)!;
            moved.End = newAddr + newLen;
        }
        return (long)newAddr;
    }
}
