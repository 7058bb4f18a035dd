namespace KernelSim.Mm;

/// <summary>What backs a physical range.</summary>
public enum MemoryKind
{
    /// <summary>System RAM (E820_TYPE_RAM): online pages managed by the buddy allocator.</summary>
    Dram,
    /// <summary>Persistent memory (E820_TYPE_PMEM / NFIT SPA): ZONE_DEVICE pages once a driver maps them.</summary>
    Pmem,
    /// <summary>A device window (PCI BAR, virtio shared memory): ZONE_DEVICE, no struct page of its own.</summary>
    DeviceWindow,
}

/// <summary>
/// The ZONE_DEVICE owner of a physical range (struct dev_pagemap): lets memory_failure hand its pages to
/// the driver/filesystem layer (memory_failure_dev_pagemap).
/// </summary>
public interface IDevPagemap
{
    /// <summary>
    /// memory_failure for a pfn in this pagemap (mm/memory-failure.c memory_failure_dev_pagemap):
    /// returns 0, -errno, or -EOPNOTSUPP when the owner has no handler for it.
    /// </summary>
    int MemoryFailure(ulong pfn, MfFlags flags);
}

/// <summary>A registered physical range (a resource in /proc/iomem).</summary>
/// <param name="Start">First physical address.</param>
/// <param name="Size">Size in bytes (page multiple).</param>
/// <param name="Kind">DRAM, pmem or device window.</param>
/// <param name="Name">Resource name ("System RAM", "Persistent Memory", …).</param>
public sealed record PhysRange(PhysAddr Start, ulong Size, MemoryKind Kind, string Name)
{
    /// <summary>The dev_pagemap that owns these pages, once a driver maps them (ZONE_DEVICE).</summary>
    public IDevPagemap? Pagemap { get; set; }

    /// <summary>
    /// The host side of a device window (second-stage translation and host-fault outcome); set with
    /// <see cref="PhysicalMemory.SetWindowHandler"/>. Null for DRAM, pmem and plain windows.
    /// </summary>
    public IDeviceWindowHandler? WindowHandler { get; internal set; }

    /// <summary>True if the range is in the kernel direct map (DRAM, and pmem mapped by devm_memremap_pages).</summary>
    public bool DirectMapped { get; set; } = true;

    /// <summary>One past the last address.</summary>
    public PhysAddr End => Start + Size;

    /// <summary>True if pa lies inside.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool Contains(PhysAddr pa) => pa.Value >= Start.Value && pa.Value - Start.Value < Size;
}
