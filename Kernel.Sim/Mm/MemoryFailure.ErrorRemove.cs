namespace KernelSim.Mm;

public sealed partial class MemoryFailure
{
    /// <summary>
    /// truncate_error_folio (mm/memory-failure.c, from me_pagecache_clean / me_pagecache_dirty): a poisoned page-cache
    /// folio is handed to its mapping's -&gt;error_remove_folio — generic_error_remove_folio truncates it, shmem keeps it
    /// (5.17+, a7605426666 "mm: shmem: don't truncate page if memory failure happens"). A failure is only logged.
    /// </summary>
    private void TruncateErrorFolio(PageFrame page, ulong pfn)
    {
        var mapping = page.PageCacheMapping;
        if (mapping == null) return;
        var folio = mapping.Find(page.PageCacheIndex);
        if (folio == null || folio.Pfn != pfn) return;
        using var _ = trace.Fn("truncate_error_folio", "mm");
        var err = mapping.AOps.ErrorRemoveFolio(mapping, folio);
        if (err != 0) state.Printk($"Memory failure: 0x{pfn:x}: Failed to punch page: {err}");
    }
}
