using KernelSim.Fs;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Mm;

public sealed partial class MmStruct
{
    /// <summary>
    /// mm-&gt;get_unmapped_area (arch_get_unmapped_area_topdown with address randomisation off): MAP_FIXED → the address;
    /// a hint, rounded up to a page, that leaves room for <paramref name="len"/> → the hint; else the highest free range
    /// below <see cref="MmapBase"/>. −ENOMEM when nothing fits.
    /// </summary>
    public long MmGetUnmappedArea(ulong addr, ulong len, int flags)
    {
        if (len > PageDefs.TASK_SIZE_MAX - MmapMinAddr) return -Errno.ENOMEM;
        if ((flags & Mman.MAP_FIXED) != 0) return (long)addr;
        if (addr != 0)
        {
            addr = PageDefs.PageAlign(addr);
            if (addr != 0 && PageDefs.TASK_SIZE_MAX - len >= addr && addr >= MmapMinAddr && !Overlaps(addr, addr + len)) return (long)addr;
        }
        var a = GetUnmappedArea(len);
        return a == 0 ? -Errno.ENOMEM : (long)a;
    }

    /// <summary>
    /// __get_unmapped_area (mm/mmap.c) for mmap and mremap: −ENOMEM for a length beyond TASK_SIZE; a file's
    /// f_op-&gt;get_unmapped_area (<see cref="KFile.GetUnmappedArea"/>) when it has one; private anonymous memory through
    /// thp_get_unmapped_area where the release aligns it (<see cref="KernelProfile.AnonThpAlign"/> and the two rules after it); otherwise
    /// <see cref="MmGetUnmappedArea"/>. Shared anonymous memory uses the plain allocator (shmem_get_unmapped_area aligns
    /// only when shmem THP is enabled, which is not modelled). The address or −errno.
    /// </summary>
    internal long GetUnmappedArea(KFile? file, bool anonShared, ulong addr, ulong len, ulong pgoff, int flags)
    {
        if (len > PageDefs.TASK_SIZE_MAX) return -Errno.ENOMEM;
        long r;
        if (file != null)
        {
            var f = file.GetUnmappedArea(this, addr, len, pgoff, flags);
            r = f is not { } v ? MmGetUnmappedArea(addr, len, flags) : v == 0 ? -Errno.ENOMEM : (long)v;
        }
        else if (!anonShared && AnonAligns(addr, len))
        {
            r = ThpGetUnmappedArea(true, addr, len, 0, flags);
        }
        else
        {
            r = MmGetUnmappedArea(addr, len, flags);
        }
        if (IsErrValue(r)) return r;
        if ((ulong)r > PageDefs.TASK_SIZE_MAX - len) return -Errno.ENOMEM;
        if (!PageDefs.IsPageAligned((ulong)r)) return -Errno.EINVAL;
        return r;
    }

    private bool AnonAligns(ulong addr, ulong len)
    {
        if (Host?.Profile is not { AnonThpAlign: true } p) return false;
        if (p.AnonThpAlignPmdMultipleOnly && (len & (PageDefs.PMD_SIZE - 1)) != 0) return false;
        return !(p.AnonThpAlignNotWithHint && addr != 0);
    }

    /// <summary>IS_ERR_VALUE: the top 4095 values of an unsigned long are errnos; anything else is an address.</summary>
    internal static bool IsErrValue(long r) => r < 0 && r >= -4095;

    /// <summary>
    /// thp_get_unmapped_area (mm/huge_memory.c), the get_unmapped_area of ext4 and XFS files (and, from 6.7, of large
    /// anonymous mappings): ask the allocator for len + 2 MiB and return the address inside it whose offset from the
    /// file offset is a multiple of 2 MiB, so PMD faults can map the file. Skipped (plain allocator) when the range
    /// cannot hold one aligned 2 MiB extent, when the padded search fails, up to 5.17 when the inode is not DAX
    /// (<paramref name="isDax"/>; 1854bc6e2420 then aligned any file), and up to 5.3 when a hint is given; from 5.4 a
    /// hint is tried with the padded length and returned when it succeeds (97d3d0f9a1cf); from 6.8 a top-down result
    /// that is already aligned moves up by 2 MiB (96204e153543). The address or −errno.
    /// </summary>
    public long ThpGetUnmappedArea(bool isDax, ulong addr, ulong len, ulong pgoff, int flags)
    {
        var profile = Host?.Profile ?? KernelProfile.Default;
        var plain = () => MmGetUnmappedArea(addr, len, flags);
        if (!profile.ThpGetUnmappedAreaAnyFile && !isDax) return plain();
        if (!profile.ThpGetUnmappedAreaTriesHint && addr != 0) return plain();
        const ulong size = PageDefs.PMD_SIZE;
        var off = pgoff << PageDefs.PAGE_SHIFT;
        var offEnd = off + len;
        var offAlign = (off + size - 1) & ~(size - 1);
        if (offEnd <= offAlign || offEnd - offAlign < size) return plain();
        var lenPad = len + size;
        if (lenPad < len || off + lenPad < off) return plain();
        var ret = MmGetUnmappedArea(profile.ThpGetUnmappedAreaTriesHint ? addr : 0, lenPad, flags);
        if (IsErrValue(ret)) return plain(); // the padding may be what failed: retry without it
        if (profile.ThpGetUnmappedAreaTriesHint && (ulong)ret == addr) return ret;
        var offSub = (off - (ulong)ret) & (size - 1);
        if (profile.ThpGetUnmappedAreaTopdownPad && offSub == 0) return ret + (long)size;
        return ret + (long)offSub;
    }
}
