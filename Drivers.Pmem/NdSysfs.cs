using KernelSim.Fs.Kernfs;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The libnvdimm sysfs tree (Documentation/ABI/testing/sysfs-bus-nvdimm; the attribute groups of bus.c, dimm_devs.c,
/// region_devs.c, namespace_devs.c, pfn_devs.c, btt_devs.c and acpi/nfit): the device directories below the platform's
/// firmware node, /sys/bus/nd/devices links, /sys/bus/nd/drivers/*/bind|unbind, and each device's "driver" link.
/// Built when /sys is first mounted and kept in step as devices come and go.
/// </summary>
public sealed class NdSysfs(NvdimmBus bus) : ISysfsContributor
{
    private const int RW = 0x1a4, RO = 0x124, ADMIN_RO = 0x100, WO = 0x80;
    private KernfsDir? _busDir, _devices, _drivers;

    /// <inheritdoc/>
    public void Populate(Sysfs sysfs)
    {
        var parent = bus.Platform switch
        {
            NvdimmPlatform.NfitTest => "devices/platform/nfit_test.0",
            NvdimmPlatform.Qemu => "devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00",
            _ => "devices/platform/e820_pmem",
        };
        _busDir = sysfs.Root.Dir(parent);
        var nd = sysfs.Root.Dir("bus/nd");
        _devices = nd.Dir("devices");
        _drivers = nd.Dir("drivers");
        foreach (var drv in NvdimmBus.Drivers)
        {
            var d = _drivers.Dir(drv);
            d.Attr("bind", WO, null, s => Ret(s, bus.Bind(drv, s)));
            d.Attr("unbind", WO, null, s => Ret(s, bus.Unbind(drv, s)));
        }
        foreach (var dev in bus.Devices) Add(dev);
        bus.DeviceAdded += Add;
        bus.DeviceRemoved += Remove;
        bus.DriverChanged += DriverLink;
    }

    private static long Ret(string s, int rc) => rc < 0 ? rc : s.Length;

    private static string Hex(ulong v) => v == 0 ? "0" : $"0x{v:x}";

    private void Add(NdDevice dev)
    {
        var parentDir = dev switch
        {
            NdBusDevice => _busDir!,
            NvdimmDimm or NdRegion => bus.Device.SysDir!,
            NdNamespace ns => ns.Region.SysDir!,
            NdClaim c => c.Region.SysDir!,
            _ => _busDir!,
        };
        var dir = parentDir.Add(new KernfsDir(dev.Name));
        dev.SysDir = dir;
        dir.Attr("devtype", RO, () => dev.DevType + "\n");
        dir.Add(new KernfsLink("subsystem", _devices!.Parent!));
        switch (dev)
        {
            case NdBusDevice: BusAttrs(dir); break;
            case NvdimmDimm d: DimmAttrs(dir, d); break;
            case NdRegion r: RegionAttrs(dir, r); break;
            case NdNamespace ns: NamespaceAttrs(dir, ns); break;
            case NdClaim c: ClaimAttrs(dir, c); break;
        }
        _devices!.Add(new KernfsLink(dev.Name, dir));
        DriverLink(dev);
    }

    private void Remove(NdDevice dev)
    {
        _devices!.Remove(dev.Name);
        dev.SysDir?.Parent?.Remove(dev.Name);
        dev.SysDir = null;
    }

    private void DriverLink(NdDevice dev)
    {
        if (dev.SysDir is not { } dir) return;
        dir.Remove("driver");
        if (dev.Driver != null) dir.Add(new KernfsLink("driver", _drivers!.Child(dev.Driver)!));
    }

    private void BusAttrs(KernfsDir dir)
    {
        var fw = bus.Firmware;
        dir.Attr("provider", RO, () => bus.Platform == NvdimmPlatform.E820 ? "e820\n" : "ACPI.NFIT\n");
        dir.Attr("commands", RO, () => fw is { SupportsArs: true } ? "ars_cap ars_start ars_status clear_error cmd_call \n" : "\n");
        dir.Attr("wait_probe", RO, () => "1\n");
    }

    private static void DimmAttrs(KernfsDir dir, NvdimmDimm d)
    {
        dir.Attr("commands", RO, () => d.Smart != null ? "smart smart_thresh get_size get_data set_data cmd_call \n" : "get_size get_data set_data \n");
        dir.Attr("state", RO, () => d.Driver != null && d.RegionsActive() ? "active\n" : "idle\n");
        dir.Attr("flags", RO, () => d.Smart != null ? "label \n" : "\n");
        var nfit = dir.Dir("nfit");
        nfit.Attr("handle", RO, () => Hex(d.Handle) + "\n");
        nfit.Attr("phys_id", RO, () => Hex(d.PhysId) + "\n");
        nfit.Attr("serial", RO, () => $"0x{d.Serial:x8}\n");
        nfit.Attr("family", RO, () => "0\n");
        nfit.Attr("flags", RO, () => "\n");
    }

    private void RegionAttrs(KernfsDir dir, NdRegion r)
    {
        dir.Attr("size", RO, () => $"{r.Size}\n");
        dir.Attr("align", RO, () => Hex(r.Align) + "\n");
        dir.Attr("available_size", RO, () => $"{r.AvailableSize}\n");
        dir.Attr("max_available_extent", RO, () => $"{r.MaxAvailableExtent}\n");
        dir.Attr("namespace_seed", RO, () => (r.NsSeed?.Name ?? "") + "\n");
        dir.Attr("pfn_seed", RO, () => (r.PfnSeed?.Name ?? "") + "\n");
        dir.Attr("dax_seed", RO, () => (r.DaxSeed?.Name ?? "") + "\n");
        dir.Attr("btt_seed", RO, () => (r.BttSeed?.Name ?? "") + "\n");
        dir.Attr("nstype", RO, () => $"{(r.Labelled ? 5 : 4)}\n");
        dir.Attr("mappings", RO, () => $"{r.Mappings.Count}\n");
        foreach (var m in r.Mappings) dir.Attr($"mapping{m.Position}", RO, () => $"{m.Dimm.Name},{m.Start},{m.Size},{m.Position}\n");
        dir.Attr("badblocks", RO, () => r.Driver != null ? r.Bb.Show() : ShowResult.Fail(-Errno.ENXIO));
        dir.Attr("resource", ADMIN_RO, () => $"0x{r.Start:x}\n");
        dir.Attr("persistence_domain", RO, () => bus.Platform == NvdimmPlatform.NfitTest ? "cpu_cache\n" : "\n");
        dir.Attr("init_namespaces", RO, () => r.Driver != null ? $"{r.InitNamespaces.Active}/{r.InitNamespaces.Count}\n" : ShowResult.Fail(-Errno.ENXIO));
        dir.Attr("read_only", RW, () => r.ReadOnly ? "1\n" : "0\n", s => bus.RegionReadOnlyStore(r, s));
        dir.Attr("numa_node", RO, () => "0\n");
    }

    private void NamespaceAttrs(KernfsDir dir, NdNamespace ns)
    {
        dir.Attr("nstype", RO, () => $"{ns.NsType}\n");
        dir.Attr("size", ns.IsIo ? RO : RW, () => $"{ns.Size}\n", ns.IsIo ? null : s => bus.NamespaceSizeStore(ns, s));
        dir.Attr("mode", RO, () => ns.ModeText + "\n");
        dir.Attr("holder", RO, () => (ns.Claim?.Name ?? "") + "\n");
        dir.Attr("holder_class", RW, () => ns.ClaimClass + "\n", s => bus.NamespaceHolderClassStore(ns, s));
        dir.Attr("force_raw", RW, () => ns.ForceRaw ? "1\n" : "0\n", s => bus.NamespaceForceRawStore(ns, s));
        dir.Attr("resource", ADMIN_RO, () => ns.Size == 0 ? ShowResult.Fail(-Errno.ENXIO) : $"0x{ns.Start:x}\n");
        dir.Attr("numa_node", RO, () => "0\n");
        if (ns.IsIo) return;
        dir.Attr("uuid", RW, () => (ns.Uuid != null ? NvdimmBus.UuidText(ns.Uuid) : "") + "\n", s => bus.NamespaceUuidStore(ns, s));
        dir.Attr("alt_name", RW, () => ns.AltName + "\n", s => bus.NamespaceAltNameStore(ns, s));
        dir.Attr("sector_size", RW, () => SizeSelect(ns.LbaSize, [512, 4096]), s => bus.NamespaceSectorSizeStore(ns, s));
    }

    /// <summary>nd_size_select_show: each supported size, the current one in brackets, each followed by a space, then a newline.</summary>
    private static string SizeSelect(ulong current, ulong[] supported) =>
        string.Concat(supported.Select(v => v == current ? $"[{v}] " : $"{v} ")) + "\n";

    private void ClaimAttrs(KernfsDir dir, NdClaim c)
    {
        dir.Attr("namespace", RW, () => (c.Ns?.Name ?? "") + "\n", s => bus.ClaimNamespaceStore(c, s));
        dir.Attr("uuid", RW, () => (c.Uuid != null ? NvdimmBus.UuidText(c.Uuid) : "") + "\n", s => bus.ClaimUuidStore(c, s));
        dir.Attr("numa_node", RO, () => "0\n");
        if (c.Kind == NdClaimKind.Btt)
        {
            dir.Attr("sector_size", RW, () => SizeSelect(c.LbaSize, NvdimmBus.BttLbaSizes), s => bus.ClaimSectorSizeStore(c, s));
            // size_show: nd_btt->size = nlba · sector_size while bound ("no size to convey if the btt instance is disabled").
            dir.Attr("size", RO, () => c.Driver != null && c.Btt is { } btt ? $"{btt.Nlba * btt.SectorSize}\n" : ShowResult.Fail(-Errno.ENXIO));
            return;
        }
        dir.Attr("mode", RW, () => c.Mode switch { NdPfnMode.PFN_MODE_RAM => "ram\n", NdPfnMode.PFN_MODE_PMEM => "pmem\n", _ => "none\n" }, s => bus.ClaimModeStore(c, s));
        dir.Attr("align", RW, () => $"{c.Align}\n", s => bus.ClaimAlignStore(c, s));
        dir.Attr("supported_alignments", RO, () => SizeSelect(0, NvdimmBus.SupportedAlignments));
        dir.Attr("resource", ADMIN_RO, () => c.Driver != null && c.Sb != null && c.Ns != null ? $"0x{c.Ns.Start + c.Sb.StartPad + c.Sb.DataOff:x}\n" : ShowResult.Fail(-Errno.ENXIO));
        dir.Attr("size", RO, () => c.Driver != null && c.Sb != null && c.Ns != null ? $"{c.Ns.Size - c.Sb.StartPad - c.Sb.EndTrunc - c.Sb.DataOff}\n" : ShowResult.Fail(-Errno.ENXIO));
    }
}
