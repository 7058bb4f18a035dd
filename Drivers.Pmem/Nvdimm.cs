using KernelSim.Block;
using KernelSim.Kernel;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// Probing persistent memory on a booted machine: the NVDIMM bus (NFIT, or legacy e820), one region and its
/// namespaces (nd_pmem_probe → pmem_attach_disk), each registered in the physical map and added as /dev/pmemN.
/// The bus is a singleton of the machine's container, registered by
/// <see cref="PmemBuilderExtensions.AddPmem(MachineBuilder, Action{PmemOptions})"/> and probed at boot.
/// </summary>
public static class Nvdimm
{
    /// <summary>
    /// Probe persistent memory described by <paramref name="options"/> (a 64 MiB fsdax namespace when none is
    /// listed), adding each namespace's disk to <paramref name="genhd"/>. Throws <see cref="ArgumentException"/> for a
    /// layout that cannot exist (setup error).
    /// </summary>
    internal static NvdimmBus Probe(Machine machine, Genhd genhd, PmemOptions options)
    {
        ArgumentNullException.ThrowIfNull(machine);
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
            var r = genhd.AddDisk(dev.Disk);
            if (r < 0) throw new InvalidOperationException($"add_disk {diskName}: {Uapi.Errno.Describe(r)}");
            phys += spec.Size;
        }
        region.NotifyRevalidatePoison();
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

    /// <summary>The pmem device named "pmem0", "/dev/pmem0" or "namespace0.0" on the machine's NVDIMM bus, or null.</summary>
    public static PmemDevice? Find(Machine machine, string name)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var bus = machine.NvdimmBus();
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

/// <summary>Composition helpers: boot a machine with persistent memory in one line, and find it again.</summary>
public static class PmemBuilderExtensions
{
    /// <summary>Attach a region holding <paramref name="namespaces"/> (one 64 MiB fsdax namespace when none) at boot.</summary>
    public static MachineBuilder AddPmem(this MachineBuilder builder, params PmemNamespaceSpec[] namespaces) =>
        builder.AddPmem(o => o.Namespaces.AddRange(namespaces));

    /// <summary>
    /// Attach persistent memory configured by <paramref name="configure"/>: registers the <see cref="NvdimmBus"/> as a
    /// container singleton, probed at boot. A second call on the same builder throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public static MachineBuilder AddPmem(this MachineBuilder builder, Action<PmemOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(NvdimmBus))) throw new InvalidOperationException("persistent memory already attached");
        var options = new PmemOptions();
        configure?.Invoke(options);
        builder.Services.AddSingleton(sp => Nvdimm.Probe(sp.GetRequiredService<Machine>(), sp.GetRequiredService<Genhd>(), options));
        builder.Services.AddSingleton(sp => new DaxBus(sp.GetRequiredService<Machine>()));
        return builder.OnBoot(m => m.Services.GetRequiredService<NvdimmBus>());
    }

    /// <summary>The machine's NVDIMM bus (resolved from <see cref="Machine.Services"/>), or null when built without pmem.</summary>
    public static NvdimmBus? NvdimmBus(this Machine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return machine.Services.GetService<NvdimmBus>();
    }

    /// <summary>The pmem device "pmem0" (or any name <see cref="Nvdimm.Find"/> accepts) of a booted machine; throws when absent.</summary>
    public static PmemDevice Pmem(this Machine machine, string name = "pmem0") =>
        Nvdimm.Find(machine, name) ?? throw new InvalidOperationException($"no pmem device {name}");
}
