using KernelSim.Dax;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>The page faults of <see cref="FsDax"/> (fs/dax.c): dax_iomap_fault, its PTE and PMD paths, the huge zero page and dax_fault_cow_page.</summary>
public sealed partial class FsDax
{
    // ---- faults ----------------------------------------------------------------------------------------------

    /// <summary>vmf_error / dax_fault_return: −ENOMEM → OOM, −EHWPOISON → HWPOISON (6.5+), anything else → SIGBUS.</summary>
    private VmFault DaxFaultReturn(long err)
    {
        if (err == 0) return VmFault.VM_FAULT_NOPAGE;
        if (err == -Errno.ENOMEM) return VmFault.VM_FAULT_OOM;
        if (err == -Errno.EHWPOISON && _profile.PmemDirectAccessEhwpoison) return VmFault.VM_FAULT_HWPOISON;
        return VmFault.VM_FAULT_SIGBUS;
    }

    /// <summary>
    /// The -&gt;huge_fault / -&gt;fault pair of a DAX file mapping as __handle_mm_fault drives them: with no page table
    /// in the 2 MiB range (pmd_none, create_huge_pmd) or a huge mapping there being written (wp_huge_pmd), the PMD fault
    /// runs first; on VM_FAULT_FALLBACK the huge mapping is split — for a file VMA, cleared — and the PTE fault runs.
    /// With 4 KiB entries in the range the PTE fault runs directly (no dax_pmd_fault event). On success returns
    /// <see cref="VmFault.VM_FAULT_NOPAGE"/> with the pfn to map and the mapping shift (12 or 21).
    /// </summary>
    public VmFault DaxIomapFault(MmStruct mm, Vma vma, ulong address, bool write, IIomapOps ops, out ulong pfn, out int shift)
    {
        var pmdAddr = address & ~(PageDefs.PMD_SIZE - 1);
        var (count, allHuge) = mm.EntriesIn(pmdAddr, pmdAddr + PageDefs.PMD_SIZE);
        if (allHuge)
        {
            var r = DaxIomapPmdFault(mm, vma, address, write, ops, out pfn);
            if (r != VmFault.VM_FAULT_FALLBACK)
            {
                shift = PageDefs.PMD_SHIFT;
                return r;
            }
            if (count > 0) mm.ZapRange(pmdAddr, pmdAddr + PageDefs.PMD_SIZE); // split_huge_pmd of a file VMA
        }
        shift = PageDefs.PAGE_SHIFT;
        return DaxIomapPteFault(vma, address, write, ops, out pfn);
    }

    private static Inode InodeOf(Vma vma) => ((KFile)vma.File!).Inode;

    /// <summary>
    /// dax_iomap_pte_fault (fs/dax.c): pos ≥ i_size → SIGBUS; a private write copies the page (copy-on-write:
    /// zeroed for holes, copy_cow_page_dax otherwise, whose direct-access error goes through dax_mem2blk_err);
    /// a read of a hole or unwritten extent maps the zero page (dax_load_hole); otherwise dax_iomap_direct_access for
    /// the page — an error becomes dax_fault_return(err): VM_FAULT_HWPOISON for −EHWPOISON (6.5+), VM_FAULT_SIGBUS
    /// for −EIO (≤6.4). MAP_SYNC write faults on dirty metadata fsync first (dax_finish_sync_fault; an error →
    /// SIGBUS). Traced as dax_pte_fault and dax_pte_fault_done.
    /// </summary>
    public VmFault DaxIomapPteFault(Vma vma, ulong address, bool write, IIomapOps ops, out ulong pfn)
    {
        using var fn = _trace.Fn("dax_iomap_pte_fault", "fs");
        pfn = 0;
        var inode = InodeOf(vma);
        var pgoff = vma.PgOff + ((address - vma.Start) >> PageDefs.PAGE_SHIFT);
        TracePteFault("dax_pte_fault", inode, vma, address, write, pgoff, VmFault.None);
        var ret = PteFaultBody(vma, inode, address, pgoff, write, ops, out pfn);
        TracePteFault("dax_pte_fault_done", inode, vma, address, write, pgoff, ret);
        return ret;
    }

