namespace KernelSim.Drivers.Pmem;

/// <summary>The personality of a namespace (ndctl create-namespace --mode).</summary>
public enum NamespaceMode
{
    /// <summary>raw: the whole namespace is the disk, data_offset 0; on an NFIT bus it has no struct pages and no DAX.</summary>
    Raw,
    /// <summary>fsdax: a pfn device — info block plus memmap reserve at the start (data_offset), pages in ZONE_DEVICE, DAX.</summary>
    Fsdax,
}

/// <summary>One namespace to create in the region.</summary>
/// <param name="Size">Bytes (a multiple of the alignment; a 2 MiB multiple for fsdax).</param>
/// <param name="Mode">raw or fsdax.</param>
/// <param name="SectorSize">Logical block size of the disk (512 or 4096).</param>
public sealed record PmemNamespaceSpec(ulong Size, NamespaceMode Mode = NamespaceMode.Fsdax, uint SectorSize = 512)
{
    /// <summary>nd_pfn-&gt;align for fsdax (the data area starts on this boundary): 2 MiB.</summary>
    public ulong Align { get; init; } = 2UL << 20;
}

/// <summary>How the persistent memory is described to the kernel (the platform).</summary>
public sealed class PmemOptions
{
    /// <summary>Physical address of the region (SPA range). Default 4 GiB, above the DRAM.</summary>
    public ulong RegionBase { get; set; } = 4UL << 30;

    /// <summary>Region size in bytes; 0 = the sum of the namespaces.</summary>
    public ulong RegionSize { get; set; }

    /// <summary>Namespaces, laid out back to back from the region start. Default: one 64 MiB fsdax namespace.</summary>
    public List<PmemNamespaceSpec> Namespaces { get; } = [];

    /// <summary>
    /// Legacy e820 / memmap= pmem: no NFIT bus commands (no ARS, no clear-error, no injection, no MCE notifier);
    /// nvdimm_clear_poison "pretends" to clear; raw namespaces get struct pages and DAX (ND_REGION_PAGEMAP).
    /// </summary>
    public bool LegacyE820 { get; set; }

    /// <summary>The firmware clear-error unit (ARS_CAP), nfit_test's 256 by default.</summary>
    public uint ClearErrUnit { get; set; } = 256;

    /// <summary>acpi_desc-&gt;scrub_mode == HW_ERROR_SCRUB_ON: machine checks and 0x81 notifications start a long ARS.</summary>
    public bool HwErrorScrub { get; set; }
}
