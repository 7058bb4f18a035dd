using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

public sealed partial class DevDax
{
    // page->mapping / page->index as dax_set_mapping leaves them, one entry per alignment block: the file index of the
    // block's first page (the compound head from 5.17). No entry: page->mapping is NULL.
    private readonly Dictionary<ulong, ulong> _blockIndex = [];

    private ulong PagesPerBlock => Align >> PageDefs.PAGE_SHIFT;

    /// <summary>
    /// dax_set_mapping (dev_dax_huge_fault's loop before 5.17): the first fault of a block sets page-&gt;mapping and
    /// page-&gt;index, later faults leave them. ≤5.16 every page gets the index of its own offset, from the fault address
    /// rounded down; 5.17–6.11 only the compound head, from ALIGN(address, fault size) — for an address inside the block
    /// that is the next block's index; 6.12+ from ALIGN_DOWN (switches <see cref="KernelProfile.DevDaxCompoundHead"/>,
    /// <see cref="KernelProfile.DevDaxPgoffAlignUp"/>).
    /// </summary>
    internal void SetMapping(Vma vma, ulong address, ulong faultSize, ulong pfn)
    {
        var block = ((pfn << PageDefs.PAGE_SHIFT) - Start) / Align;
        if (_blockIndex.ContainsKey(block)) return;
        var at = _m.Profile.DevDaxPgoffAlignUp
            ? (address + faultSize - 1) & ~(faultSize - 1)
            : address & ~(faultSize - 1);
        _blockIndex[block] = DevDaxVmOperations.LinearPageIndex(vma, at);
    }

    /// <summary>The page-&gt;index memory_failure would read for <paramref name="pfn"/> (head or page, per release), or null (no mapping).</summary>
    public ulong? PageIndex(ulong pfn)
    {
        var off = (pfn << PageDefs.PAGE_SHIFT) - Start;
        if (!_blockIndex.TryGetValue(off / Align, out var head)) return null;
        return _m.Profile.DevDaxCompoundHead ? head : head + (off % Align >> PageDefs.PAGE_SHIFT);
    }

    /// <summary>
    /// memory_failure_dev_pagemap for a device-dax pfn: outside the data range (pgmap_pfn_valid: the info block and memmap
    /// reserve) → −ENXIO; device-dax has no pagemap -&gt;memory_failure, so mf_generic_kill_procs (the body of
    /// memory_failure_dev_pagemap before 5.19). Logged "recovery action for dax page: Recovered|Failed".
    /// </summary>
    public int MemoryFailure(ulong pfn, MfFlags flags)
    {
        using var _ = _m.Tracer.Fn("memory_failure_dev_pagemap", "mm");
        var pa = pfn << PageDefs.PAGE_SHIFT;
        var rc = pa < Start || pa >= Start + Size ? -Errno.ENXIO : GenericKillProcs(pfn, flags);
        _m.State.Printk($"Memory failure: 0x{pfn:x}: recovery action for dax page: {(rc != 0 ? "Failed" : "Recovered")}");
        return rc;
    }

    /// <summary>
    /// mf_generic_kill_procs for device-dax. From 5.17 the page is its compound head (the first page of the alignment
    /// block). dax_lock_page fails (−EBUSY) while page-&gt;mapping is NULL (never faulted). SetPageHWPoison; flags gain
    /// MF_ACTION_REQUIRED | MF_MUST_KILL; collect_procs_file with force_early: for current (and early-kill tasks), every
    /// VMA of the device covering page-&gt;index gives si_addr = vm_start + (index − vm_pgoff) · 4096 and si_addr_lsb =
    /// dev_pagemap_mapping_shift there (30 / 21 / 12; 0 drops the task: nothing mapped at that address). Then
    /// unmap_mapping_range of the largest such size around index · 4096 in every process, and kill_procs (SIGBUS
    /// BUS_MCEERR_AR to current, AO to others). With the 5.17–6.11 index (ALIGN up) the address is the next block, so
    /// the poisoned mapping stays and, when that block is not mapped or lies outside the VMA, nobody is signalled: the
    /// task touches the poison again (endless machine checks).
    /// </summary>
    private int GenericKillProcs(ulong pfn, MfFlags flags)
    {
        using var _ = _m.Tracer.Fn("mf_generic_kill_procs", "mm");
        var pagePfn = !_m.Profile.DevDaxCompoundHead ? pfn : (Start + ((pfn << PageDefs.PAGE_SHIFT) - Start) / Align * Align) >> PageDefs.PAGE_SHIFT;
        var index = PageIndex(pfn);
        if (index == null) return -Errno.EBUSY;
        _m.Phys.Frame(pagePfn).SetHWPoison();
        flags |= MfFlags.MF_ACTION_REQUIRED | MfFlags.MF_MUST_KILL;
        var tokill = new List<MemoryFailure.ToKill>();
        foreach (var p in _m.Scheduler.Processes)
        {
            if (_m.MemoryFailure.TaskEarlyKill(p, forceEarly: true) == null) continue;
            foreach (var v in p.Mm.Vmas)
            {
                if (v.File is not DevDaxFile f || !ReferenceEquals(f.Dev, this)) continue;
                var pages = (v.End - v.Start) >> PageDefs.PAGE_SHIFT;
                if (index.Value < v.PgOff || index.Value - v.PgOff >= pages) continue;
                var addr = v.Start + ((index.Value - v.PgOff) << PageDefs.PAGE_SHIFT);
                var shift = p.Mm.MappingShift(addr);
                if (shift == 0) continue; // add_to_kill: no mapping at that address in this VMA
                tokill.Add(new MemoryFailure.ToKill(p, addr, shift));
            }
        }
        var size = 0UL;
        foreach (var tk in tokill) size = Math.Max(size, 1UL << tk.SizeShift);
        if (size != 0) UnmapMappingRange((index.Value << PageDefs.PAGE_SHIFT) & ~(size - 1), size);
        _m.MemoryFailure.KillProcs(tokill, forcekill: true, pfn, flags);
        return 0;
    }

    /// <summary>unmap_mapping_range(mapping, start, len, 0): zap the user addresses of file bytes [start, start+len) in every mapping.</summary>
    private void UnmapMappingRange(ulong start, ulong len)
    {
        foreach (var (mm, v) in Mappings())
        {
            var vStartOff = v.PgOff << PageDefs.PAGE_SHIFT;
            var vEndOff = vStartOff + (v.End - v.Start);
            var lo = Math.Max(start, vStartOff);
            var hi = Math.Min(start + len, vEndOff);
            if (lo >= hi) continue;
            mm.ZapRange(v.Start + (lo - vStartOff), v.Start + (hi - vStartOff));
        }
    }
}
