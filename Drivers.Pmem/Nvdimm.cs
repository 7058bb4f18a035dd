using System.Runtime.CompilerServices;
using KernelSim.Block;
using KernelSim.Kernel;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// Probing persistent memory on a booted machine: the NVDIMM bus (NFIT, or legacy e820), one region and its
/// namespaces (nd_pmem_probe → pmem_attach_disk), each registered in the physical map and added as /dev/pmemN.
/// </summary>
public static class Nvdimm
{
    private static readonly ConditionalWeakTable<Machine, NvdimmBus> Buses = new();

    /// <summary>
    /// Attach persistent memory described by <paramref name="options"/> (a 64 MiB fsdax namespace when none is
    /// listed). Throws <see cref="ArgumentException"/> for a layout that cannot exist (setup error); a second call on
    /// the same machine throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public static NvdimmBus Attach(Machine machine, PmemOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        options ??= new PmemOptions();
        if (Buses.TryGetValue(machine, out _)) throw new InvalidOperationException("persistent memory already attached");
        if (options.Namespaces.Count == 0) options.Namespaces.Add(new PmemNamespaceSpec(64UL << 20));
        ulong sum = 0;
        foreach (var ns in options.Namespaces)
        {
            if (ns.Size == 0 || ns.Size % ns.Align != 0 && ns.Mode == NamespaceMode.Fsdax || ns.Size % Mm.PageDefs.PAGE_SIZE != 0)
                throw new ArgumentException($"namespace size {ns.Size} must be a non-zero multiple of the page size (and of {ns.Align} for fsdax)");
            if (ns.SectorSize is not (512 or 4096)) throw new ArgumentException("sector size must be 512 or 4096");
            sum += ns.Size;
        }
        var regionSize = Math.Max(options.RegionSize, sum);
        if (regionSize % Mm.PageDefs.PAGE_SIZE != 0 || options.RegionBase % Mm.PageDefs.PAGE_SIZE != 0)
            throw new ArgumentException("region base and size must be page aligned");
        var bus = new NvdimmBus(machine, options) { HwErrorScrub = options.HwErrorScrub };
        var region = bus.AddRegion(options.RegionBase, regionSize);
        var zeroPage = machine.Kmalloc(Mm.PageDefs.PAGE_SIZE) ?? throw new InvalidOperationException("out of memory for ZERO_PAGE");
        var zeroPfn = machine.KernelMap.Pa(zeroPage)!.Value.Pfn;
        var phys = region.Start;
        for (var i = 0; i < options.Namespaces.Count; i++)
        {
            var spec = options.Namespaces[i];
            var dataOffset = spec.Mode == NamespaceMode.Fsdax ? FsdaxDataOffset(phys, spec.Size, spec.Align) : 0;
            if (dataOffset >= spec.Size) throw new ArgumentException($"namespace of {spec.Size} bytes is too small for its {dataOffset}-byte info block and memmap");
            var nsName = $"namespace{region.Id}.{i}";
            var diskName = i == 0 ? $"pmem{region.Id}" : $"pmem{region.Id}.{i}";
            var dev = new PmemDevice(machine, region, nsName, diskName, phys, spec.Size, spec.Mode, dataOffset, spec.SectorSize, zeroPfn);
            region._namespaces.Add(dev);
            var r = Genhd.Of(machine).AddDisk(dev.Disk);
            if (r < 0) throw new InvalidOperationException($"add_disk {diskName}: {Uapi.Errno.Describe(r)}");
            phys += spec.Size;
        }
        region.NotifyRevalidatePoison();
        Buses.Add(machine, bus);
        return bus;
    }

    /// <summary>
    /// nd_pfn_init, PFN_MODE_PMEM: ALIGN(start + 8 KiB + 64 · PHYS_PFN(size − 8 KiB), align) − start — the info block
    /// and the struct page array stored on the device itself.
    /// </summary>
    public static ulong FsdaxDataOffset(ulong start, ulong size, ulong align)
    {
        const ulong reserve = 8192;
        const ulong maxStructPageSize = 64;
        var npfns = (size - reserve) >> Mm.PageDefs.PAGE_SHIFT;
        var end = start + reserve + maxStructPageSize * npfns;
        return (end + align - 1) / align * align - start;
    }

    /// <summary>The NVDIMM bus of a machine, or null when no pmem was attached.</summary>
    public static NvdimmBus? Of(Machine machine) => Buses.TryGetValue(machine, out var b) ? b : null;

    /// <summary>The pmem device named "pmem0", "/dev/pmem0" or "namespace0.0", or null.</summary>
    public static PmemDevice? Find(Machine machine, string name)
    {
        var bus = Of(machine);
        if (bus == null || name == null) return null;
        if (name.StartsWith("/dev/", StringComparison.Ordinal)) name = name[5..];
        foreach (var r in bus.Regions)
        {
            foreach (var ns in r.Namespaces)
                if (ns.NamespaceName == name || ns.Disk.Name == name) return ns;
        }
        return null;
    }
}

/// <summary>Composition helpers: boot a machine with persistent memory in one line.</summary>
public static class PmemBuilderExtensions
{
    /// <summary>Attach a region holding <paramref name="namespaces"/> (one 64 MiB fsdax namespace when none) at boot.</summary>
    public static MachineBuilder AddPmem(this MachineBuilder builder, params PmemNamespaceSpec[] namespaces) =>
        builder.AddPmem(o => o.Namespaces.AddRange(namespaces));

    /// <summary>Attach persistent memory configured by <paramref name="configure"/> at boot.</summary>
    public static MachineBuilder AddPmem(this MachineBuilder builder, Action<PmemOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new PmemOptions();
        configure?.Invoke(options);
        return builder.OnBoot(m => Nvdimm.Attach(m, options));
    }

    /// <summary>The pmem device "pmem0" (or any name <see cref="Nvdimm.Find"/> accepts) of a booted machine; throws when absent.</summary>
    public static PmemDevice Pmem(this Machine machine, string name = "pmem0") =>
        Nvdimm.Find(machine, name) ?? throw new InvalidOperationException($"no pmem device {name}");
}
