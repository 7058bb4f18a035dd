using KernelSim.Block;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// struct nd_region of a persistent-memory region (drivers/nvdimm/region_devs.c): its SPA range, its region-level
/// badblocks (/sys/bus/nd/devices/regionN/badblocks, relative to the region start) and its namespaces.
/// </summary>
public sealed class NdRegion
{
    internal NdRegion(NvdimmBus bus, int id, ulong start, ulong size)
    {
        Bus = bus;
        Id = id;
        Start = start;
        Size = size;
    }

    /// <summary>The bus.</summary>
    public NvdimmBus Bus { get; }

    /// <summary>Region number N of "regionN".</summary>
    public int Id { get; }

    /// <summary>"region0".</summary>
    public string Name => $"region{Id}";

    /// <summary>First physical byte.</summary>
    public ulong Start { get; }

    /// <summary>Size in bytes.</summary>
    public ulong Size { get; }

    /// <summary>nd_region-&gt;bb: region badblocks (sectors relative to the region start).</summary>
    public Badblocks Bb { get; } = new();

    /// <summary>The namespaces' pmem devices, in order.</summary>
    public IReadOnlyList<PmemDevice> Namespaces => _namespaces;
    internal readonly List<PmemDevice> _namespaces = [];

    /// <summary>True if [addr, addr+len) overlaps the region.</summary>
    public bool Overlaps(ulong addr, ulong len) => addr < Start + Size && addr + len > Start;

    /// <summary>
    /// nd_region_notify(NVDIMM_REVALIDATE_POISON) (drivers/nvdimm/region_devs.c): repopulate the region badblocks,
    /// then tell every namespace (nd_pmem_notify → pmem_revalidate_poison).
    /// </summary>
    public void NotifyRevalidatePoison()
    {
        Bus.Badrange.Populate(Bb, Start, Start + Size - 1);
        foreach (var ns in _namespaces) ns.RevalidatePoison();
    }

    /// <summary>region badblocks show.</summary>
    public string BadblocksShow() => Bb.Show();
}
