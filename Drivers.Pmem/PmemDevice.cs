using KernelSim.Arch.X86;
using KernelSim.Block;
using KernelSim.Dax;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// struct pmem_device and drivers/nvdimm/pmem.c: the bio path (pmem_submit_bio, pmem_do_read / read_pmem,
/// pmem_do_write in the ≤5.18 write-clear-write order or the 5.19+ clear-first order, pmem_clear_poison), the dax
/// operations (__pmem_direct_access, zero_page_range, recovery_write) and the fsdax dev_pagemap
/// (memory_failure_dev_pagemap with the 5.19+ -&gt;memory_failure hook and the mf_generic_kill_procs fallback).
/// </summary>
public sealed partial class PmemDevice : IBlockDeviceOps, IDaxOperations, IDevPagemap
{
    private const int SectorShift = BlockDevice.SECTOR_SHIFT;
    private readonly Machine _m;
    private readonly ulong _zeroPagePfn;
    // The machine's services the bio path uses, held directly (each read through _m is one more dependent load).
    private readonly Trace.Tracer _trace;
    private readonly ICopyRoutines _copy;
    private readonly CopyRoutines? _x86Copy; // _copy when it is the machine's own (sealed) routines: a direct call per bvec
    private readonly PhysicalMemory _phys;
    private readonly bool _ownMedia; // the machine's media is its own memory (fixed when the machine is built)

    internal PmemDevice(Machine machine, NdRegion region, string nsName, string diskName, ulong physAddr, ulong size,
        NamespaceMode mode, ulong dataOffset, uint sectorSize, ulong zeroPagePfn, ulong pfnPad = 0)
    {
        PfnPad = pfnPad;
        _m = machine;
        _trace = machine.Tracer;
        _copy = machine.Copy;
        _x86Copy = machine.Copy as CopyRoutines;
        _phys = machine.Phys;
        _ownMedia = ReferenceEquals(machine.Media, machine.Phys);
        Region = region;
        NamespaceName = nsName;
        PhysAddr = physAddr;
        Size = size;
        Mode = mode;
        DataOffset = dataOffset;
        _zeroPagePfn = zeroPagePfn;
        var legacy = region.Bus.Platform == NvdimmPlatform.E820;
        var hasPages = mode == NamespaceMode.Fsdax || legacy; // pmem_should_map_pages: only ND_REGION_PAGEMAP (e820) raw namespaces

        Range = region.MapRange(physAddr, size, nsName);
        if (hasPages)
        {
            // devm_memremap_pages: ZONE_DEVICE pages in the linear map.
            Range.DirectMapped = true;
            Range.Pagemap = this;
            VirtAddr = KernelPtr.FromPhys(new PhysAddr(physAddr));
        }
        else
        {
            // devm_memremap(MEMREMAP_WB) of a range without struct pages: a vmalloc-space mapping.
            Range.DirectMapped = false;
            VirtAddr = machine.KernelMap.Ioremap(new PhysAddr(physAddr), size, nsName);
        }

        Disk = new BlockDevice(machine, diskName, (long)((size - PfnPad - dataOffset) >> SectorShift), this, sectorSize, (uint)PageDefs.PAGE_SIZE)
        {
            Features = BlkFeatures.BLK_FEAT_WRITE_CACHE | BlkFeatures.BLK_FEAT_SYNCHRONOUS | (hasPages ? BlkFeatures.BLK_FEAT_DAX : BlkFeatures.None),
            Badblocks = Bb,
            PrivateData = this,
        };
        if (hasPages)
        {
            var flags = DaxDevFlags.DAXDEV_ALIVE | DaxDevFlags.DAXDEV_SYNC | DaxDevFlags.DAXDEV_NOCACHE;
            if (machine.Profile.DaxReadMcSafe) flags |= DaxDevFlags.DAXDEV_NOMC;
            DaxDev = new DaxDevice(diskName, this, machine.IovIter, machine.Profile, machine.Tracer) { Flags = flags };
            Disk.Dax = DaxDev;
        }
        // pmem_attach_disk: devm_init_badblocks + nvdimm_badblocks_populate over [phys + data_offset, end].
        Bb.Notify += () => BadblocksNotifications++;
        region.Bus.Badrange.Populate(Bb, BbRangeStart, physAddr + size - 1);
    }

