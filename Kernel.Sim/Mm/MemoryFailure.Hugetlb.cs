using KernelSim.Uapi;

namespace KernelSim.Mm;

public sealed partial class MemoryFailure
{
    /// <summary>
    /// try_memory_failure_hugetlb (mm/memory-failure.c): the raw subpage joins the folio's hwpoison list and the head
    /// gets PG_hwpoison (folio_set_hugetlb_hwpoison; a subpage already listed → "already hardware poisoned", as for a
    /// small page). A free huge page is dissolved ("free huge page": Recovered). A huge page in use is unmapped from
    /// every process — each of its PTEs becomes a hwpoison entry of the 2 MiB mapping — and the collected processes
    /// are signalled with si_addr_lsb 21 (its folio shift) at the subpage's address when the page is dirty (hugetlbfs
    /// page-cache folios always are: hugetlb_add_to_page_cache marks them dirty) or MF_MUST_KILL. me_huge_page then
    /// calls hugetlbfs_error_remove_folio for a page-cache folio, or dissolves a private one ("huge page": Recovered).
    /// </summary>
    private int TryMemoryFailureHugetlb(PageFrame page, ulong pfn, MfFlags flags)
    {
        var folio = page.Huge!;
        if (folio.RawHwp.Contains(pfn))
        {
            state.Printk($"Memory failure: 0x{pfn:x}: already hardware poisoned");
            if (!profile.AlreadyPoisonedKillsAccessor) return 0;
            if ((flags & MfFlags.MF_ACTION_REQUIRED) != 0) return KillAccessingProcess(pfn, flags);
            return -Errno.EHWPOISON;
        }
        var first = !folio.HwPoison;
        folio.RawHwp.Add(pfn);
        phys.Frame(folio.HeadPfn).Flags |= PageFlags.PG_hwpoison;
        if (!first)
        {
            // folio_set_hugetlb_hwpoison: the head was already poisoned; the new raw page is recorded, -EHWPOISON.
            state.Printk($"Memory failure: 0x{pfn:x}: already hardware poisoned");
            if (profile.AlreadyPoisonedKillsAccessor && (flags & MfFlags.MF_ACTION_REQUIRED) != 0) return KillAccessingProcess(pfn, flags);
            return -Errno.EHWPOISON;
        }
        PoisonedPages++;
        if (folio.Free)
        {
            folio.Pool.Dissolve(folio);
            return ActionResult(pfn, MF_MSG_FREE_HUGE, MfResult.MF_RECOVERED);
        }
        var tokill = new List<ToKill>();
        var forceEarly = (flags & MfFlags.MF_ACTION_REQUIRED) != 0;
        foreach (var (mm, va) in page.Mappings)
        {
            var owner = sched.OwnerOf(mm);
            if (owner == null || TaskEarlyKill(owner, forceEarly) == null) continue;
            tokill.Add(new ToKill(owner, va, Hugetlb.HPAGE_SHIFT));
        }
        var dirty = folio.CacheOwner != null;
        for (var i = 0; i < Hugetlb.PagesPerHuge; i++)
        {
            var sub = phys.Frame(folio.HeadPfn + (ulong)i);
            foreach (var (mm, va) in sub.Mappings.ToArray())
            {
                dirty |= mm.PteDirty(va);
                mm.UnmapForHwpoison(va);
            }
            sub.Flags &= ~PageFlags.PG_dirty;
        }
        KillProcs(tokill, dirty || (flags & MfFlags.MF_MUST_KILL) != 0, pfn, flags);
        if (folio.CacheOwner is { } owner2) owner2.ErrorRemoveFolio(folio);
        else folio.Pool.Reclaim(); // me_huge_page without a mapping: dissolve the unmapped private copy
        return ActionResult(pfn, MF_MSG_HUGE, MfResult.MF_RECOVERED);
    }

    /// <summary>unpoison_memory for a hugetlb folio's head (folio_free_raw_hwp): −EBUSY while the page cache still holds it.</summary>
    private int UnpoisonHugetlb(PageFrame page, ulong pfn)
    {
        var folio = page.Huge!;
        if (folio.CacheOwner != null)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: the hwpoison page has non-NULL mapping");
            return -Errno.EBUSY;
        }
        if (folio.RawHwp.Count == 0) return -Errno.EBUSY;
        folio.RawHwp.Clear();
        page.TestClearHWPoison();
        PoisonedPages--;
        state.Printk($"Memory failure: 0x{pfn:x}: software-unpoisoned page");
        return 0;
    }
}