    private VmFault PteFaultBody(Vma vma, Inode inode, ulong address, ulong pgoff, bool write, IIomapOps ops, out ulong pfn)
    {
        pfn = 0;
        var pos = (long)(pgoff << PageDefs.PAGE_SHIFT);
        if (pos >= inode.Size) return VmFault.VM_FAULT_SIGBUS;
        var cow = write && !vma.Shared;
        var flags = IomapOpFlags.IOMAP_DAX | IomapOpFlags.IOMAP_FAULT;
        if (write && !cow) flags |= IomapOpFlags.IOMAP_WRITE;
        var it = new IomapIter(inode, pos, (long)PageDefs.PAGE_SIZE, flags);
        var error = it.Next(ops);
        if (error < 0) return DaxFaultReturn(error);
        if (it.Length < (long)PageDefs.PAGE_SIZE)
        {
            EndFault(it, ops, 0);
            return VmFault.VM_FAULT_SIGBUS;
        }
        var iomap = it.Iomap;
        var ret = DaxFaultIter(vma, it, address, pgoff, write, cow, pmd: false, out pfn);
        EndFault(it, ops, (ret & VmFault.VM_FAULT_ERROR) == 0 ? (long)PageDefs.PAGE_SIZE : 0);
        if ((ret & VmFault.VM_FAULT_ERROR) == 0 && (iomap.Flags & IomapFlags.IOMAP_F_NEW) != 0) ret |= VmFault.VM_FAULT_MAJOR;
        return ret;
    }

    private static void EndFault(IomapIter it, IIomapOps ops, long processed)
    {
        it.Processed = processed;
        it.Next(ops);
    }

