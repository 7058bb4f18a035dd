using System.Text;
using KernelSim.Fs.Kernfs;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The libnvdimm sysfs tree (Documentation/ABI/testing/sysfs-bus-nvdimm; the attribute groups of bus.c, dimm_devs.c,
/// region_devs.c, namespace_devs.c, pfn_devs.c, btt_devs.c and acpi/nfit): the device directories below the platform's
/// firmware node, /sys/bus/nd/devices links, /sys/bus/nd/drivers/*/bind|unbind, and each device's "driver" link.
/// Built when /sys is first mounted and kept in step as devices come and go. Each attribute gets the object it belongs
/// to (<see cref="KernfsDir.Attr{T}"/>), so its show and store are static lambdas: a machine's tree allocates nodes, not
/// closures and delegates.
/// </summary>
public sealed class NdSysfs(NvdimmBus bus) : ISysfsContributor
{
    private const int RW = 0x1a4, RO = 0x124, ADMIN_RO = 0x100, WO = 0x80;
    private KernfsDir? _busDir, _devices, _drivers, _root;

    /// <inheritdoc/>
    public void Populate(Sysfs sysfs)
    {
        var parent = bus.Platform switch
        {
            NvdimmPlatform.NfitTest => "devices/platform/nfit_test.0",
            NvdimmPlatform.Qemu => "devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00",
            _ => "devices/platform/e820_pmem",
        };
        _root = sysfs.Root;
        _busDir = sysfs.Root.Dir(parent);
        var nd = sysfs.Root.Dir("bus/nd");
        _devices = nd.Dir("devices");
        _drivers = nd.Dir("drivers");
        foreach (var drv in NvdimmBus.Drivers)
        {
            var d = _drivers.Dir(drv);
            d.Attr("bind", WO, (bus, drv), null, static (o, s) => Ret(s, o.bus.Bind(o.drv, s)));
            d.Attr("unbind", WO, (bus, drv), null, static (o, s) => Ret(s, o.bus.Unbind(o.drv, s)));
        }
        foreach (var dev in bus.Devices) Add(dev);
        bus.DeviceAdded += Add;
        bus.DeviceRemoved += Remove;
        bus.DriverChanged += DriverLink;
    }

    private static long Ret(string s, int rc) => rc < 0 ? rc : s.Length;

    /// <summary>The kernel's "%#lx" (lib/vsprintf.c number): the 0x prefix even for zero, unlike C libraries ("0x0").</summary>
    private static string Hex(ulong v) => $"0x{v:x}";

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
        // About the entries the directory gets (the common four, its group, driver and block): one list, not 4, 8, 16 ….
        dir.EnsureCapacity(dev switch { NdRegion => 28, NvdimmDimm => 16, _ => 20 });
        dev.SysDir = dir;
        // nd_device_attribute_group (devtype, modalias) belongs to the child devices; the bus device has none.
        if (dev is not NdBusDevice) dir.Attr("devtype", RO, dev, static d => d.DevType + "\n");
        if (ModaliasType(dev) != null) dir.Attr("modalias", RO, dev, static d => Modalias(ModaliasType(d)!.Value)); // fixed for a device
        dir.Attr("uevent", RW, dev, static d => Uevent(d), static (_, s) => s.Length);
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
        BlockDir(dev, dir);
    }

    /// <summary>
    /// to_nd_device_type for ND_DEVICE_MODALIAS_FMT ("nd:t%d"): ND_DEVICE_DIMM 1, ND_DEVICE_REGION_PMEM 2, ND_DEVICE_DAX_PMEM 7,
    /// and for a region's children (namespaces, pfn and btt devices) the region's nstype (4 or 5); the bus device has none.
    /// </summary>
    /// <summary>
    /// dev_uevent (drivers/base/core.c): MAJOR/MINOR/DEVNAME for a device with a dev_t (the nmem's), DEVTYPE from the
    /// device type's name (the bus device's type has none), DRIVER while bound, then nvdimm_bus_uevent's MODALIAS
    /// (nd:t0 for the bus device). Writes are accepted as synthetic events and change nothing here.
    /// </summary>
    private static string Uevent(NdDevice dev)
    {
        var sb = new System.Text.StringBuilder();
        if (dev is NvdimmDimm d) sb.Append($"MAJOR={NvdimmBus.NvdimmMajor}\nMINOR={d.Id}\nDEVNAME={d.Name}\n");
        if (dev is not NdBusDevice) sb.Append($"DEVTYPE={dev.DevType}\n");
        if (dev.Driver != null) sb.Append($"DRIVER={dev.Driver}\n");
        sb.Append($"MODALIAS=nd:t{ModaliasType(dev) ?? 0}\n");
        return sb.ToString();
    }

    /// <summary>"nd:t%d\n", the types there are as constant strings (ndctl reads every device's modalias).</summary>
    private static string Modalias(int type) => type switch
    {
        1 => "nd:t1\n",
        2 => "nd:t2\n",
        4 => "nd:t4\n",
        5 => "nd:t5\n",
        7 => "nd:t7\n",
        _ => $"nd:t{type}\n",
    };

    private static int? ModaliasType(NdDevice dev) => dev switch
    {
        NvdimmDimm => 1,
        NdRegion => 2,
        NdClaim { Kind: NdClaimKind.Dax } => 7,
        NdNamespace ns => ns.Region.Labelled ? 5 : 4,
        NdClaim c => c.Region.Labelled ? 5 : 4,
        _ => null,
    };

    /// <summary>
    /// The gendisk of an attached pmem device (device_add_disk → /sys/devices/…/namespaceX.Y/block/pmemX with the
    /// /sys/block/pmemX link, block/genhd.c): its badblocks attribute (disk_badblocks_show/store, 0644); both go when
    /// the driver releases the device (del_gendisk).
    /// </summary>
    private void BlockDir(NdDevice dev, KernfsDir dir)
    {
        // A btt device's disk (pmemRs) is its child too; the BTT gives it no badblocks table.
        var disk = dev switch { NdNamespace ns => ns.Pmem?.Disk, NdClaim c => c.Pmem?.Disk ?? c.Btt?.Disk, _ => null };
        var old = dir.Child("block") as KernfsDir;
        if (old != null)
        {
            foreach (var d in old.Children.ToArray()) _root!.Dir("block").Remove(d.Name);
            dir.Remove("block");
        }
        if (disk == null || dev.Driver == null) return;
        var bdir = dir.Dir("block").Dir(disk.Name);
        bdir.Attr("badblocks", RW, disk, static d => d.BadblocksShow(), static (d, s) => d.BadblocksStore(s));
        bdir.Attr("size", RO, disk, static d => $"{d.CapacitySectors}\n");
        _root!.Dir("block").Add(new KernfsLink(disk.Name, bdir));
    }

    private void BusAttrs(KernfsDir dir)
    {
        var fw = bus.Firmware;
        dir.Attr("provider", RO, bus, static b => b.Platform == NvdimmPlatform.E820 ? "e820\n" : "ACPI.NFIT\n");
        // commands_show over nd_desc->cmd_mask: acpi_nfit_init_dsms sets ND_CMD_CALL for every NFIT bus, ARS commands only when supported.
        dir.Attr("commands", RO, bus, static b => b.Firmware is not { } fw ? "\n" : fw.SupportsArs ? "ars_cap ars_start ars_status clear_error cmd_call \n" : "cmd_call \n");
        dir.Attr("wait_probe", RO, () => "1\n");
        if (fw != null)
        {
            // acpi_nfit_attribute_group: revision, dsm_mask, hw_error_scrub, and scrub only when ARS is supported.
            var nfit = dir.Dir("nfit");
            nfit.Attr("revision", RO, () => "1\n");
            nfit.Attr("dsm_mask", RO, bus, static b => Hex(b.BusDsmMask) + "\n");
            nfit.Attr("hw_error_scrub", RW, bus, static b => $"{(b.HwErrorScrub ? 1 : 0)}\n", static (b, s) => HwErrorScrubStore(b, s));
            if (fw.SupportsArs) nfit.Attr("scrub", RW, bus, static b => $"{b.ScrubCount}{(b.ArsInProgress ? "+" : "")}\n", static (b, s) => ScrubStore(b, s));
        }
        // nvdimm_bus_create_ndctl: the nd class device ndctl0 with its dev_t; a class device whose parent is on a bus lands
        // in the class's glue directory (get_device_parent, drivers/base/core.c): ndbus0/nd/ndctl0.
        var ctl = dir.Dir("nd").Dir("ndctl0");
        var devt = BusDevt;
        ctl.Attr("dev", RO, static () => BusDevt + "\n");
        ctl.Attr("uevent", RW, () => $"MAJOR={NvdimmBus.NvdimmBusMajor}\nMINOR=0\nDEVNAME=ndctl0\n", s => s.Length);
        ctl.Add(new KernfsLink("device", dir));
        var cls = _root!.Dir("class/nd");
        ctl.Add(new KernfsLink("subsystem", cls));
        cls.Add(new KernfsLink("ndctl0", ctl));
        _root.Dir("dev/char").Add(new KernfsLink(devt, ctl));
    }

    /// <summary>The bus's dev_t text, MAJOR:MINOR of /dev/ndctl0.</summary>
    private static readonly string BusDevt = $"{NvdimmBus.NvdimmBusMajor}:0";

    /// <summary>scrub_store (acpi/nfit/core.c): kstrtol, only 1 (−EINVAL otherwise), then acpi_nfit_ars_rescan's result.</summary>
    private static long ScrubStore(NvdimmBus bus, string s)
    {
        var rc = KstrToL(s, out var v);
        if (rc < 0) return rc;
        if (v != 1) return -Errno.EINVAL;
        rc = bus.ArsStart();
        return rc < 0 ? rc : s.Length;
    }

    /// <summary>hw_error_scrub_store: kstrtoul; 0 = HW_ERROR_SCRUB_OFF, 1 = HW_ERROR_SCRUB_ON, else −EINVAL.</summary>
    private static long HwErrorScrubStore(NvdimmBus bus, string s)
    {
        var rc = KstrToL(s, out var v);
        if (rc < 0) return rc;
        if (v is not (0 or 1)) return -Errno.EINVAL;
        bus.HwErrorScrub = v == 1;
        return s.Length;
    }

    private static int KstrToL(string s, out long v)
    {
        v = 0;
        var neg = s.StartsWith('-');
        var rc = NvdimmBus.KstrToUll(neg ? s[1..] : s, out var u);
        if (rc < 0) return rc;
        if (u > long.MaxValue) return -Errno.ERANGE;
        v = neg ? -(long)u : (long)u;
        return 0;
    }

    private void DimmAttrs(KernfsDir dir, NvdimmDimm d)
    {
        dir.Attr("commands", RO, d, static d => d.Smart != null ? "smart smart_thresh get_size get_data set_data cmd_call \n" : "cmd_call \n");
        // dev->devt = MKDEV(nvdimm_major, nvdimm->id): /dev/nmemN and its /sys/dev/char link.
        var devt = $"{NvdimmBus.NvdimmMajor}:{d.Id}";
        dir.Attr("dev", RO, devt, static t => t + "\n");
        _root!.Dir("dev/char").Add(new KernfsLink(devt, dir));
        // state_show reads nvdimm->busy, taken by init_active_labels only for a dimm with label data (an ndd): a label-less
        // dimm (QEMU without label-size) stays "idle" under an active region.
        dir.Attr("state", RO, d, static d => d.Driver != null && d.Regions.Any(r => r.Driver != null && r.Labelled) ? "active\n" : "idle\n");
        dir.Attr("flags", RO, d, static d => d.Smart != null ? "label \n" : "\n");
        var nfit = dir.Dir("nfit");
        nfit.Attr("handle", RO, d, static d => Hex(d.Handle) + "\n");
        nfit.Attr("phys_id", RO, d, static d => Hex(d.PhysId) + "\n");
        nfit.Attr("serial", RO, d, static d => $"0x{d.Serial:x8}\n");
        nfit.Attr("family", RO, () => "0\n");
        nfit.Attr("id", RO, d, static d => $"8086-{d.Serial:x8}\n");
        nfit.Attr("dsm_mask", RO, d, static d => Hex(d.DsmMask) + "\n");
        nfit.Attr("flags", RO, () => "\n");
    }

    private void RegionAttrs(KernfsDir dir, NdRegion r)
    {
        dir.Attr("size", RO, r, static r => $"{r.Size}\n");
        dir.Attr("align", RW, r, static r => Hex(r.Align) + "\n", static (r, s) => RegionAlignStore(r, s));
        dir.Attr("available_size", RO, r, static r => $"{r.AvailableSize}\n");
        dir.Attr("max_available_extent", RO, r, static r => $"{r.MaxAvailableExtent}\n");
        dir.Attr("namespace_seed", RO, r, static r => (r.NsSeed?.Name ?? "") + "\n");
        dir.Attr("pfn_seed", RO, r, static r => (r.PfnSeed?.Name ?? "") + "\n");
        dir.Attr("dax_seed", RO, r, static r => (r.DaxSeed?.Name ?? "") + "\n");
        dir.Attr("btt_seed", RO, r, static r => (r.BttSeed?.Name ?? "") + "\n");
        dir.Attr("nstype", RO, r, static r => $"{(r.Labelled ? 5 : 4)}\n");
        dir.Attr("mappings", RO, r, static r => $"{r.Mappings.Count}\n");
        if (r.Labelled) dir.Attr("set_cookie", RO, r, static r => $"0x{r.SetCookie:x}\n");
        foreach (var m in r.Mappings) dir.Attr($"mapping{m.Position}", RO, m, static m => $"{m.Dimm.Name},{m.Start},{m.Size},{m.Position}\n");
        dir.Attr("badblocks", RO, r, static r => r.Driver != null ? r.Bb.Show() : ShowResult.Fail(-Errno.ENXIO));
        dir.Attr("resource", ADMIN_RO, r, static r => $"0x{r.Start:x}\n");
        // region_visible hides persistence_domain unless ND_REGION_PERSIST_CACHE or _MEMCTRL is set; QEMU's NFIT sets neither.
        if (bus.Platform != NvdimmPlatform.Qemu)
            dir.Attr("persistence_domain", RO, bus, static b => b.Platform == NvdimmPlatform.NfitTest ? "cpu_cache\n" : "\n");
        // deep_flush: region_visible makes it 0444 when nvdimm_has_flush is 0 (QEMU's NFIT has no flush hints); nfit_test's
        // flush hints (0644, deep_flush_store) and e820's −ENXIO (no mappings, hidden) are not modelled yet.
        if (bus.Platform == NvdimmPlatform.Qemu) dir.Attr("deep_flush", RO, () => "0\n");
        dir.Attr("init_namespaces", RO, r, static r => r.Driver != null ? $"{r.InitNamespaces.Active}/{r.InitNamespaces.Count}\n" : ShowResult.Fail(-Errno.ENXIO));
        dir.Attr("read_only", RW, r, static r => r.ReadOnly ? "1\n" : "0\n", static (r, s) => r.Bus.RegionReadOnlyStore(r, s));
        dir.Attr("numa_node", RO, () => "0\n");
        dir.Attr("target_node", RO, () => "0\n");
    }

    /// <summary>
    /// align_store (region_devs.c): kstrtoul; val / max(1, mappings) must be a power of two of at least PAGE_SIZE, divide
    /// evenly and val may not exceed the region size (−EINVAL otherwise); then nd_region->align = val.
    /// </summary>
    private static long RegionAlignStore(NdRegion r, string s)
    {
        var rc = NvdimmBus.KstrToUll(s, out var val);
        if (rc < 0) return rc;
        var mappings = (ulong)Math.Max(1, r.Mappings.Count);
        var dpa = val / mappings;
        if (!ulong.IsPow2(dpa) || dpa < 4096 || val > r.Size || val % mappings != 0) return -Errno.EINVAL;
        r.Align = val;
        return s.Length;
    }

    private void NamespaceAttrs(KernfsDir dir, NdNamespace ns)
    {
        dir.Attr("nstype", RO, ns, static ns => $"{ns.NsType}\n");
        dir.Attr("size", ns.IsIo ? RO : RW, ns, static ns => $"{ns.Size}\n", ns.IsIo ? null : static (ns, s) => ns.Region.Bus.NamespaceSizeStore(ns, s));
        dir.Attr("mode", RO, ns, static ns => ns.ModeText + "\n");
        dir.Attr("holder", RO, ns, static ns => ns.Claim?.NameLine ?? "\n");
        dir.Attr("holder_class", RW, ns, static ns => ns.ClaimClass + "\n", static (ns, s) => ns.Region.Bus.NamespaceHolderClassStore(ns, s));
        dir.Attr("force_raw", RW, ns, static ns => ns.ForceRaw ? "1\n" : "0\n", static (ns, s) => ns.Region.Bus.NamespaceForceRawStore(ns, s));
        dir.Attr("resource", ADMIN_RO, ns, static ns => ns.Size == 0 ? ShowResult.Fail(-Errno.ENXIO) : $"0x{ns.Start:x}\n");
        dir.Attr("numa_node", RO, () => "0\n");
        dir.Attr("target_node", RO, () => "0\n");
        if (ns.IsIo) return;
        dir.Attr("uuid", RW, ns, static ns => (ns.Uuid != null ? NvdimmBus.UuidText(ns.Uuid) : "") + "\n", static (ns, s) => ns.Region.Bus.NamespaceUuidStore(ns, s));
        dir.Attr("alt_name", RW, ns, static ns => ns.AltName + "\n", static (ns, s) => ns.Region.Bus.NamespaceAltNameStore(ns, s));
        dir.Attr("sector_size", RW, ns, static ns => SizeSelect(ns.LbaSize, NamespaceLbaSizes), static (ns, s) => ns.Region.Bus.NamespaceSectorSizeStore(ns, s));
    }

    /// <summary>nd_size_select_show: each supported size, the current one in brackets, each followed by a space, then a newline.</summary>
    private static string SizeSelect(ulong current, ulong[] supported)
    {
        // One builder instead of a LINQ projection and a string per size (ndctl reads these on every scan).
        var sb = new StringBuilder(supported.Length * 12 + 1);
        foreach (var v in supported)
        {
            if (v == current) sb.Append('[').Append(v).Append("] ");
            else sb.Append(v).Append(' ');
        }
        return sb.Append('\n').ToString();
    }

    /// <summary>pmem_lbasize_supported (namespace_devs.c, sector_size_show of a pmem namespace): 512 and 4096.</summary>
    private static readonly ulong[] NamespaceLbaSizes = [512, 4096];

    private void ClaimAttrs(KernfsDir dir, NdClaim c)
    {
        dir.Attr("namespace", RW, c, static c => (c.Ns?.Name ?? "") + "\n", static (c, s) => c.Region.Bus.ClaimNamespaceStore(c, s));
        dir.Attr("uuid", RW, c, static c => (c.Uuid != null ? NvdimmBus.UuidText(c.Uuid) : "") + "\n", static (c, s) => c.Region.Bus.ClaimUuidStore(c, s));
        dir.Attr("numa_node", RO, () => "0\n");
        dir.Attr("target_node", RO, () => "0\n");
        if (c.Kind == NdClaimKind.Btt)
        {
            // log_zero_flags_show (btt_devs.c): always "Y", telling ndctl the BTT log's zero-flags handling is fixed.
            dir.Attr("log_zero_flags", RO, () => "Y\n");
            dir.Attr("sector_size", RW, c, static c => SizeSelect(c.LbaSize, NvdimmBus.BttLbaSizes), static (c, s) => c.Region.Bus.ClaimSectorSizeStore(c, s));
            // size_show: nd_btt->size = nlba · sector_size while bound ("no size to convey if the btt instance is disabled").
            dir.Attr("size", RO, c, static c => c.Driver != null && c.Btt is { } btt ? $"{btt.Nlba * btt.SectorSize}\n" : ShowResult.Fail(-Errno.ENXIO));
            return;
        }
        dir.Attr("mode", RW, c, static c => c.Mode switch { NdPfnMode.PFN_MODE_RAM => "ram\n", NdPfnMode.PFN_MODE_PMEM => "pmem\n", _ => "none\n" }, static (c, s) => c.Region.Bus.ClaimModeStore(c, s));
        dir.Attr("align", RW, c, static c => $"{c.Align}\n", static (c, s) => c.Region.Bus.ClaimAlignStore(c, s));
        dir.Attr("supported_alignments", RO, static () => SizeSelect(0, NvdimmBus.SupportedAlignments));
        dir.Attr("resource", ADMIN_RO, c, static c => c.Driver != null && c.Sb != null && c.Ns != null ? $"0x{c.Ns.Start + c.Sb.StartPad + c.Sb.DataOff:x}\n" : ShowResult.Fail(-Errno.ENXIO));
        dir.Attr("size", RO, c, static c => c.Driver != null && c.Sb != null && c.Ns != null ? $"{c.Ns.Size - c.Sb.StartPad - c.Sb.EndTrunc - c.Sb.DataOff}\n" : ShowResult.Fail(-Errno.ENXIO));
    }
}
