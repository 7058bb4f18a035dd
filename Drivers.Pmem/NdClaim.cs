namespace KernelSim.Drivers.Pmem;

/// <summary>What kind of claim device (the personality a namespace takes).</summary>
public enum NdClaimKind
{
    /// <summary>nd_pfn (pfnR.N): fsdax.</summary>
    Pfn,
    /// <summary>nd_dax (daxR.N): devdax, an nd_pfn with the DAX signature.</summary>
    Dax,
    /// <summary>nd_btt (bttR.N): sector mode.</summary>
    Btt,
}

/// <summary>
/// A claim device (drivers/nvdimm/pfn_devs.c, dax_devs.c, btt_devs.c): the seed or an instance that holds a namespace
/// (nd_namespace_store / __nd_attach_ndns in claim.c). A pfn/dax device has uuid, mode (none/ram/pmem) and align and,
/// once probed, the info block it validated or wrote (<see cref="Sb"/>); a btt device has uuid and sector size.
/// </summary>
public sealed class NdClaim : NdDevice
{
    internal NdClaim(NdRegion region, NdClaimKind kind, int id)
        : base(string.Concat(kind == NdClaimKind.Pfn ? "pfn" : kind == NdClaimKind.Dax ? "dax" : "btt", region.Id.ToString(), ".", id.ToString()))
    {
        Region = region;
        Kind = kind;
        Id = id;
    }

    /// <summary>The region (dev-&gt;parent).</summary>
    public NdRegion Region { get; }

    /// <summary>pfn, dax or btt.</summary>
    public NdClaimKind Kind { get; }

    /// <summary>The id from the region's pfn_ida / dax_ida / btt_ida.</summary>
    public int Id { get; }

    /// <inheritdoc/>
    public override string DevType => Kind switch { NdClaimKind.Pfn => "nd_pfn", NdClaimKind.Dax => "nd_dax", _ => "nd_btt" };

    /// <summary>nd_pfn-&gt;uuid / nd_btt-&gt;uuid (null when unset).</summary>
    public byte[]? Uuid { get; internal set; }

    /// <summary>nd_pfn-&gt;mode.</summary>
    public NdPfnMode Mode { get; internal set; }

    /// <summary>nd_pfn-&gt;align (nd_pfn_default_alignment: HPAGE_PMD_SIZE).</summary>
    public ulong Align { get; internal set; } = 2UL << 20;

    /// <summary>nd_btt-&gt;lbasize (0 until set).</summary>
    public uint LbaSize { get; internal set; }

    /// <summary>The claimed namespace (nd_pfn-&gt;ndns), or null.</summary>
    public NdNamespace? Ns { get; internal set; }

    /// <summary>nd_pfn-&gt;pfn_sb: the info block validated or written by the last successful probe.</summary>
    public PfnSb? Sb { get; internal set; }

    /// <summary>The disk while a pfn device is bound to nd_pmem.</summary>
    public PmemDevice? Pmem { get; internal set; }

    /// <summary>nd_btt-&gt;btt: the Block Translation Table while a btt device is bound to nd_pmem (its disk is /dev/pmemRs).</summary>
    public Btt? Btt { get; internal set; }

    /// <summary>The device-dax instance (/dev/daxR.N) dax_pmem created while a dax device is bound to it.</summary>
    public DevDax? DevDax { get; internal set; }

    /// <summary>The physical range of the device-dax data (devm_memremap_pages' range) while bound.</summary>
    internal Mm.PhysRange? DaxRange { get; set; }

    /// <summary>The PFN_SIG or DAX_SIG signature of this kind.</summary>
    public string Signature => Kind == NdClaimKind.Dax ? PfnSb.DAX_SIG : PfnSb.PFN_SIG;
}
