using KernelSim.Block;
using KernelSim.Mm;

namespace KernelSim.Drivers.Pmem;

/// <summary>One DIMM's part of a region (struct nd_mapping): the DIMM, its DPA start and size, its interleave position.</summary>
/// <param name="Dimm">The nmemN.</param>
/// <param name="Start">First DPA used by the region.</param>
/// <param name="Size">Bytes of the DIMM in the region.</param>
/// <param name="Position">Interleave position.</param>
public sealed record NdMapping(NvdimmDimm Dimm, ulong Start, ulong Size, int Position);

/// <summary>A namespace label in the DIMMs' label area (struct nd_namespace_label, reduced to what a namespace is made of).</summary>
/// <param name="Uuid">The namespace uuid.</param>
/// <param name="Name">The label name (alt_name).</param>
/// <param name="Offset">Region-relative start.</param>
/// <param name="Size">Bytes.</param>
/// <param name="LbaSize">Sector size.</param>
public sealed record NdLabel(byte[] Uuid, string Name, ulong Offset, ulong Size, uint LbaSize);

/// <summary>
/// struct nd_region of a persistent-memory region (drivers/nvdimm/region_devs.c): its SPA range, its DIMM mappings, its
/// region-level badblocks (/sys/bus/nd/devices/regionN/badblocks, relative to the region start), its namespace and claim
/// devices with their ida allocators and seeds, and the namespace labels kept in the DIMMs' label areas.
/// </summary>
public sealed class NdRegion : NdDevice
{
    private readonly List<PhysRange> _gaps = [];
    internal readonly List<NdNamespace> _nsDevs = [];
    internal readonly List<NdClaim> _claims = [];
    internal readonly NdIda NsIda = new(), PfnIda = new(), DaxIda = new(), BttIda = new();

    internal NdRegion(NvdimmBus bus, int id, ulong start, ulong size, IReadOnlyList<NdMapping> mappings, bool labelled) : base("region" + id.ToString())
    {
        Bus = bus;
        Id = id;
        Start = start;
        Size = size;
        Mappings = mappings;
        Labelled = labelled;
        Align = DefaultAlign(size, mappings.Count);
        _gaps.Add(bus.Machine.Phys.Register(new PhysAddr(start), size, MemoryKind.Pmem, Name));
        foreach (var g in _gaps) g.DirectMapped = false;
    }

    /// <summary>The bus.</summary>
    public NvdimmBus Bus { get; }

    /// <summary>Region number N of "regionN".</summary>
    public int Id { get; }

    /// <inheritdoc/>
    public override string DevType => "nd_pmem";

    /// <summary>First physical byte (ndr_start).</summary>
    public ulong Start { get; }

    /// <summary>Size in bytes (ndr_size).</summary>
    public ulong Size { get; }

    /// <summary>The DIMM mappings (empty on e820).</summary>
    public IReadOnlyList<NdMapping> Mappings { get; }

    /// <summary>True when the DIMMs have label areas: namespaces are nd_namespace_pmem (nstype 5), else nd_namespace_io (4).</summary>
    public bool Labelled { get; }

    /// <summary>nd_region-&gt;align (default_align: 16 MiB, PAGE_SIZE for a region under 16 MiB, times the ways if needed).</summary>
    public ulong Align { get; internal set; }

    /// <summary>nd_region-&gt;ro (the read_only attribute).</summary>
    public bool ReadOnly { get; internal set; }

    /// <summary>nd_region-&gt;bb: region badblocks (sectors relative to the region start).</summary>
    public Badblocks Bb { get; } = new();

    /// <summary>The labels in the DIMMs' label areas (they survive disable/enable).</summary>
    public List<NdLabel> Labels { get; } = [];

    /// <summary>The namespace devices currently registered.</summary>
    public IReadOnlyList<NdNamespace> NamespaceDevices => _nsDevs;

    /// <summary>The pfn, dax and btt devices currently registered.</summary>
    public IReadOnlyList<NdClaim> Claims => _claims;

    /// <summary>nd_region-&gt;ns_seed (null for a label-less region or while disabled).</summary>
    public NdNamespace? NsSeed { get; internal set; }

    /// <summary>nd_region-&gt;pfn_seed.</summary>
    public NdClaim? PfnSeed { get; internal set; }

    /// <summary>nd_region-&gt;dax_seed.</summary>
    public NdClaim? DaxSeed { get; internal set; }

    /// <summary>nd_region-&gt;btt_seed.</summary>
    public NdClaim? BttSeed { get; internal set; }

    /// <summary>nd_region_data ns_count / ns_active of the last enable (init_namespaces).</summary>
    public (int Active, int Count) InitNamespaces { get; internal set; }

    /// <summary>The pmem disks currently attached (raw namespaces and fsdax pfn devices), in attach order.</summary>
    public IReadOnlyList<PmemDevice> Namespaces => _namespaces;
    internal readonly List<PmemDevice> _namespaces = [];

