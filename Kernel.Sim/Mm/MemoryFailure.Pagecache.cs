using KernelSim.Fs;
using KernelSim.Uapi;

namespace KernelSim.Mm;

/// <summary>enum mf_result (include/linux/mm.h): what a recovery action achieved.</summary>
public enum MfResult
{
    /// <summary>Error handling ignored the page ("Ignored").</summary>
    MF_IGNORED,
    /// <summary>Handling failed ("Failed").</summary>
    MF_FAILED,
    /// <summary>Handling will finish later ("Delayed").</summary>
    MF_DELAYED,
    /// <summary>The page was isolated and the system recovered ("Recovered").</summary>
    MF_RECOVERED,
}

public sealed partial class MemoryFailure
{
    /// <summary>action_page_types[MF_MSG_KERNEL].</summary>
    internal const string MF_MSG_KERNEL = "reserved kernel page";
    /// <summary>action_page_types[MF_MSG_DIRTY_LRU].</summary>
    internal const string MF_MSG_DIRTY_LRU = "dirty LRU page";
    /// <summary>action_page_types[MF_MSG_CLEAN_LRU].</summary>
    internal const string MF_MSG_CLEAN_LRU = "clean LRU page";
    /// <summary>action_page_types[MF_MSG_HUGE].</summary>
    internal const string MF_MSG_HUGE = "huge page";
    /// <summary>action_page_types[MF_MSG_FREE_HUGE].</summary>
    internal const string MF_MSG_FREE_HUGE = "free huge page";

    /// <summary>sysctl vm.enable_soft_offline (6.11+, default 1; 0 → soft_offline_page refuses with −EOPNOTSUPP).</summary>
    public bool EnableSoftOffline { get; set; } = true;

    /// <summary>sysctl vm.panic_on_unrecoverable_memory_failure (default 0; see <see cref="Profiles.KernelProfile.PanicOnUnrecoverableMf"/>).</summary>
    public bool PanicOnUnrecoverable { get; set; }

    /// <summary>hw_memory_failure: a memory_failure without MF_SW_SIMULATED happened; unpoison is refused from then on (5.19+).</summary>
    public bool HwMemoryFailure { get; private set; }

    private static string ResultName(MfResult r) => r switch
    {
        MfResult.MF_IGNORED => "Ignored",
        MfResult.MF_FAILED => "Failed",
        MfResult.MF_DELAYED => "Delayed",
        _ => "Recovered",
    };

    /// <summary>
    /// identify_page_state for a page-cache page after unmapping: dirty → me_pagecache_dirty (mapping_set_error(−EIO),
    /// so the next fsync of each open file of the inode returns −EIO once, then as clean), clean → me_pagecache_clean
    /// (truncate_error_folio: the filesystem's -&gt;error_remove_folio, or mapping_evict_folio when it has none). The
    /// page leaves the cache, so the next access reads the block again into a new page.
    /// </summary>
    private int MePagecache(Folio folio, ulong pfn)
    {
        var mapping = folio.Mapping!;
        var dirty = folio.Dirty;
        if (dirty) mapping.MappingSetError(-Errno.EIO);
        var r = TruncateErrorFolio(folio, pfn, mapping);
        return ActionResult(pfn, dirty ? MF_MSG_DIRTY_LRU : MF_MSG_CLEAN_LRU, r);
    }

    /// <summary>truncate_error_folio (mm/memory-failure.c).</summary>
    private MfResult TruncateErrorFolio(Folio folio, ulong pfn, AddressSpace mapping)
    {
        var err = mapping.AOps.ErrorRemoveFolio(mapping, folio);
        if (err is { } e)
        {
            if (e == 0) return MfResult.MF_RECOVERED;
            state.Printk($"Memory failure: 0x{pfn:x}: Failed to punch page: {e}");
            return MfResult.MF_FAILED;
        }
        // mapping_evict_folio: fails on a dirty folio.
        if (folio.Dirty)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: Failed to invalidate");
            return MfResult.MF_FAILED;
        }
        mapping.DeleteFromPageCache(folio);
        return MfResult.MF_RECOVERED;
    }
}
