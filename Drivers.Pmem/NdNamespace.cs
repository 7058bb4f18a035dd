namespace KernelSim.Drivers.Pmem;

/// <summary>
/// A namespace device (drivers/nvdimm/namespace_devs.c): nd_namespace_pmem on a labelled region (uuid, alt_name,
/// size, sector_size from its label; id from the region's ns_ida), or nd_namespace_io spanning a label-less region
/// (QEMU without labels, e820). Its claim (ndns-&gt;claim) is a pfn, dax or btt device; when it is bound to nd_pmem
/// without a claim it is the raw disk (<see cref="Pmem"/>).
/// </summary>
public sealed class NdNamespace : NdDevice
{
    internal NdNamespace(NdRegion region, int id, bool io) : base(string.Concat("namespace", region.Id.ToString(), ".", id.ToString()))
    {
        Region = region;
        Id = id;
        IsIo = io;
    }

    /// <summary>The region (dev-&gt;parent).</summary>
    public NdRegion Region { get; }

    /// <summary>nspm-&gt;id (0 for nd_namespace_io).</summary>
    public int Id { get; }

    /// <summary>True for nd_namespace_io (label-less), false for nd_namespace_pmem.</summary>
    public bool IsIo { get; }

    /// <inheritdoc/>
    public override string DevType => IsIo ? "nd_namespace_io" : "nd_namespace_pmem";

    /// <summary>ND_DEVICE_NAMESPACE_IO (4) or ND_DEVICE_NAMESPACE_PMEM (5).</summary>
    public int NsType => IsIo ? 4 : 5;

    /// <summary>nsio-&gt;res.start (meaningful when <see cref="Size"/> ≠ 0).</summary>
    public ulong Start { get; internal set; }

    /// <summary>resource_size(&amp;nsio-&gt;res): 0 for a seed.</summary>
    public ulong Size { get; internal set; }

    /// <summary>nspm-&gt;uuid (null when unset; always null for nd_namespace_io).</summary>
    public byte[]? Uuid { get; internal set; }

    /// <summary>nspm-&gt;alt_name.</summary>
    public string AltName { get; internal set; } = "";

    /// <summary>nspm-&gt;lbasize: 512 or 4096 (0 until set on a seed: shown as 512's absence).</summary>
    public uint LbaSize { get; internal set; } = 512;

    /// <summary>ndns-&gt;force_raw: skip the btt/pfn/dax probes and attach the raw disk.</summary>
    public bool ForceRaw { get; internal set; }

    /// <summary>ndns-&gt;claim: the pfn/dax/btt device holding the namespace.</summary>
    public NdClaim? Claim { get; internal set; }

    /// <summary>ndns-&gt;claim_class as holder_class shows it: "", "btt", "pfn", "dax".</summary>
    public string ClaimClass { get; internal set; } = "";

    /// <summary>The raw disk while bound to nd_pmem without a claim.</summary>
    public PmemDevice? Pmem { get; internal set; }

    /// <summary>The namespace uuid as the info block's parent_uuid holds it (nd_dev_to_uuid: zeros for nd_namespace_io).</summary>
    public byte[] ParentUuid => Uuid ?? new byte[16];

    /// <summary>
    /// The struct nd_namespace_io view of the namespace (nsio_rw_bytes, nsio-&gt;bb) made by the last devm_namespace_enable;
    /// kept (with its memremap window) while the extent stays the same.
    /// </summary>
    public Nsio? Io { get; internal set; }

    /// <summary>
    /// The mode attribute (mode_show): "safe" with a btt claim, "memory" with a pfn claim, "dax" with a dax claim,
    /// "memory" without a claim when pmem_should_map_pages (e820's ND_REGION_PAGEMAP), else "raw". (ndctl prints
    /// "memory" as fsdax, "dax" as devdax, "safe" as sector.)
    /// </summary>
    public string ModeText => Claim switch
    {
        { Kind: NdClaimKind.Btt } => "safe",
        { Kind: NdClaimKind.Pfn } => "memory",
        { Kind: NdClaimKind.Dax } => "dax",
        _ => Region.Bus.Platform == NvdimmPlatform.E820 ? "memory" : "raw",
    };
}