    /// <summary>
    /// The v1.1 interleave-set cookie (set_cookie, acpi_nfit_init_interleave_set's cookie1): nd_fletcher64 over one
    /// struct nfit_set_info_map {region_offset, serial_number, pad} per mapping in position order. The simulator has
    /// no NFIT memdev tables, so region_offset is 0 for every mapping.
    /// </summary>
    public ulong SetCookie
    {
        get
        {
            var info = new byte[16 * Mappings.Count];
            foreach (var m in Mappings.OrderBy(m => m.Position))
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(16 * m.Position + 8), m.Dimm.Serial);
            return PfnSb.Fletcher64(info);
        }
    }

    /// <summary>True if [addr, addr+len) overlaps the region.</summary>
    public bool Overlaps(ulong addr, ulong len) => addr < Start + Size && addr + len > Start;

    /// <summary>default_align (region_devs.c): MEMREMAP_COMPAT_ALIGN_MAX (16 MiB), PAGE_SIZE under that, × mappings when it does not divide.</summary>
    internal static ulong DefaultAlign(ulong size, int mappings)
    {
        var align = size < (16UL << 20) ? PageDefs.PAGE_SIZE : 16UL << 20;
        mappings = Math.Max(1, mappings);
        if (align % (ulong)mappings != 0) align *= (ulong)mappings;
        return align;
    }

    /// <summary>
    /// nd_region_notify(NVDIMM_REVALIDATE_POISON) (drivers/nvdimm/region_devs.c): repopulate the region badblocks, then
    /// child_notify each child whose driver has -&gt;notify — nd_pmem_notify: pmem_revalidate_poison for a raw namespace or
    /// a pfn device, the namespace's nsio-&gt;bb for a btt device. dax_pmem has no -&gt;notify: device-dax keeps no
    /// badblocks (its poison is found only by a machine check).
    /// </summary>
    public void NotifyRevalidatePoison()
    {
        Bus.Badrange.Populate(Bb, Start, Start + Size - 1);
        foreach (var ns in _namespaces) ns.RevalidatePoison();
        foreach (var c in _claims)
        {
            if (c.Btt != null && c.Ns?.Io is { } io) io.RevalidatePoison();
        }
    }

    /// <summary>region badblocks show.</summary>
    public string BadblocksShow() => Bb.Show();

    /// <summary>The free extents of the region (region-relative start, size), lowest first: the space no namespace allocation holds.</summary>
    public List<(ulong Start, ulong Size)> FreeExtents()
    {
        if (!Labelled) return [];
        var used = _nsDevs.Where(n => n.Size != 0).Select(n => (n.Start - Start, n.Size)).ToList();
        if (Driver == null) used = Labels.Select(l => (l.Offset, l.Size)).ToList();
        used.Sort();
        var free = new List<(ulong, ulong)>();
        ulong at = 0;
        foreach (var (s, l) in used)
        {
            if (s > at) free.Add((at, s - at));
            at = Math.Max(at, s + l);
        }
        if (at < Size) free.Add((at, Size - at));
        return free;
    }

    /// <summary>available_size: all free space, aligned down to the region align (nd_region_available_dpa).</summary>
    public ulong AvailableSize => FreeExtents().Aggregate(0UL, (a, e) => a + e.Size) / Align * Align;

    /// <summary>max_available_extent: the largest free extent aligned down (nd_region_allocatable_dpa).</summary>
    public ulong MaxAvailableExtent => FreeExtents().Select(e => e.Size / Align * Align).DefaultIfEmpty(0UL).Max();

    // ---- the physical map: namespaces mapped by their driver, the rest of the region plain SPA space ------------

    /// <summary>
    /// Register [start, start+size) as a namespace's own range (devm_memremap_pages / devm_memremap), carved out of the
    /// region's unmapped SPA space.
    /// </summary>
    internal PhysRange MapRange(ulong start, ulong size, string name)
    {
        var phys = Bus.Machine.Phys;
        var gap = _gaps.First(g => g.Start.Value <= start && start + size <= g.End.Value);
        phys.Unregister(gap);
        _gaps.Remove(gap);
        if (start > gap.Start.Value) AddGap(gap.Start.Value, start - gap.Start.Value);
        if (start + size < gap.End.Value) AddGap(start + size, gap.End.Value - start - size);
        return phys.Register(new PhysAddr(start), size, MemoryKind.Pmem, name);
    }

    /// <summary>Give a namespace's range back to the region's unmapped space (devm_memunmap_pages), merging neighbours.</summary>
    internal void UnmapRange(PhysRange r)
    {
        var phys = Bus.Machine.Phys;
        if (!phys.Unregister(r)) return;
        var start = r.Start.Value;
        var end = r.End.Value;
        foreach (var g in _gaps.ToArray())
        {
            if (g.End.Value == start || g.Start.Value == end)
            {
                phys.Unregister(g);
                _gaps.Remove(g);
                start = Math.Min(start, g.Start.Value);
                end = Math.Max(end, g.End.Value);
            }
        }
        AddGap(start, end - start);
    }

    private void AddGap(ulong start, ulong size)
    {
        var g = Bus.Machine.Phys.Register(new PhysAddr(start), size, MemoryKind.Pmem, Name);
        g.DirectMapped = false;
        _gaps.Add(g);
    }
}
