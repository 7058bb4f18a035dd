namespace KernelSim.Drivers.Pmem;

/// <summary>The personality of a namespace (ndctl create-namespace --mode; the namespace's claim device).</summary>
public enum NamespaceMode
{
    /// <summary>raw: the whole namespace is the disk, data_offset 0; on an NFIT bus it has no struct pages and no DAX.</summary>
    Raw,
    /// <summary>fsdax: a pfn device — info block plus memmap reserve at the start (data_offset), pages in ZONE_DEVICE, DAX.</summary>
    Fsdax,
    /// <summary>devdax: a dax claim device (NVDIMM_DAX_INFO info block) whose driver is dax_pmem.</summary>
    Devdax,
    /// <summary>sector: a btt claim device (the BTT driver).</summary>
    Sector,
}

/// <summary>How the platform describes its persistent memory to the kernel.</summary>
public enum NvdimmPlatform
{
    /// <summary>
    /// ACPI NFIT with firmware shaped like tools/testing/nvdimm (nfit_test): ARS, error injection, the clear-error DSM,
    /// Intel-family SMART, and label areas, so namespaces are labelled nd_namespace_pmem devices.
    /// </summary>
    NfitTest,
    /// <summary>
    /// QEMU's emulated NVDIMM without labels (-device nvdimm): an NFIT with no ARS, no injection and no clear-error DSM;
    /// each region holds one label-less nd_namespace_io spanning it.
    /// </summary>
    Qemu,
    /// <summary>Legacy e820 type-12 / memmap= pmem (drivers/nvdimm/e820.c): no NFIT, no DIMMs, one nd_namespace_io per region.</summary>
    E820,
}

/// <summary>One namespace to create in the region.</summary>
/// <param name="Size">Bytes (a multiple of the alignment; a 2 MiB multiple for fsdax).</param>
/// <param name="Mode">raw, fsdax, devdax or sector.</param>
/// <param name="SectorSize">Logical block size of the disk (512 or 4096).</param>
public sealed record PmemNamespaceSpec(ulong Size, NamespaceMode Mode = NamespaceMode.Fsdax, uint SectorSize = 512)
{
    /// <summary>nd_pfn-&gt;align for fsdax/devdax (the data area starts on this boundary): 2 MiB.</summary>
    public ulong Align { get; init; } = 2UL << 20;

    /// <summary>The namespace uuid in its label (null: a fixed one derived from the region and index).</summary>
    public Guid? Uuid { get; init; }

    /// <summary>The label's name (alt_name), "" by default.</summary>
    public string AltName { get; init; } = "";

    /// <summary>fsdax memmap location: true = "dev" (PFN_MODE_PMEM, struct pages on the media), false = "mem" (PFN_MODE_RAM).</summary>
    public bool MemmapOnDevice { get; init; } = true;
}

/// <summary>One region (an interleave set / SPA range) of <see cref="PmemOptions.Regions"/>.</summary>
/// <param name="Size">Bytes; 0 = the sum of the namespaces.</param>
public sealed record PmemRegionSpec(ulong Size = 0)
{
    /// <summary>DIMMs interleaved in this region (each gets an nmemN); NfitTest and Qemu only.</summary>
    public int Dimms { get; init; } = 1;

    /// <summary>The namespaces (labels on NfitTest; on Qemu/E820 the first one's mode is that of the label-less namespace).</summary>
    public List<PmemNamespaceSpec> Namespaces { get; init; } = [];
}

/// <summary>How the persistent memory is described to the kernel (the platform).</summary>
public sealed class PmemOptions
{
    /// <summary>
    /// The info-block pages the last probe with these options wrote, one per namespace in probe order: the next machine
    /// shares them copy-on-write when it writes the same bytes there (<see cref="Mm.PhysicalMemory.PokeBytesShared"/>).
    /// Each is immutable and checked against the bytes before it is shared, so machines probing on several threads at once
    /// (each storing its own) at worst lose a share.
    /// </summary>
    internal Mm.SharedPages?[] BootBlocks = [];

    /// <summary>Physical address of the first region (SPA range). Default 4 GiB, above the DRAM.</summary>
    public ulong RegionBase { get; set; } = 4UL << 30;

    /// <summary>Region size in bytes when <see cref="Regions"/> is empty; 0 = the sum of the namespaces.</summary>
    public ulong RegionSize { get; set; }

    /// <summary>
    /// Namespaces of the single region used when <see cref="Regions"/> is empty, laid out back to back from its start.
    /// Default: one 64 MiB fsdax namespace.
    /// </summary>
    public List<PmemNamespaceSpec> Namespaces { get; } = [];

    /// <summary>Several regions, each at the next 16 MiB boundary after the previous one; empty = one region from <see cref="Namespaces"/>.</summary>
    public List<PmemRegionSpec> Regions { get; } = [];

    /// <summary>The platform (nfit_test-like NFIT by default).</summary>
    public NvdimmPlatform Platform { get; set; } = NvdimmPlatform.NfitTest;

    /// <summary>
    /// Legacy e820 / memmap= pmem (<see cref="NvdimmPlatform.E820"/>): no NFIT bus commands (no ARS, no clear-error, no
    /// injection, no MCE notifier); nvdimm_clear_poison "pretends" to clear; raw namespaces get struct pages and DAX
    /// (ND_REGION_PAGEMAP).
    /// </summary>
    public bool LegacyE820
    {
        get => Platform == NvdimmPlatform.E820;
        set => Platform = value ? NvdimmPlatform.E820 : Platform == NvdimmPlatform.E820 ? NvdimmPlatform.NfitTest : Platform;
    }

    /// <summary>The firmware clear-error unit (ARS_CAP), nfit_test's 256 by default.</summary>
    public uint ClearErrUnit { get; set; } = 256;

    /// <summary>acpi_desc-&gt;scrub_mode == HW_ERROR_SCRUB_ON: machine checks and 0x81 notifications start a long ARS.</summary>
    public bool HwErrorScrub { get; set; }
}