    /// <summary>The region.</summary>
    public NdRegion Region { get; }

    /// <summary>The namespace device (ndns).</summary>
    public NdNamespace? Namespace { get; internal init; }

    /// <summary>The pfn device the disk was attached through (fsdax), or null for a raw namespace.</summary>
    public NdClaim? Claim { get; internal init; }

    /// <summary>"namespace0.0".</summary>
    public string NamespaceName { get; }

    /// <summary>pmem-&gt;phys_addr: the namespace base.</summary>
    public ulong PhysAddr { get; }

    /// <summary>pmem-&gt;size: the namespace size.</summary>
    public ulong Size { get; }

    /// <summary>pmem-&gt;pfn_pad: start_pad + end_trunc of the info block (0 for raw).</summary>
    public ulong PfnPad { get; }

    /// <summary>raw or fsdax.</summary>
    public NamespaceMode Mode { get; }

    /// <summary>pmem-&gt;data_offset: info block + memmap reserve for fsdax, 0 for raw.</summary>
    public ulong DataOffset { get; }

    /// <summary>pmem-&gt;virt_addr: the direct map (fsdax) or an ioremap window (raw).</summary>
    public KernelPtr VirtAddr { get; }

    /// <summary>The registered physical range (MemoryKind.Pmem).</summary>
    public PhysRange Range { get; }

    /// <summary>pmem-&gt;bb: the disk's badblocks (sectors relative to the data area).</summary>
    public Badblocks Bb { get; } = new();

    /// <summary>The gendisk /dev/pmemN.</summary>
    public BlockDevice Disk { get; }

    /// <summary>The dax_device (null for a raw namespace without struct pages).</summary>
    public DaxDevice? DaxDev { get; }

    /// <summary>sysfs_notify_dirent calls on the badblocks node.</summary>
    public int BadblocksNotifications { get; private set; }

    /// <summary>nvdimm_flush calls (REQ_PREFLUSH / REQ_FUA).</summary>
    public int Flushes { get; private set; }

    /// <summary>First physical byte of the data area (bb_range.start).</summary>
    public ulong BbRangeStart => PhysAddr + DataOffset;

    /// <summary>to_offset(pmem, sector): sector·512 + data_offset.</summary>
    public ulong ToOffset(long sector) => ((ulong)sector << SectorShift) + DataOffset;

    /// <summary>to_sect(pmem, offset): (offset − data_offset) / 512.</summary>
    public long ToSect(ulong offset) => (long)((offset - DataOffset) >> SectorShift);

    /// <summary>The physical address of a data-area byte offset (what ndctl's --block maps to).</summary>
    public ulong DataPhys(ulong dataOffset) => PhysAddr + DataOffset + dataOffset;

    /// <summary>is_bad_pmem (drivers/nvdimm/nd.h): false for an empty table, else badblocks_check over len/512 sectors.</summary>
    public bool IsBadPmem(long sector, ulong len)
    {
        if (Bb.Count == 0) return false;
        return Bb.Check(sector, (long)(len >> SectorShift)) != 0;
    }

    // ---- bio path -------------------------------------------------------------------------------------------

