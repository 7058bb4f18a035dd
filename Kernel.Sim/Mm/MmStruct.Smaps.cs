namespace KernelSim.Mm;

/// <summary>The counts of fs/proc/task_mmu.c struct mem_size_stats the simulator can know (bytes; Pss with PSS_SHIFT).</summary>
internal struct SmapsStats
{
    public const int PSS_SHIFT = 12;
    public ulong Resident, Referenced, Anonymous, SharedClean, SharedDirty, PrivateClean, PrivateDirty;
    public ulong Pss, PssDirty;
}

/// <summary>The resident-set counters of proc_pid_status (MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES), in pages.</summary>
internal readonly record struct RssCounters(ulong Anon, ulong File, ulong Shmem);

public sealed partial class MmStruct
{
    /// <summary>
    /// vm_normal_page for the smaps and RSS walks: a present entry of a DRAM page that is not reserved. The zero page
    /// (reserved), fsdax and device pfns (pte_devmap / special entries, outside DRAM) have no struct page to count.
    /// </summary>
    private PageFrame? NormalPage(in Pte pte)
    {
        if (!pte.Present) return null;
        var range = _phys.FindRange(PhysAddr.FromPfn(pte.Pfn));
        if (range == null || range.Kind != MemoryKind.Dram) return null;
        var f = _phys.Frame(pte.Pfn);
        return (f.Flags & PageFlags.PG_reserved) != 0 ? null : f;
    }

    /// <summary>
    /// smap_gather_stats → smaps_pte_entry → smaps_account for one VMA: every mapped normal page is resident and
    /// referenced (nothing ages pages here); it is shared when its mapcount is 2 or more, dirty when the PTE or the
    /// page is; Pss adds PAGE_SIZE / mapcount. Non-present entries (hwpoison) are not counted.
    /// </summary>
    internal SmapsStats GatherSmaps(Vma vma)
    {
        var s = new SmapsStats();
        foreach (var va in PagesWithPtes(vma.Start, vma.End))
        {
            var pte = _ptes[va >> PageDefs.PAGE_SHIFT];
            if (NormalPage(pte) is not { } page) continue;
            const ulong size = PageDefs.PAGE_SIZE;
            if ((page.Flags & PageFlags.PAGE_MAPPING_ANON) != 0) s.Anonymous += size;
            s.Resident += size;
            s.Referenced += size;
            var dirty = pte.Dirty || (page.Flags & PageFlags.PG_dirty) != 0;
            var mapcount = (ulong)Math.Max(1, page.MapCount);
            var pss = (size << SmapsStats.PSS_SHIFT) / mapcount;
            s.Pss += pss;
            if (dirty) s.PssDirty += pss;
            if (mapcount >= 2)
            {
                if (dirty) s.SharedDirty += size;
                else s.SharedClean += size;
            }
            else if (dirty) s.PrivateDirty += size;
            else s.PrivateClean += size;
        }
        return s;
    }

    /// <summary>get_mm_counter(MM_ANONPAGES / MM_FILEPAGES / MM_SHMEMPAGES): the normal pages mapped, by kind.</summary>
    internal RssCounters Rss()
    {
        ulong anon = 0, file = 0, shmem = 0;
        foreach (var pte in _ptes.Values)
        {
            if (NormalPage(pte) is not { } page) continue;
            if ((page.Flags & PageFlags.PAGE_MAPPING_ANON) != 0) anon++;
            else if ((page.Flags & PageFlags.PG_swapbacked) != 0) shmem++;
            else file++;
        }
        return new RssCounters(anon, file, shmem);
    }
}
