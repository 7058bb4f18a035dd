using KernelSim.Block;
using KernelSim.Dax;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

// PmemDevice's dax_operations (drivers/nvdimm/pmem.c): __pmem_direct_access, zero_page_range, recovery_write.
public sealed partial class PmemDevice
{
    // ---- dax operations -------------------------------------------------------------------------------------

    /// <summary>
    /// pmem_dax_direct_access → __pmem_direct_access: kaddr/pfn always filled; with a bad sector in
    /// [pgoff·8, +nr_pages·8): -EHWPOISON (6.5+) / -EIO, or for DAX_RECOVERY_WRITE (5.19+) the pages up to and
    /// including the one holding the first bad sector (at least 1); else nr_pages when the device has any badblocks,
    /// or every page to the device end. A pgoff past the end gives 0 (→ -ERANGE in the core) instead of the kernel's
    /// unsigned wrap.
    /// </summary>
    public long DirectAccess(DaxDevice dev, ulong pgoff, long nrPages, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn)
    {
        if (_m.Tracer.Enabled) return DirectAccessTraced(dev, pgoff, nrPages, mode, out kaddr, out pfn);
        return DirectAccessBody(dev, pgoff, nrPages, mode, out kaddr, out pfn); // tracing off: no traced frame at all
    }

    // The traced frame out of line, so that the body is inlined once, into the untraced path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long DirectAccessTraced(DaxDevice dev, ulong pgoff, long nrPages, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn)
    {
        using var _ = _m.Tracer.Fn("__pmem_direct_access", "pmem");
        return DirectAccessBody(dev, pgoff, nrPages, mode, out kaddr, out pfn);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private long DirectAccessBody(DaxDevice dev, ulong pgoff, long nrPages, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn)
    {
        var offset = (pgoff << PageDefs.PAGE_SHIFT) + DataOffset;
        var sector = (long)((pgoff << PageDefs.PAGE_SHIFT) >> SectorShift);
        var num = unchecked((uint)(((ulong)nrPages << PageDefs.PAGE_SHIFT) >> SectorShift));
        kaddr = VirtAddr + offset;
        pfn = (PhysAddr + offset) >> PageDefs.PAGE_SHIFT;
        if (offset >= Size - PfnPad) return 0;
        if (Bb.Count != 0 && Bb.Check(sector, num, out var firstBad, out var badSectors) != 0)
        {
            if (mode != DaxAccessMode.DAX_RECOVERY_WRITE || !_m.Profile.DaxRecoveryWrite)
                return _m.Profile.PmemDirectAccessEhwpoison ? -Errno.EHWPOISON : -Errno.EIO;
            var actualNr = (long)(PageDefs.PageAlign((ulong)(firstBad - sector) << SectorShift) >> PageDefs.PAGE_SHIFT);
            return actualNr != 0 ? actualNr : 1;
        }
        if (Bb.Count != 0) return nrPages;
        return (long)((Size - PfnPad - offset) >> PageDefs.PAGE_SHIFT);
    }

    /// <summary>pmem_dax_zero_page_range: blk_status_to_errno(pmem_do_write(ZERO_PAGE, 0, pgoff·8, PAGE_SIZE)).</summary>
    public int ZeroPageRange(DaxDevice dev, ulong pgoff, ulong nrPages)
    {
        using var _ = _m.Tracer.Fn("pmem_dax_zero_page_range", "pmem");
        var sector = (long)((pgoff << PageDefs.PAGE_SHIFT) >> SectorShift);
        if (ToOffset(sector) + PageDefs.PAGE_SIZE > Size) return -Errno.EIO;
        return BlkErrors.BlkStatusToErrno(DoWrite(_zeroPagePfn, 0, sector, (uint)PageDefs.PAGE_SIZE));
    }

    /// <summary>
    /// pmem_recovery_write (5.19+): a clean range is a plain _copy_from_iter_flushcache; a bad range needs a
    /// page-aligned address and length (else 0), is cleared with __pmem_clear_poison (a partial or failed clear → 0),
    /// copied, and only then removed from the badblocks. Null before 5.19 (no such op).
    /// </summary>
    public ulong? RecoveryWrite(DaxDevice dev, ulong pgoff, KernelPtr addr, ulong bytes, IovIter iter)
    {
        if (!_m.Profile.DaxRecoveryWrite) return null;
        using var _ = _m.Tracer.Fn("pmem_recovery_write", "pmem");
        var off = PageDefs.OffsetInPage(addr.Value);
        var len = PageDefs.PageAlign(off + bytes);
        if (!IsBadPmem((long)((pgoff << PageDefs.PAGE_SHIFT) >> SectorShift), len))
            return _m.IovIter.CopyFromIterFlushcache(addr, bytes, iter);
        if (off != 0 || !PageDefs.IsPageAligned(bytes)) return 0; // dev_dbg "Found poison, but addr or bytes not page aligned"
        var pmemOff = (pgoff << PageDefs.PAGE_SHIFT) + DataOffset;
        var cleared = ClearPoisonRaw(pmemOff, len);
        if (cleared > 0 && (ulong)cleared < len) return 0;
        if (cleared < 0) return 0;
        var olen = _m.IovIter.CopyFromIterFlushcache(addr, bytes, iter);
        ClearBb(ToSect(pmemOff), cleared >> SectorShift);
        return olen;
    }
}