    /// <summary>
    /// pmem_submit_bio (pmem_make_request before 5.9): nvdimm_flush for REQ_PREFLUSH; each single-page segment goes to
    /// pmem_do_write / pmem_do_read; the first failing segment sets bi_status and stops the walk (earlier segments
    /// already moved data); nvdimm_flush for REQ_FUA; bio_endio. A clean multi-page bvec moves as one run (see
    /// <see cref="MovesWholeRuns"/>): the same bytes, status and faults as the page-by-page walk.
    /// </summary>
    public void SubmitBio(Bio bio)
    {
        if (_trace.Enabled) SubmitBioTraced(bio);
        else SubmitBioBody(bio); // tracing off: no traced frame at all
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void SubmitBioTraced(Bio bio)
    {
        using var _ = _trace.Fn("pmem_submit_bio", "pmem");
        SubmitBioBody(bio);
    }

    // Inlined into SubmitBio, the interface method (one frame less per bio).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void SubmitBioBody(Bio bio)
    {
        if ((bio.Flags & BioFlags.REQ_PREFLUSH) != 0) NvdimmFlush();
        var sector = bio.Sector;
        var write = bio.IsWrite;
        var runs = MovesWholeRuns();
        foreach (var bv in bio.IoVec)
        {
            // bio_for_each_segment: single-page segments of a multi-page bvec.
            var pfn = bv.Pfn + bv.Offset / PageDefs.PAGE_SIZE;
            var off = bv.Offset % (uint)PageDefs.PAGE_SIZE;
            var left = bv.Len;
            if (runs && ((off | left) & (BlockDevice.SECTOR_SIZE - 1)) == 0 && !IsBadPmem(sector, left))
            {
                var rc = write ? WriteRun(pfn, off, sector, left) : ReadRun(pfn, off, sector, left);
                if (rc != BlkStatus.BLK_STS_OK)
                {
                    bio.Status = rc;
                    break;
                }
                sector += left >> SectorShift;
                continue;
            }
            var failed = false;
            while (left > 0)
            {
                var len = Math.Min(left, (uint)PageDefs.PAGE_SIZE - off);
                var rc = write ? DoWrite(pfn, off, sector, len) : DoRead(pfn, off, sector, len);
                if (rc != BlkStatus.BLK_STS_OK)
                {
                    bio.Status = rc;
                    failed = true;
                    break;
                }
                sector += len >> SectorShift;
                left -= len;
                off = 0;
                pfn++;
            }
            if (failed) break;
        }
        if ((bio.Flags & BioFlags.REQ_FUA) != 0) NvdimmFlush();
        bio.Endio();
    }

    /// <summary>
    /// Whether a bvec (physically contiguous pages: bio_add_page merges only those) whose sectors are not bad may move
    /// with one copy instead of one per page: only when no load can take a machine check (sound media holding no
    /// poison), so the only possible trap is a #PF, which every copy routine reports at the same byte whether the
    /// copy is split at page boundaries or not; and only with tracing off, so traces still show each
    /// pmem_do_read / pmem_do_write.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool MovesWholeRuns() =>
        !_trace.Enabled && _ownMedia && _phys.PoisonedFrameCount == 0;

    /// <summary>The pmem_do_read calls of a clean bvec's segments as one read_pmem copy (is_bad_pmem was checked for all of it).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private BlkStatus ReadRun(ulong pfn, uint off, long sector, uint len) =>
        (_x86Copy is { } x86 ? x86.CopyMcToKernel(Kmap(pfn, off), VirtAddr + ToOffset(sector), len)
            : _copy.CopyMcToKernel(Kmap(pfn, off), VirtAddr + ToOffset(sector), len)) == 0 ? BlkStatus.BLK_STS_OK : BlkStatus.BLK_STS_IOERR;

    /// <summary>The pmem_do_write calls of a clean bvec's segments as one write_pmem copy (no bad sector: nothing to clear).</summary>
    private BlkStatus WriteRun(ulong pfn, uint off, long sector, uint len)
    {
        _copy.MemcpyFlushcache(VirtAddr + ToOffset(sector), Kmap(pfn, off), len);
        return BlkStatus.BLK_STS_OK;
    }

    /// <summary>nvdimm_flush → generic_nvdimm_flush: a write barrier (no flush hints); always 0.</summary>
    private int NvdimmFlush()
    {
        Flushes++;
        return 0;
    }

    private static KernelPtr Kmap(ulong pfn, uint off) => KernelPtr.FromPhys(Mm.PhysAddr.FromPfn(pfn)) + (ulong)off;

    /// <summary>
    /// pmem_do_read: BLK_STS_IOERR without touching the media when is_bad_pmem; else read_pmem — page-sized chunks
    /// through copy_mc_to_kernel (memcpy_mcsafe before 5.10), any remainder → BLK_STS_IOERR.
    /// </summary>
    internal BlkStatus DoRead(ulong pfn, uint pageOff, long sector, uint len)
    {
        using var _ = _m.Tracer.Fn("pmem_do_read", "pmem");
        if (IsBadPmem(sector, len)) return BlkStatus.BLK_STS_IOERR;
        var pmemAddr = VirtAddr + ToOffset(sector);
        // read_pmem
        using var __ = _m.Tracer.Fn("read_pmem", "pmem");
        var off = pageOff;
        while (len > 0)
        {
            var chunk = Math.Min(len, (uint)PageDefs.PAGE_SIZE - off);
            var rem = _m.Copy.CopyMcToKernel(Kmap(pfn, off), pmemAddr, chunk);
            if (rem != 0) return BlkStatus.BLK_STS_IOERR;
            len -= chunk;
            off = 0;
            pfn++;
            pmemAddr += (ulong)chunk;
        }
        return BlkStatus.BLK_STS_OK;
    }

    /// <summary>write_pmem: memcpy_flushcache page by page (stores never consume poison).</summary>
    private void WritePmem(KernelPtr pmemAddr, ulong pfn, uint off, uint len)
    {
        using var _ = _m.Tracer.Fn("write_pmem", "pmem");
        while (len > 0)
        {
            var chunk = Math.Min(len, (uint)PageDefs.PAGE_SIZE - off);
            _m.Copy.MemcpyFlushcache(pmemAddr, Kmap(pfn, off), chunk);
            len -= chunk;
            off = 0;
            pfn++;
            pmemAddr += (ulong)chunk;
        }
    }

    /// <summary>
    /// pmem_do_write. 5.19+ (<see cref="Profiles.KernelProfile.DaxRecoveryWrite"/>): a bad range is cleared first and
    /// a failed clear returns BLK_STS_IOERR without writing. 4.10–5.18: write, then (if the range was bad) clear and
    /// write again, returning the clear's status — the data is on the media even when the result is BLK_STS_IOERR.
    /// </summary>
    internal BlkStatus DoWrite(ulong pfn, uint pageOff, long sector, uint len)
    {
        using var _ = _m.Tracer.Fn("pmem_do_write", "pmem");
        var pmemOff = ToOffset(sector);
        var pmemAddr = VirtAddr + pmemOff;
        if (_m.Profile.DaxRecoveryWrite)
        {
            if (IsBadPmem(sector, len))
            {
                var rc = ClearPoison(pmemOff, len);
                if (rc != BlkStatus.BLK_STS_OK) return rc;
            }
            WritePmem(pmemAddr, pfn, pageOff, len);
            return BlkStatus.BLK_STS_OK;
        }
        var status = BlkStatus.BLK_STS_OK;
        var bad = IsBadPmem(sector, len);
        WritePmem(pmemAddr, pfn, pageOff, len);
        if (bad)
        {
            status = ClearPoison(pmemOff, len);
            WritePmem(pmemAddr, pfn, pageOff, len);
        }
        return status;
    }

    /// <summary>
    /// __pmem_clear_poison (5.19+; the body of pmem_clear_poison before): nvdimm_clear_poison on the physical range,
    /// then for a positive result reset PG_hwpoison (and clear_mce_nospec) on the PHYS_PFN(cleared) pages from the
    /// start — whole pages only, linear-map pmem only. Returns the bytes cleared or -errno.
    /// </summary>
    internal long ClearPoisonRaw(ulong offset, ulong len)
    {
        var phys = PhysAddr + offset;
        var cleared = Region.Bus.ClearPoison(phys, len);
        if (cleared > 0) MkpagePresent(phys, (ulong)cleared);
        return cleared;
    }

    /// <summary>pmem_mkpage_present / hwpoison_clear: pfns [PHYS_PFN(phys), +PHYS_PFN(len)).</summary>
    private void MkpagePresent(ulong phys, ulong len)
    {
        if (!Range.DirectMapped) return; // is_vmalloc_addr(virt_addr)
        var pfnStart = phys >> PageDefs.PAGE_SHIFT;
        var pfnEnd = pfnStart + (len >> PageDefs.PAGE_SHIFT);
        for (var pfn = pfnStart; pfn < pfnEnd; pfn++)
        {
            var page = _m.Phys.Peek(pfn);
            if (page == null || !page.TestClearHWPoison()) continue; // test_and_clear_pmem_poison
            _m.KernelMap.ClearMceNospec(pfn);
        }
    }

    /// <summary>
    /// pmem_clear_poison: -errno from the bus → BLK_STS_IOERR; otherwise clear cleared/512 sectors from to_sect(offset)
    /// in the badblocks (pmem_clear_bb, with the sysfs notification) and return BLK_STS_IOERR when fewer than len
    /// bytes were cleared.
    /// </summary>
    internal BlkStatus ClearPoison(ulong offset, ulong len)
    {
        using var _ = _m.Tracer.Fn("pmem_clear_poison", "pmem");
        var cleared = ClearPoisonRaw(offset, len);
        if (cleared < 0) return BlkStatus.BLK_STS_IOERR;
        ClearBb(ToSect(offset), cleared >> SectorShift);
        return (ulong)cleared < len ? BlkStatus.BLK_STS_IOERR : BlkStatus.BLK_STS_OK;
    }

    /// <summary>pmem_clear_bb: badblocks_clear + sysfs_notify_dirent when blks ≠ 0.</summary>
    private void ClearBb(long sector, long blks)
    {
        if (blks == 0) return;
        Bb.Clear(sector, blks);
    }

    // ---- memory failure -------------------------------------------------------------------------------------

    /// <summary>
    /// memory_failure_dev_pagemap (mm/memory-failure.c) for this pagemap: a pfn in the info block / memmap reserve →
    /// -ENXIO; 5.19+ the pagemap's -&gt;memory_failure (pmem_pagemap_memory_failure → dax_holder_notify_failure), whose
    /// result is final unless -EOPNOTSUPP; else mf_generic_kill_procs. Logged as "dax page" Recovered / Failed.
    /// </summary>
    public int MemoryFailure(ulong pfn, MfFlags flags)
    {
        using var _ = _m.Tracer.Fn("memory_failure_dev_pagemap", "mm");
        int rc;
        if ((pfn << PageDefs.PAGE_SHIFT) < BbRangeStart || (pfn << PageDefs.PAGE_SHIFT) >= PhysAddr + Size)
        {
            rc = -Errno.ENXIO;
        }
        else
        {
            rc = -Errno.EOPNOTSUPP;
            if (_m.Profile.DaxRecoveryWrite && DaxDev != null) rc = PagemapMemoryFailure(pfn, 1, flags);
            if (rc == -Errno.EOPNOTSUPP) rc = _m.MemoryFailure.MfGenericKillProcs(pfn, flags);
        }
        if (rc != -Errno.EOPNOTSUPP)
            _m.State.Printk($"Memory failure: 0x{pfn:x}: recovery action for dax page: {(rc != 0 ? "Failed" : "Recovered")}");
        return rc;
    }

    /// <summary>pmem_pagemap_memory_failure (5.19+): dax_holder_notify_failure(dax_dev, PFN_PHYS(pfn) − phys_addr − data_offset, nr·4096, flags).</summary>
    private int PagemapMemoryFailure(ulong pfn, ulong nrPages, MfFlags flags)
    {
        var offset = (pfn << PageDefs.PAGE_SHIFT) - PhysAddr - DataOffset;
        return DaxDev!.HolderNotifyFailure(offset, nrPages << PageDefs.PAGE_SHIFT, flags);
    }

    // ---- badblocks population --------------------------------------------------------------------------------

    /// <summary>
    /// pmem_revalidate_poison (NVDIMM_REVALIDATE_POISON; inline in nd_pmem_notify before 5.x): nvdimm_badblocks_populate
    /// over the data area again (add-only) and notify the sysfs node.
    /// </summary>
    public void RevalidatePoison()
    {
        using var _ = _m.Tracer.Fn("pmem_revalidate_poison", "pmem");
        Region.Bus.Badrange.Populate(Bb, BbRangeStart, PhysAddr + Size - 1);
    }

    /// <summary>
    /// The teardown of pmem_attach_disk's devm actions when the driver is unbound (pmem_release_disk, kill_dax,
    /// devm_memunmap_pages): the disk and its /dev node go, the dax device dies, the range returns to the region.
    /// </summary>
    internal void Detach(Genhd genhd)
    {
        genhd.DelGendisk(Disk);
        DaxDev?.Kill();
        Region._namespaces.Remove(this);
        Region.UnmapRange(Range);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{NamespaceName} ({Mode}) {Disk.Name} phys=0x{PhysAddr:x} size={Size} data_offset={DataOffset}";
}