    /// <summary>
    /// dax_iomap_pmd_fault (fs/dax.c), traced as dax_pmd_fault and dax_pmd_fault_done with its result: VM_FAULT_SIGBUS
    /// past EOF; VM_FAULT_FALLBACK (to PTEs) when the virtual address and file offset differ in PMD colour, for a
    /// private write, when the 2 MiB range leaves the VMA or passes EOF (dax_fault_check_fallback), when the file has a
    /// 4 KiB entry in the range (grab_mapping_entry), when the mapping is shorter than 2 MiB or not MAPPED for a
    /// write, and when dax_direct_access fails or is not 2 MiB-aligned for the range (e.g. any known-bad sector in
    /// it). A read over a hole or unwritten extent maps the huge zero page (dax_pmd_load_hole).
    /// </summary>
    public VmFault DaxIomapPmdFault(MmStruct mm, Vma vma, ulong address, bool write, IIomapOps ops, out ulong pfn)
    {
        using var fn = _trace.Fn("dax_iomap_pmd_fault", "fs");
        var inode = InodeOf(vma);
        var pgoff = vma.PgOff + ((address - vma.Start) >> PageDefs.PAGE_SHIFT);
        var maxPgoff = (ulong)((inode.Size + (long)PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT);
        TracePmdFault("dax_pmd_fault", inode, vma, address, write, pgoff, maxPgoff, VmFault.None);
        var ret = PmdFaultBody(vma, inode, address, pgoff, maxPgoff, write, ops, out pfn);
        TracePmdFault("dax_pmd_fault_done", inode, vma, address, write, pgoff, maxPgoff, ret);
        return ret;
    }

    private VmFault PmdFaultBody(Vma vma, Inode inode, ulong address, ulong pgoff, ulong maxPgoff, bool write, IIomapOps ops, out ulong pfn)
    {
        pfn = 0;
        const ulong colour = DaxEntry.PmdPages - 1;
        var index = pgoff & ~colour;
        if (index >= maxPgoff) return VmFault.VM_FAULT_SIGBUS;
        var pmdAddr = address & ~(PageDefs.PMD_SIZE - 1);
        // dax_fault_check_fallback
        if ((pgoff & colour) != ((address >> PageDefs.PAGE_SHIFT) & colour)) return VmFault.VM_FAULT_FALLBACK;
        if (write && !vma.Shared) return VmFault.VM_FAULT_FALLBACK;
        if (pmdAddr < vma.Start || pmdAddr + PageDefs.PMD_SIZE > vma.End) return VmFault.VM_FAULT_FALLBACK;
        if ((index | colour) >= maxPgoff) return VmFault.VM_FAULT_FALLBACK;
        // grab_mapping_entry(PMD_ORDER): a 4 KiB entry of the file in the range → fallback.
        if (inode is IDaxInode host && host.HasPteEntryIn(index)) return VmFault.VM_FAULT_FALLBACK;
        var flags = IomapOpFlags.IOMAP_DAX | IomapOpFlags.IOMAP_FAULT;
        if (write) flags |= IomapOpFlags.IOMAP_WRITE;
        var it = new IomapIter(inode, (long)(index << PageDefs.PAGE_SHIFT), (long)PageDefs.PMD_SIZE, flags);
        if (it.Next(ops) <= 0) return VmFault.VM_FAULT_FALLBACK;
        if (it.Length < (long)PageDefs.PMD_SIZE)
        {
            EndFault(it, ops, 0);
            return VmFault.VM_FAULT_FALLBACK;
        }
        var ret = DaxFaultIter(vma, it, address, index, write, cow: false, pmd: true, out pfn);
        EndFault(it, ops, (ret & VmFault.VM_FAULT_ERROR) == 0 ? (long)PageDefs.PMD_SIZE : 0);
        return ret;
    }

    /// <summary>dax_fault_iter (fs/dax.c): the common PTE/PMD body once the mapping is known.</summary>
    private VmFault DaxFaultIter(Vma vma, IomapIter it, ulong address, ulong index, bool write, bool cow, bool pmd, out ulong pfn)
    {
        pfn = 0;
        var iomap = it.Iomap;
        var pos = (long)(index << PageDefs.PAGE_SHIFT);
        var host = it.Inode as IDaxInode;
        if (!pmd && cow) return DaxFaultCowPage(it, out pfn);
        if (!write && iomap.Type is IomapType.IOMAP_HOLE or IomapType.IOMAP_UNWRITTEN)
        {
            if (pmd) return DaxPmdLoadHole(vma, it.Inode, address, index, out pfn);
            using (_trace.Fn("dax_load_hole", "fs")) pfn = ZeroPfn;
            host?.InsertDaxEntry(index, pfn, pmd: false, zero: true, dirty: false);
            TracePteFault("dax_load_hole", it.Inode, vma, address, write, index, VmFault.VM_FAULT_NOPAGE);
            return VmFault.VM_FAULT_NOPAGE;
        }
        if (iomap.Type != IomapType.IOMAP_MAPPED && (iomap.Flags & IomapFlags.IOMAP_F_SHARED) == 0)
            return pmd ? VmFault.VM_FAULT_FALLBACK : VmFault.VM_FAULT_SIGBUS;
        var pages = pmd ? DaxEntry.PmdPages : 1;
        var err = DaxIomapDirectAccess(iomap, pos, pages, out pfn);
        if (err != 0) return pmd ? VmFault.VM_FAULT_FALLBACK : DaxFaultReturn(err);
        if ((iomap.Flags & IomapFlags.IOMAP_F_NEW) != 0) host?.UnmapMappingRange(pos, (long)(pages << PageDefs.PAGE_SHIFT));
        // dax_insert_entry: a shared write fault tags the entry dirty for dax_writeback_mapping_range.
        host?.InsertDaxEntry(index, pfn, pmd, zero: false, dirty: write && vma.Shared);
        if (write && vma.VmSync && (iomap.Flags & IomapFlags.IOMAP_F_DIRTY) != 0)
        {
            // VM_FAULT_NEEDDSYNC → dax_finish_sync_fault: vfs_fsync_range, then insert the entry.
            using var __ = _trace.Fn("dax_finish_sync_fault", "fs");
            var sync = host?.SyncForFault(pos, pos + (long)(pages << PageDefs.PAGE_SHIFT) - 1) ?? 0;
            if (sync != 0) return VmFault.VM_FAULT_SIGBUS;
        }
        if (_profile.DaxInsertMappingTrace)
        {
            var entry = RadixEntry(pfn, pmd, zero: false);
            if (pmd) TracePmdInsertMapping(it.Inode, vma, address, write, pfn, entry);
            else TraceInsertMapping(it.Inode, vma, address, write, entry);
        }
        return VmFault.VM_FAULT_NOPAGE;
    }

    /// <summary>
    /// dax_pmd_load_hole (fs/dax.c): map the huge zero page (mm_get_huge_zero_folio: 2 MiB of DRAM, allocated once and
    /// shared) read-only over the whole 2 MiB and insert a PMD zero entry, so later faults in the range stay huge and a
    /// write fault replaces it with a 2 MiB block mapping. VM_FAULT_FALLBACK (dax_pmd_load_hole_fallback) when no huge
    /// zero page can be had.
    /// </summary>
    private VmFault DaxPmdLoadHole(Vma vma, Inode inode, ulong address, ulong index, out ulong pfn)
    {
        using var fn = _trace.Fn("dax_pmd_load_hole", "fs");
        pfn = HugeZeroPfn();
        if (pfn == ulong.MaxValue)
        {
            TracePmdLoadHole("dax_pmd_load_hole_fallback", inode, vma, address, 0, 0);
            pfn = 0;
            return VmFault.VM_FAULT_FALLBACK;
        }
        (inode as IDaxInode)?.InsertDaxEntry(index, pfn, pmd: true, zero: true, dirty: false);
        TracePmdLoadHole("dax_pmd_load_hole", inode, vma, address, pfn, RadixEntry(pfn, pmd: true, zero: true));
        return VmFault.VM_FAULT_NOPAGE;
    }

    private ulong _hugeZeroPfn = ulong.MaxValue;

    /// <summary>
    /// get_huge_zero_page (mm/huge_memory.c): the first pfn of a 2 MiB-aligned, zeroed, reserved run of 512 DRAM pages,
    /// allocated on first use; ulong.MaxValue when DRAM cannot supply one (the caller falls back).
    /// </summary>
    public ulong HugeZeroPfn()
    {
        if (_hugeZeroPfn != ulong.MaxValue) return _hugeZeroPfn;
        const ulong n = DaxEntry.PmdPages;
        var probe = _m.Phys.AllocContiguous(1); // the allocator hands out never-used pfns in order
        if (probe < 0) return ulong.MaxValue;
        var p = (ulong)probe;
        var aligned = (p + n - 1) / n * n;
        long first;
        if (aligned == p)
        {
            first = _m.Phys.AllocContiguous((int)n - 1) < 0 ? -1 : (long)p;
        }
        else
        {
            var gap = (int)(aligned - p - 1);
            var skip = gap > 0 ? _m.Phys.AllocContiguous(gap) : (long)p + 1;
            first = skip < 0 ? -1 : _m.Phys.AllocContiguous((int)n);
            for (var k = 0UL; k < (ulong)gap && skip >= 0; k++) _m.Phys.FreePage((ulong)skip + k);
            _m.Phys.FreePage(p);
        }
        if (first < 0) return ulong.MaxValue;
        for (var k = 0UL; k < n; k++) _m.Phys.Frame((ulong)first + k).SetReserved();
        _hugeZeroPfn = (ulong)first;
        return _hugeZeroPfn;
    }

    /// <summary>
    /// dax_fault_cow_page (fs/dax.c; inline in dax_iomap_pte_fault with copy_user_dax before 5.15): the private copy
    /// of a write fault into the new anonymous page — clear_user_highpage for holes and unwritten extents, else
    /// copy_cow_page_dax: dax_direct_access of one page, whose error is returned as it is (not through
    /// dax_mem2blk_err) to dax_fault_return, so a known-bad page gives VM_FAULT_HWPOISON where the driver says
    /// −EHWPOISON (6.5+) and VM_FAULT_SIGBUS for −EIO (≤6.4); then copy_user_page, i.e. x86 copy_page, in every
    /// release: no exception-table entry, so latent poison in the source is a fatal kernel machine check (the
    /// machine-check-safe copy_mc_to_kernel of fs/dax.c is only used by dax_iomap_copy_around / dax_unshare_iter).
    /// </summary>
    private VmFault DaxFaultCowPage(IomapIter it, out ulong pfn)
    {
        using var fn = _trace.Fn("dax_fault_cow_page", "fs");
        pfn = 0;
        var iomap = it.Iomap;
        long err = 0;
        KernelPtr src = default;
        if (iomap.Type == IomapType.IOMAP_MAPPED)
        {
            if (iomap.DaxDev == null) return VmFault.VM_FAULT_SIGBUS;
            var r = iomap.DaxDev.DirectAccess(iomap.PgOff(it.Pos), 1, DaxAccessMode.DAX_ACCESS, out src, out _);
            if (r < 0) err = r;
        }
        else if (iomap.Type is not (IomapType.IOMAP_HOLE or IomapType.IOMAP_UNWRITTEN))
        {
            err = -Errno.EIO;
        }
        if (err != 0) return DaxFaultReturn(err);
        var p = _m.Phys.AllocPage();
        if (p < 0) return VmFault.VM_FAULT_OOM;
        pfn = (ulong)p;
        _m.Phys.Frame(pfn).SetAnon();
        var dst = KernelPtr.FromPhys(PhysAddr.FromPfn(pfn));
        if (iomap.Type == IomapType.IOMAP_MAPPED)
        {
            using (_trace.Fn("copy_cow_page_dax", "fs")) _m.Copy.CopyPage(dst, src);
        }
        else
        {
            _m.Copy.Memset(dst, 0, PageDefs.PAGE_SIZE);
        }
        return VmFault.VM_FAULT_NOPAGE;
    }
}
