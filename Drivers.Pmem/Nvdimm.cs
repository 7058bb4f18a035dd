using KernelSim.Block;
using KernelSim.Kernel;
using KernelSim.Uapi;
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
    /// Probe persistent memory described by <paramref name="options"/> (a 64 MiB fsdax namespace when none is listed):
    /// the bus (ndbus0, /dev/ndctl0), the DIMMs (nmemN, /dev/nmemN), one region per region spec at the next 16 MiB
    /// boundary, the labels of labelled platforms, and the info blocks of fsdax/devdax namespaces (as an earlier boot
    /// wrote them); then the nd drivers bind (nd_region_probe → namespaces → nd_pmem) and each disk is added to
    /// <paramref name="genhd"/>. On QEMU and e820 each namespace spec becomes its own region with one label-less
    /// namespace. Throws <see cref="ArgumentException"/> for a layout that cannot exist (setup error).
    /// </summary>
    internal static NvdimmBus Probe(Machine machine, Genhd genhd, PmemOptions options)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var regions = RegionSpecs(options);
        var zeroPage = machine.Kmalloc(Mm.PageDefs.PAGE_SIZE) ?? throw new InvalidOperationException("out of memory for ZERO_PAGE");
        var zeroPfn = machine.KernelMap.Pa(zeroPage)!.Value.Pfn;
        var bus = new NvdimmBus(machine, options, genhd, zeroPfn) { HwErrorScrub = options.HwErrorScrub };
        if (options.RegionBase % Mm.PageDefs.PAGE_SIZE != 0) throw new ArgumentException("region base must be page aligned");
        var labelled = options.Platform == NvdimmPlatform.NfitTest;
        var at = options.RegionBase;
        var pre = new List<(NdRegion R, ulong Start, PmemNamespaceSpec Spec, byte[] Uuid)>();
        foreach (var rs in regions)
        {
            ulong sum = 0;
            foreach (var ns in rs.Namespaces)
            {
                if (ns.Size == 0 || ns.Size % ns.Align != 0 && ns.Mode is NamespaceMode.Fsdax or NamespaceMode.Devdax || ns.Size % Mm.PageDefs.PAGE_SIZE != 0)
                    throw new ArgumentException($"namespace size {ns.Size} must be a non-zero multiple of the page size (and of {ns.Align} for fsdax)");
                if (ns.SectorSize is not (512 or 4096)) throw new ArgumentException("sector size must be 512 or 4096");
                if (ns.Mode == NamespaceMode.Sector && ns.Size < BttConst.ARENA_MIN_SIZE + BttConst.V1_INITIAL_OFFSET)
                    throw new ArgumentException($"a sector-mode namespace needs at least 16 MiB + 4 KiB for its BTT arena, not {ns.Size} bytes");
                if (!NvdimmBus.SupportedAlignments.Contains(ns.Align)) throw new ArgumentException($"align {ns.Align} is not 4K, 2M or 1G");
                sum += ns.Size;
            }
            var size = Math.Max(rs.Size, sum);
            if (size == 0 || size % Mm.PageDefs.PAGE_SIZE != 0) throw new ArgumentException("region size must be a non-zero page multiple");
            var ways = options.Platform == NvdimmPlatform.E820 ? 0 : Math.Max(1, rs.Dimms);
            if (ways > 0 && size % ((ulong)ways * Mm.PageDefs.PAGE_SIZE) != 0) throw new ArgumentException("region size must divide among its DIMMs in pages");
            var maps = new List<NdMapping>();
            for (var w = 0; w < ways; w++)
            {
                var id = bus.Dimms.Count;
                // QEMU's NFIT (hw/acpi/nvdimm.c nvdimm_slot_to_handle) gives slot + 1; nfit_test packs its handle fields.
                var handle = options.Platform == NvdimmPlatform.Qemu ? (uint)id + 1 : (uint)(id & 1) | (uint)((id >> 1) << 4) | (uint)(bus.Regions.Count << 8);
                var dimm = bus.AddDimm(handle: handle, physId: (ushort)id, serial: 0x5a5a0000u + (uint)id);
                if (options.Platform == NvdimmPlatform.NfitTest) dimm.Smart = new NdIntelSmart();
                maps.Add(new NdMapping(dimm, 0, size / (ulong)ways, w));
            }
            var region = bus.AddRegion(at, size, maps, labelled);
            foreach (var m in maps) m.Dimm.Regions.Add(region);
            var nsStart = at;
            if (labelled) region.Labels.EnsureCapacity(rs.Namespaces.Count); // one array, not one per doubling
            for (var i = 0; i < rs.Namespaces.Count; i++)
            {
                var spec = rs.Namespaces[i];
                var uuid = (spec.Uuid ?? DefaultUuid(region.Id, i)).ToByteArray(true);
                if (labelled) region.Labels.Add(new NdLabel(uuid, spec.AltName, nsStart - at, spec.Size, spec.SectorSize));
                pre.Add((region, nsStart, spec, labelled ? uuid : new byte[16]));
                nsStart += spec.Size;
            }
            at = (at + size + (16UL << 20) - 1) / (16UL << 20) * (16UL << 20);
        }
        // Boot-time probing is not part of a trace session (ftrace is started after boot).
        var tracing = machine.Tracer.Enabled;
        machine.Tracer.Enabled = false;
        if (options.BootBlocks.Length < pre.Count) options.BootBlocks = new Mm.SharedPages?[pre.Count];
        var shared = options.BootBlocks;
        for (var i = 0; i < pre.Count; i++)
        {
            var (r, start, spec, uuid) = pre[i];
            WriteBootInfoBlock(machine, r, start, spec, uuid, NvdimmBus.InfoBlockScratch, ref shared[i]);
        }
        bus.Register(bus.Device);
        foreach (var d in bus.Dimms) bus.Register(d);
        foreach (var r in bus.Regions) bus.Register(r);
        machine.Tracer.Enabled = tracing;
        bus.CreateControlDevices(machine.Services.GetRequiredService<DevTmpFs>());
        return bus;
    }

    /// <summary>
    /// The regions to build: <see cref="PmemOptions.Regions"/>, or one from the flat namespace list (one per namespace on
    /// label-less platforms); an empty list means one 64 MiB namespace. Only reads the options: machines of one image
    /// probe with the same options, possibly on several threads.
    /// </summary>
    private static List<PmemRegionSpec> RegionSpecs(PmemOptions options)
    {
        if (options.Regions.Count > 0)
            return [.. options.Regions.Select(r => r.Namespaces.Count == 0 && r.Size == 0 ? r with { Namespaces = [new PmemNamespaceSpec(64UL << 20)] } : r)];
        List<PmemNamespaceSpec> namespaces = options.Namespaces.Count > 0 ? options.Namespaces : [new PmemNamespaceSpec(64UL << 20)];
        if (options.Platform == NvdimmPlatform.NfitTest) return [new PmemRegionSpec(options.RegionSize) { Namespaces = [.. namespaces] }];
        return [.. namespaces.Select((ns, i) => new PmemRegionSpec(i == 0 ? Math.Max(options.RegionSize, ns.Size) : ns.Size) { Namespaces = [ns] })];
    }

    /// <summary>A fixed uuid per region and namespace index (what an earlier ndctl create-namespace chose).</summary>
    public static Guid DefaultUuid(int region, int index) =>
        // "{region:x8}-0000-4000-8000-{index:x12}", built from its fields (no text formatted and parsed per boot).
        new(region, 0, 0x4000, 0x80, 0x00, 0, 0, (byte)(index >> 24), (byte)(index >> 16), (byte)(index >> 8), (byte)index);

    /// <summary>
    /// The info block an earlier boot's nd_pfn_init left for an fsdax or devdax namespace (same layout and checksum), or
    /// the BTT arenas btt_init wrote for a sector-mode one (sector size from the namespace spec, parent_uuid = the namespace uuid).
    /// </summary>
    private static void WriteBootInfoBlock(Machine machine, NdRegion r, ulong start, PmemNamespaceSpec spec, byte[] parentUuid, Span<byte> block,
        ref Mm.SharedPages? shared)
    {
        if (spec.Mode == NamespaceMode.Sector)
        {
            var io = new Nsio(machine, r, $"namespace{r.Id}.{(start - r.Start) >> 20}", start, spec.Size);
            var btt = DefaultUuid(r.Id, 0x200 + (int)((start - r.Start) >> 20));
            var rc = Btt.WriteLayout(machine, io, spec.SectorSize, btt, new Guid(parentUuid, bigEndian: true));
            if (rc < 0) throw new ArgumentException($"sector-mode namespace at 0x{start:x}: BTT layout failed ({Errno.Describe(rc)})");
            return;
        }
        if (spec.Mode is not (NamespaceMode.Fsdax or NamespaceMode.Devdax)) return;
        var mode = spec.MemmapOnDevice ? NdPfnMode.PFN_MODE_PMEM : NdPfnMode.PFN_MODE_RAM;
        var align = Math.Max(spec.Align, NvdimmBus.MemremapCompatAlign);
        var endTrunc = start + spec.Size - (start + spec.Size) / align * align;
        var npfns = (spec.Size - NvdimmBus.InfoBlockReserve) >> Mm.PageDefs.PAGE_SHIFT;
        var offset = mode == NdPfnMode.PFN_MODE_PMEM
            ? (start + NvdimmBus.InfoBlockReserve + 64 * npfns + align - 1) / align * align - start
            : (start + NvdimmBus.InfoBlockReserve + align - 1) / align * align - start;
        if (offset >= spec.Size - endTrunc) throw new ArgumentException($"namespace of {spec.Size} bytes is too small for its {offset}-byte info block and memmap");
        var sb = new PfnSb
        {
            Signature = spec.Mode == NamespaceMode.Devdax ? PfnSb.DAX_SIG : PfnSb.PFN_SIG,
            Mode = mode,
            DataOff = offset,
            Npfns = (spec.Size - offset - endTrunc) >> Mm.PageDefs.PAGE_SHIFT,
            Uuid = DefaultUuid(r.Id, 0x100 + (int)((start - r.Start) >> 20)).ToByteArray(true),
            ParentUuid = parentUuid,
            EndTrunc = (uint)endTrunc,
            Align = (uint)spec.Align,
        };
        sb.Seal();
        sb.WriteTo(block);
        // Every machine of one image (or one builder) writes the same block here: its page is shared copy-on-write.
        shared = machine.Phys.PokeBytesShared(new Mm.PhysAddr(start + PfnSb.Offset), block, shared);
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

    /// <summary>The attached pmem device named "pmem0", "/dev/pmem0" or "namespace0.0" on the machine's NVDIMM bus, or null.</summary>
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
        builder.Services.AddSingleton<Fs.Kernfs.ISysfsContributor>(sp => new NdSysfs(sp.GetRequiredService<NvdimmBus>()));
        builder.Services.AddSingleton(sp => new DaxBus(sp.GetRequiredService<Machine>()));
        builder.Services.AddSingleton<Fs.Kernfs.ISysfsContributor>(sp => sp.GetRequiredService<DaxBus>());
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
