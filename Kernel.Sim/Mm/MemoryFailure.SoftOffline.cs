using KernelSim.Uapi;

namespace KernelSim.Mm;

public sealed partial class MemoryFailure
{
    private bool _softOfflineDisabledLogged;

    /// <summary>
    /// soft_offline_page(pfn, flags) (mm/memory-failure.c): retire a page that is still good, without signals. −ENXIO for
    /// a pfn outside memory (pfn_valid), −EIO for one that is not online memory (ZONE_DEVICE), −EOPNOTSUPP when
    /// vm.enable_soft_offline is 0 (6.11+), 0 when it is already HWPoison. A free page is taken off the free lists and
    /// marked; a page in use (soft_offline_in_use_page) is invalidated when it is clean, unmapped page cache, else
    /// migrated — the contents copied to a new page that replaces it in every mapping and in the page cache or
    /// shmem object — and the old page marked HWPoison (it counts in HardwareCorrupted). Kernel pages → −EIO
    /// ("unhandlable page"). Hugetlb pages are not soft-offlined here (−EBUSY, see docs "Not modelled").
    /// </summary>
    public int SoftOfflinePage(ulong pfn, MfFlags flags)
    {
        using var _ = trace.Fn("soft_offline_page", "mm");
        var range = phys.FindRange(PhysAddr.FromPfn(pfn));
        if (range == null) return -Errno.ENXIO;
        if (range.Kind != MemoryKind.Dram) return -Errno.EIO;
        if (profile.EnableSoftOfflineSysctl && !EnableSoftOffline)
        {
            if (!_softOfflineDisabledLogged) state.Printk("Memory failure: disabled by /proc/sys/vm/enable_soft_offline");
            _softOfflineDisabledLogged = true;
            return -Errno.EOPNOTSUPP;
        }
        var page = phys.Frame(pfn);
        if (page.IsHwPoison)
        {
            state.Printk($"Memory failure: soft_offline_page: 0x{pfn:x} page already poisoned");
            return 0;
        }
        if ((page.Flags & PageFlags.PG_reserved) != 0)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: unhandlable page");
            return -Errno.EIO;
        }
        if (page.Huge != null) return -Errno.EBUSY;
        var folio = page.CacheFolio;
        var inUse = folio != null || page.MapCount > 0 || (page.Flags & (PageFlags.PAGE_MAPPING_ANON | PageFlags.PG_swapbacked)) != 0;
        if (!inUse)
        {
            PageHandlePoison(page); // take_page_off_buddy
            return 0;
        }
        if (folio is { Mapping: { } mapping, Dirty: false } && page.MapCount == 0)
        {
            mapping.DeleteFromPageCache(folio); // mapping_evict_folio
            state.Printk($"Memory failure: 0x{pfn:x}: invalidated");
            PageHandlePoison(page);
            return 0;
        }
        var np = phys.AllocPage();
        if (np < 0)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: page migration failed -12");
            return -Errno.EBUSY;
        }
        MigratePage(page, (ulong)np);
        PageHandlePoison(page);
        return 0;
    }

    /// <summary>page_handle_poison: SetPageHWPoison and num_poisoned_pages_inc.</summary>
    private void PageHandlePoison(PageFrame page)
    {
        page.Flags |= PageFlags.PG_hwpoison;
        PoisonedPages++;
    }

    /// <summary>
    /// migrate_pages for one small page (MIGRATE_SYNC, MR_MEMORY_FAILURE): copy the bytes (folio_copy), carry the
    /// anon / swap-backed / dirty state, move the page-cache or shmem slot and every PTE to the new page.
    /// </summary>
    private void MigratePage(PageFrame old, ulong newPfn)
    {
        Span<byte> buf = stackalloc byte[(int)PageDefs.PAGE_SIZE];
        phys.PeekBytes(PhysAddr.FromPfn(old.Pfn), buf);
        phys.PokeBytes(PhysAddr.FromPfn(newPfn), buf);
        var nf = phys.Frame(newPfn);
        nf.Flags = old.Flags & (PageFlags.PAGE_MAPPING_ANON | PageFlags.PG_swapbacked | PageFlags.PG_dirty);
        if (old.CacheFolio is { Mapping: { } mapping } folio) mapping.MigrateFolio(folio, newPfn);
        if (old.ShmemOwner is { } so)
        {
            so.Pages[old.ShmemIndex] = newPfn;
            nf.ShmemOwner = so;
            nf.ShmemIndex = old.ShmemIndex;
            old.ShmemOwner = null;
        }
        foreach (var (mm, va) in old.Mappings.ToArray()) mm.RemapPte(va, newPfn);
        old.Flags &= ~(PageFlags.PAGE_MAPPING_ANON | PageFlags.PG_swapbacked | PageFlags.PG_dirty);
    }

    /// <summary>
    /// unpoison_memory(pfn) (mm/memory-failure.c, the debugfs unpoison-pfn and the hwpoison selftests): −EIO for a pfn
    /// that is not online memory; −EOPNOTSUPP after a real hardware memory failure (5.19+); −EBUSY when the page is
    /// not HWPoison ("page was already unpoisoned"), still mapped ("someone maps the hwpoison page"), still in a
    /// mapping ("the hwpoison page has non-NULL mapping") or a kernel page. Otherwise PG_hwpoison is cleared, the page
    /// goes back to the allocator, num_poisoned_pages drops and "software-unpoisoned page" is logged; 0.
    /// </summary>
    public int UnpoisonMemory(ulong pfn)
    {
        using var _ = trace.Fn("unpoison_memory", "mm");
        var range = phys.FindRange(PhysAddr.FromPfn(pfn));
        if (range == null || range.Kind != MemoryKind.Dram) return -Errno.EIO;
        if (HwMemoryFailure)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: disabled after HW memory failure");
            return -Errno.EOPNOTSUPP;
        }
        var page = phys.Frame(pfn);
        if (!page.IsHwPoison)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: page was already unpoisoned");
            return -Errno.EBUSY;
        }
        if ((page.Flags & PageFlags.PG_reserved) != 0) return -Errno.EBUSY;
        if (page.MapCount > 0)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: someone maps the hwpoison page");
            return -Errno.EBUSY;
        }
        if (page.CacheFolio != null || page.ShmemOwner != null)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: the hwpoison page has non-NULL mapping");
            return -Errno.EBUSY;
        }
        if (page.Huge != null) return UnpoisonHugetlb(page, pfn);
        page.TestClearHWPoison();
        PoisonedPages--;
        phys.FreePage(pfn);
        state.Printk($"Memory failure: 0x{pfn:x}: software-unpoisoned page");
        return 0;
    }
}
