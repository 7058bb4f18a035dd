using KernelSim.Kernel;

namespace KernelSim.Fs;

/// <summary>fs/drop_caches.c: what writing vm.drop_caches does.</summary>
public static class DropCaches
{
    /// <summary>
    /// drop_caches_sysctl_handler: bit 1 → drop_pagecache_sb on every filesystem (invalidate_mapping_pages: each
    /// clean, unmapped, uptodate page-cache folio of a mapping that can write back leaves the cache, so the next read
    /// goes to the device; dirty, mapped and ramfs pages stay); bit 2 → drop_slab (nothing to drop in the model).
    /// "comm (pid): drop_caches: N" is logged until a write with bit 4. Returns the folios dropped.
    /// </summary>
    public static int Run(Machine m, int value)
    {
        ArgumentNullException.ThrowIfNull(m);
        var dropped = 0;
        if ((value & 1) != 0)
        {
            foreach (var frame in m.Phys.FramesInOrder())
            {
                if (frame.CacheFolio is not { Mapping: { } mapping } folio) continue;
                if (!mapping.AOps.CanWriteback || folio.Dirty || !folio.Uptodate || frame.MapCount > 0 || frame.IsHwPoison) continue;
                mapping.DeleteFromPageCache(folio);
                dropped++;
            }
        }
        var cur = m.Current;
        var st = m.Services.GetService(typeof(DropCachesState)) as DropCachesState;
        if (st is { Quiet: false } || st == null) m.State.Printk($"{cur?.Comm ?? "kernel"} ({cur?.Pid ?? 0}): drop_caches: {value}");
        if (st != null && (value & 4) != 0) st.Quiet = true;
        return dropped;
    }
}

/// <summary>The "stfu" of drop_caches_sysctl_handler: once a write had bit 4 set, nothing more is logged.</summary>
public sealed class DropCachesState
{
    /// <summary>True after a write with bit 4.</summary>
    public bool Quiet { get; set; }
}
