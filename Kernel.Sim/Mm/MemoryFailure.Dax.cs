using KernelSim.Uapi;

namespace KernelSim.Mm;

public sealed partial class MemoryFailure
{
    /// <summary>
    /// mf_generic_kill_procs (mm/memory-failure.c, 5.19+; the body of memory_failure_dev_pagemap in 4.19–5.18):
    /// the ZONE_DEVICE (fsdax) route when the dev_pagemap owner has no -&gt;memory_failure or its holder answered
    /// -EOPNOTSUPP (ext4/ext2 register no holder). dax_lock_folio fails (-EBUSY) for a page no file maps;
    /// otherwise PageHWPoison is set, flags gain MF_ACTION_REQUIRED | MF_MUST_KILL, the mapping processes are
    /// collected with force_early (current, plus early-kill tasks), the page is unmapped from every process
    /// (unmap_mapping_range of the largest mapping size: PTEs are zapped, not turned into hwpoison entries, so a
    /// later touch re-faults through the DAX fault handler) and each collected process is signalled. Returns 0 or -EBUSY
    /// (the caller, memory_failure_dev_pagemap, logs the action result).
    /// </summary>
    /// <remarks>
    /// dax_lock_folio needs folio-&gt;mapping, which fs/dax.c sets when a fault inserts the page; the model uses
    /// "some process maps the page" for that test (a page that was only read(2) has no mapping).
    /// </remarks>
    public int MfGenericKillProcs(ulong pfn, MfFlags flags)
    {
        using var _ = trace.Fn("mf_generic_kill_procs", "mm");
        var page = phys.Frame(pfn);
        if (page.MapCount == 0) return -Errno.EBUSY;
        return DaxUnmapAndKill(page, pfn, flags | MfFlags.MF_ACTION_REQUIRED | MfFlags.MF_MUST_KILL, preRemove: false);
    }

    /// <summary>
    /// mf_dax_kill_procs(mapping, index, count, flags) (mm/memory-failure.c, 5.19+) for one page whose dax entry
    /// the filesystem found (dax_lock_mapping_entry gave <paramref name="pfn"/>; holes and zero entries are
    /// skipped by the caller): PageHWPoison (unless MF_MEM_PRE_REMOVE), collect_procs_fsdax (current plus
    /// early-kill tasks; every mapper for PRE_REMOVE), then unmap_and_kill with MF_ACTION_REQUIRED |
    /// MF_MUST_KILL. The kernel walks mapping-&gt;i_mmap for the file index; the model walks the page's reverse map,
    /// which names the same (process, address) pairs. Returns 0.
    /// </summary>
    public int MfDaxKillProcs(ulong pfn, MfFlags flags)
    {
        using var _ = trace.Fn("mf_dax_kill_procs", "mm");
        var page = phys.Frame(pfn);
        var preRemove = (flags & MfFlags.MF_MEM_PRE_REMOVE) != 0;
        DaxUnmapAndKill(page, pfn, flags | MfFlags.MF_ACTION_REQUIRED | MfFlags.MF_MUST_KILL, preRemove);
        return 0;
    }

    private int DaxUnmapAndKill(PageFrame page, ulong pfn, MfFlags flags, bool preRemove)
    {
        if (!preRemove)
        {
            if (!page.IsHwPoison) PoisonedPages++;
            page.Flags |= PageFlags.PG_hwpoison;
        }
        var tokill = new List<ToKill>();
        var maps = page.Rmap?.ToArray() ?? [];
        var maxShift = PageDefs.PAGE_SHIFT;
        foreach (var (mm, va) in maps)
        {
            var shift = mm.ShiftAt(va);
            if (shift > maxShift) maxShift = shift;
            var owner = sched.OwnerOf(mm);
            if (owner == null || shift == 0) continue; // not mapped here: dropped (add_to_kill)
            var t = preRemove ? (owner.Alive ? owner : null) : TaskEarlyKill(owner, forceEarly: true);
            if (t == null) continue;
            tokill.Add(new ToKill(owner, va, shift));
        }
        // unmap_and_kill → unmap_mapping_range(mapping, index & ~(size-1), size): every process, PTEs zapped.
        var size = 1UL << maxShift;
        foreach (var (mm, va) in maps)
        {
            var start = va & ~(size - 1);
            var vma = mm.FindVma(va);
            var lo = vma == null ? start : Math.Max(start, vma.Start);
            var hi = vma == null ? start + size : Math.Min(start + size, vma.End);
            mm.ZapRange(lo, hi);
        }
        KillProcs(tokill, (flags & MfFlags.MF_MUST_KILL) != 0, pfn, flags);
        return 0; // memory_failure_dev_pagemap logs "recovery action for dax page"
    }
}
