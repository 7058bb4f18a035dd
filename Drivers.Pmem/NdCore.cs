using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The libnvdimm device model on the bus (drivers/nvdimm/bus.c, region_devs.c, region.c, namespace_devs.c, claim.c,
/// pfn_devs.c, pmem.c nd_pmem_probe/nd_pmem_remove): device registration, driver binding and unbinding, the seeds a
/// region keeps, and the asynchronous removal of an idle claim device (a work item on the machine's work queue).
/// Registration probes at once (the kernel's nd_device_register is asynchronous but flushed by
/// wait_nvdimm_bus_probe_idle before the next sysfs operation).
/// </summary>
public sealed partial class NvdimmBus
{
    /// <summary>ND_MIN_NAMESPACE_SIZE (PAGE_SIZE since 5.x).</summary>
    public const ulong ND_MIN_NAMESPACE_SIZE = PageDefs.PAGE_SIZE;

    /// <summary>nd_info_block_reserve(): ALIGN(SZ_8K, PAGE_SIZE).</summary>
    public const ulong InfoBlockReserve = 8192;

    private readonly List<NdDevice> _devices = new(16); // a booted bus lists about ten devices: no regrowth at boot
    private readonly List<NvdimmDimm> _dimms = [];

    /// <summary>The DIMMs (nmemN).</summary>
    public IReadOnlyList<NvdimmDimm> Dimms => _dimms;

    /// <summary>Every registered device of the bus in registration order (what /sys/bus/nd/devices lists).</summary>
    public IReadOnlyList<NdDevice> Devices => _devices;

    /// <summary>The drivers registered on the nd bus: nd_pmem serves namespaces and pfn/btt devices, dax_pmem dax devices.</summary>
    public static readonly string[] Drivers = ["nd_bus", "nvdimm", "nd_region", "nd_pmem", "dax_pmem"];

    /// <summary>Raised after a device is registered (sysfs adds its directory).</summary>
    internal event Action<NdDevice>? DeviceAdded;

    /// <summary>Raised after a device is unregistered (sysfs removes its directory).</summary>
    internal event Action<NdDevice>? DeviceRemoved;

    /// <summary>Raised after a device was bound to or unbound from a driver (the "driver" link).</summary>
    internal event Action<NdDevice>? DriverChanged;

    /// <summary>bus_find_device_by_name: the registered device called <paramref name="name"/>, or null.</summary>
    public NdDevice? FindDevice(string name) => _devices.FirstOrDefault(d => d.Name == name);

    private void Log(NdDevice dev, string msg) => Machine.State.Printk($"{dev.Driver ?? "nd"} {dev.Name}: {msg}");

    internal NvdimmDimm AddDimm(uint handle, ushort physId, uint serial)
    {
        var d = new NvdimmDimm(_dimms.Count, handle, physId, serial);
        _dimms.Add(d);
        return d;
    }

    /// <summary>
    /// The driver that matches a device (nd_bus_match on the driver's type mask): btt and pfn devices take their region's
    /// namespace type, so nd_pmem; an nd_dax is ND_DEVICE_DAX_PMEM, dax_pmem's (drivers/dax/pmem.c).
    /// </summary>
    private static string? MatchingDriver(NdDevice dev) => dev switch
    {
        NdBusDevice => "nd_bus",
        NvdimmDimm => "nvdimm",
        NdRegion => "nd_region",
        NdNamespace => "nd_pmem",
        NdClaim { Kind: NdClaimKind.Pfn or NdClaimKind.Btt } => "nd_pmem",
        NdClaim { Kind: NdClaimKind.Dax } => "dax_pmem",
        _ => null,
    };

    private int _probeDepth;
    private readonly Queue<NdDevice> _asyncProbes = new();

    /// <summary>
    /// nd_device_register + device_add: list it, give it sysfs, and let a matching driver probe it — at once, or, when
    /// registered from inside another probe, right after that probe returns (nd_async_device_register runs after it).
    /// </summary>
    internal void Register(NdDevice dev, bool probe = true)
    {
        dev.Registered = true;
        _devices.Add(dev);
        DeviceAdded?.Invoke(dev);
        if (!probe || MatchingDriver(dev) == null) return;
        if (_probeDepth > 0) _asyncProbes.Enqueue(dev);
        else DriverProbe(dev, MatchingDriver(dev)!);
    }

    /// <summary>nd_device_unregister(ND_SYNC): release the driver, remove from sysfs, free its id (the release method).</summary>
    internal void Unregister(NdDevice dev)
    {
        if (!dev.Registered) return;
        if (dev.Driver != null) ReleaseDriver(dev);
        dev.Registered = false;
        _devices.Remove(dev);
        switch (dev)
        {
            case NdNamespace ns:
                ns.Region._nsDevs.Remove(ns);
                if (!ns.IsIo) ns.Region.NsIda.Free(ns.Id);
                if (ns.Claim != null) ns.Claim.Ns = null;
                break;
            case NdClaim c:
                c.Region._claims.Remove(c);
                (c.Kind switch { NdClaimKind.Pfn => c.Region.PfnIda, NdClaimKind.Dax => c.Region.DaxIda, _ => c.Region.BttIda }).Free(c.Id);
                if (c.Ns != null && c.Ns.Claim == c) c.Ns.Claim = null; // nd_detach_ndns in the release method
                c.Ns = null;
                break;
        }
        DeviceRemoved?.Invoke(dev);
    }

    /// <summary>nd_device_unregister(ND_ASYNC): the same from a work item (async_schedule_domain).</summary>
    internal void UnregisterAsync(NdDevice dev) => Machine.WorkQueue.Schedule($"nd_async_device_unregister({dev.Name})", () => Unregister(dev));

    /// <summary>
    /// bind_store (drivers/base/bus.c): −ENODEV for an unknown device or a driver that does not match it, −EBUSY when
    /// it is bound, else the probe's result (0 or −errno, which the write returns).
    /// </summary>
    public int Bind(string driver, string devName)
    {
        var dev = FindDevice(devName.Trim());
        if (dev == null || MatchingDriver(dev) != driver) return -Errno.ENODEV;
        if (dev.Driver != null) return -Errno.EBUSY;
        return DriverProbe(dev, driver);
    }

    /// <summary>unbind_store: −ENODEV unless the device is bound to <paramref name="driver"/>; else device_release_driver, 0.</summary>
    public int Unbind(string driver, string devName)
    {
        var dev = FindDevice(devName.Trim());
        if (dev == null || dev.Driver != driver) return -Errno.ENODEV;
        if (dev is NdBusDevice) return -Errno.EOPNOTSUPP; // tearing the whole bus down is not modelled
        ReleaseDriver(dev);
        return 0;
    }

    /// <summary>nvdimm_bus_probe: the driver's probe, then nd_region_advance_seeds on 0 or −EOPNOTSUPP.</summary>
    private int DriverProbe(NdDevice dev, string driver)
    {
        dev.Driver = driver;
        int rc;
        _probeDepth++;
        using (Machine.Tracer.Fn("nvdimm_bus_probe", "nvdimm"))
        {
            rc = dev switch
            {
                NdBusDevice or NvdimmDimm => 0,
                NdRegion r => RegionProbe(r),
                NdNamespace ns => NamespaceProbe(ns),
                NdClaim c => ClaimProbe(c),
                _ => -Errno.ENODEV,
            };
        }
        _probeDepth--;
        if (rc != 0) dev.Driver = null;
        if ((rc == 0 || rc == -Errno.EOPNOTSUPP) && dev is NdNamespace or NdClaim) AdvanceSeeds(dev);
        if (rc == 0) DriverChanged?.Invoke(dev);
        else if (rc is not (-Errno.ENODEV or -Errno.ENXIO)) Machine.State.Printk($"{driver} {dev.Name}: probe with driver {driver} failed with error {rc}");
        while (_probeDepth == 0 && _asyncProbes.Count > 0)
        {
            var next = _asyncProbes.Dequeue();
            if (next.Registered && next.Driver == null) DriverProbe(next, MatchingDriver(next)!);
        }
        return rc;
    }

    /// <summary>device_release_driver → nvdimm_bus_remove → the driver's remove.</summary>
    private void ReleaseDriver(NdDevice dev)
    {
        switch (dev)
        {
            case NdRegion r:
                RegionRemove(r);
                break;
            case NdNamespace ns when ns.Pmem != null:
                ns.Pmem.Detach(Genhd);
                ns.Pmem = null;
                break;
            case NdClaim c when c.Pmem != null:
                c.Pmem.Detach(Genhd);
                c.Pmem = null;
                break;
            case NdClaim c when c.Btt != null:
                // nd_pmem_remove → nvdimm_namespace_detach_btt; the namespace's nsio is released with the btt device.
                c.Btt.Detach();
                c.Btt = null;
                break;
            case NdClaim c when c.DevDax != null:
                DaxPmemRemove(c);
                break;
        }
        dev.Driver = null;
        DriverChanged?.Invoke(dev);
    }

    // ---- regions ---------------------------------------------------------------------------------------------

    /// <summary>
    /// nd_region_probe: −ENXIO when a DIMM of the region is disabled ("nmemN: is disabled, failing probe"); else
    /// nd_region_register_namespaces (labels sorted by DPA, one zero-sized namespace when there are none, one
    /// nd_namespace_io spanning a label-less region; ns_seed = the first), then the btt, pfn and dax seeds, then the
    /// namespaces are probed (their async registration runs after the seeds got their ids).
    /// </summary>
    private int RegionProbe(NdRegion r)
    {
        foreach (var m in r.Mappings)
        {
            if (m.Dimm.Driver != null) continue;
            Log(r, $"{m.Dimm.Name}: is disabled, failing probe");
            return -Errno.ENXIO;
        }
        var devs = new List<NdNamespace>();
        if (!r.Labelled)
        {
            devs.Add(new NdNamespace(r, 0, io: true) { Start = r.Start, Size = r.Size });
        }
        else if (r.Labels.Count == 0)
        {
            devs.Add(NewPmemNamespace(r));
        }
        else
        {
            foreach (var l in r.Labels.Count == 1 ? (IEnumerable<NdLabel>)r.Labels : r.Labels.OrderBy(l => l.Offset)) // one label: no sort (OrderBy is stable)
            {
                var ns = NewPmemNamespace(r);
                ns.Uuid = (byte[])l.Uuid.Clone();
                ns.AltName = l.Name;
                ns.Start = r.Start + l.Offset;
                ns.Size = l.Size;
                ns.LbaSize = l.LbaSize;
                devs.Add(ns);
            }
        }
        r.NsSeed = devs[0];
        r.InitNamespaces = (devs.Count, devs.Count);
        r.BttSeed = NewClaim(r, NdClaimKind.Btt);
        r.PfnSeed = NewClaim(r, NdClaimKind.Pfn);
        r.DaxSeed = NewClaim(r, NdClaimKind.Dax);
        r.Driver = "nd_region"; // bound before the children register (their probes look at the region)
        r.NotifyRevalidatePoison();
        foreach (var ns in devs)
        {
            r._nsDevs.Add(ns);
            Register(ns, probe: false);
        }
        Register(r.BttSeed, probe: false);
        Register(r.PfnSeed, probe: false);
        Register(r.DaxSeed, probe: false);
        foreach (var ns in devs) _asyncProbes.Enqueue(ns);
        return 0;
    }

    /// <summary>nd_region_remove: unregister every child (namespaces and claim devices), clear the seeds.</summary>
    private void RegionRemove(NdRegion r)
    {
        foreach (var c in r._claims.ToArray()) Unregister(c);
        foreach (var ns in r._nsDevs.ToArray()) Unregister(ns);
        r.NsSeed = null;
        r.PfnSeed = r.DaxSeed = r.BttSeed = null;
    }

    private static readonly NdClaimKind[] PfnDaxKinds = [NdClaimKind.Pfn, NdClaimKind.Dax];

    /// <summary>nd_namespace_pmem_create: a zero-sized nd_namespace_pmem with the lowest free ns_ida id.</summary>
    private static NdNamespace NewPmemNamespace(NdRegion r) => new(r, r.NsIda.Alloc(), io: false) { Start = r.Start };

    /// <summary>nd_pfn_alloc / nd_dax_alloc / nd_btt_alloc + devinit: lowest free id, mode none, default align.</summary>
    private static NdClaim NewClaim(NdRegion r, NdClaimKind kind)
    {
        var ida = kind switch { NdClaimKind.Pfn => r.PfnIda, NdClaimKind.Dax => r.DaxIda, _ => r.BttIda };
        var c = new NdClaim(r, kind, ida.Alloc());
        r._claims.Add(c);
        return c;
    }

    /// <summary>
    /// nd_region_advance_seeds: a probed seed is replaced by a new one — the namespace seed (nd_region_create_ns_seed,
    /// not for label-less regions), the pfn/dax/btt seed, and the namespace seed when a claim device's namespace was it.
    /// </summary>
    private void AdvanceSeeds(NdDevice dev)
    {
        NdRegion r;
        NdNamespace? ns;
        if (dev is NdNamespace n) (r, ns) = (n.Region, n);
        else if (dev is NdClaim c) (r, ns) = (c.Region, c.Ns);
        else return;
        if (dev is NdClaim cl)
        {
            if (cl == r.PfnSeed) Register(r.PfnSeed = NewClaim(r, NdClaimKind.Pfn), probe: false);
            else if (cl == r.DaxSeed) Register(r.DaxSeed = NewClaim(r, NdClaimKind.Dax), probe: false);
            else if (cl == r.BttSeed) Register(r.BttSeed = NewClaim(r, NdClaimKind.Btt), probe: false);
        }
        if (ns != null && ns == r.NsSeed && r.Labelled)
        {
            var seed = NewPmemNamespace(r);
            r._nsDevs.Add(seed);
            r.NsSeed = seed;
            Register(seed, probe: false);
        }
    }

    // ---- nd_pmem on a namespace ------------------------------------------------------------------------------

    /// <summary>
    /// nvdimm_namespace_common_probe for a namespace: claimed → −ENXIO ("claimed by pfnX.Y, failing probe"); capacity under
    /// ND_MIN_NAMESPACE_SIZE → −ENODEV; an nd_namespace_pmem without uuid → −ENODEV.
    /// </summary>
    private int NamespaceCommonProbe(NdNamespace ns)
    {
        if (ns.Claim != null) return -Errno.ENXIO;
        if (ns.Size < ND_MIN_NAMESPACE_SIZE) return -Errno.ENODEV;
        if (!ns.IsIo && ns.Uuid == null) return -Errno.ENODEV;
        return 0;
    }

    /// <summary>
    /// nd_pmem_probe for a namespace: devm_namespace_enable with the info-block reserve; unless force_raw, nd_btt_probe,
    /// nd_pfn_probe and nd_dax_probe look for an info block (found: a claim device is registered and the namespace probe
    /// ends with −ENXIO; −EOPNOTSUPP from the pfn/dax probes is final); otherwise the raw disk is attached.
    /// </summary>
    private int NamespaceProbe(NdNamespace ns)
    {
        var rc = NamespaceCommonProbe(ns);
        if (rc < 0) return rc;
        NsioEnable(ns);
        if (!ns.ForceRaw)
        {
            if (BttProbe(ns) == 0) return -Errno.ENXIO;
            foreach (var kind in PfnDaxKinds)
            {
                rc = PfnProbe(ns, kind);
                if (rc == 0) return -Errno.ENXIO;
                if (rc == -Errno.EOPNOTSUPP) return rc;
            }
        }
        ns.Pmem = AttachDisk(ns, null, NamespaceMode.Raw, 0, 0);
        return 0;
    }

    /// <summary>
    /// devm_namespace_enable → devm_nsio_enable: the namespace's nd_namespace_io (memremap window, kept while the extent
    /// is unchanged) with fresh badblocks (nsio-&gt;bb) from the bus list.
    /// </summary>
    private Nsio NsioEnable(NdNamespace ns)
    {
        if (ns.Io is { } io && io.Start == ns.Start && io.Size == ns.Size) io.Enable();
        else ns.Io = new Nsio(Machine, ns.Region, ns.Name, ns.Start, ns.Size);
        return ns.Io;
    }

    /// <summary>
    /// nd_btt_probe (btt_devs.c; skipped with force_raw, only for claim class none or btt): a btt device holding the
    /// namespace, then __nd_btt_probe — the v1.1 info block at SZ_4K must be readable (−ENXIO), the namespace at least
    /// 16 MiB (−ENXIO), the block valid for this namespace (nd_btt_version, −ENODEV). Found: lbasize and uuid come from the
    /// block and the device is registered (and so probed by nd_pmem); otherwise it is dropped.
    /// </summary>
    private int BttProbe(NdNamespace ns)
    {
        if (ns.ClaimClass is not ("" or "btt")) return -Errno.ENODEV;
        var c = NewClaim(ns.Region, NdClaimKind.Btt);
        c.Ns = ns;
        ns.Claim = c;
        var rc = Btt.ReadInfoBlock(Machine, ns.Io!, new Guid(ns.ParentUuid, bigEndian: true), out var sb);
        if (rc == 0 && ns.Size < BttConst.ARENA_MIN_SIZE) rc = -Errno.ENXIO;
        if (rc < 0)
        {
            ns.Claim = null;
            c.Ns = null;
            ns.Region._claims.Remove(c);
            ns.Region.BttIda.Free(c.Id);
            return rc;
        }
        c.LbaSize = sb!.ExternalLbasize;
        c.Uuid = sb.Uuid.ToByteArray(bigEndian: true);
        Register(c);
        return 0;
    }

    /// <summary>
    /// nd_pfn_probe / nd_dax_probe (skipped with force_raw; only for claim class none or the matching one): allocate a
    /// claim device holding the namespace and validate the info block with it (uuid, align and mode taken from the
    /// block); registered (and so probed) on success, dropped on failure. 0 or the validation error.
    /// </summary>
    private int PfnProbe(NdNamespace ns, NdClaimKind kind)
    {
        var cls = kind == NdClaimKind.Pfn ? "pfn" : "dax";
        if (ns.ClaimClass != "" && ns.ClaimClass != cls) return -Errno.ENODEV;
        var c = NewClaim(ns.Region, kind);
        c.Ns = ns;
        ns.Claim = c;
        var rc = PfnValidate(c, out var sb);
        if (rc < 0)
        {
            ns.Claim = null;
            c.Ns = null;
            ns.Region._claims.Remove(c);
            (kind == NdClaimKind.Pfn ? ns.Region.PfnIda : ns.Region.DaxIda).Free(c.Id);
            return rc;
        }
        c.Sb = sb;
        Register(c);
        return 0;
    }

    // ---- nd_pmem on a pfn / btt device ---------------------------------------------------------------------

    /// <summary>
    /// nd_pmem_probe on a pfn or btt device, dax_pmem_probe on a dax device. nvdimm_namespace_common_probe: no namespace →
    /// −ENODEV, the namespace bound as raw → −EBUSY; then a btt device → nvdimm_namespace_attach_btt, a dax device →
    /// __dax_pmem_probe, a pfn device → pmem_attach_disk with nvdimm_setup_pfn.
    /// </summary>
    private int ClaimProbe(NdClaim c)
    {
        if (c.Ns is not { } ns) return -Errno.ENODEV;
        if (ns.Driver != null)
        {
            Log(ns, $"is active, can't bind {c.Name}");
            return -Errno.EBUSY;
        }
        if (ns.Size < ND_MIN_NAMESPACE_SIZE || (!ns.IsIo && ns.Uuid == null)) return -Errno.ENODEV;
        if (c.Kind == NdClaimKind.Btt) return AttachBtt(c, ns);
        if (c.Kind == NdClaimKind.Dax) return DaxPmemProbe(c, ns);
        NsioEnable(ns);
        var rc = SetupPfn(c);
        if (rc < 0) return rc;
        var sb = c.Sb!;
        c.Pmem = AttachDisk(ns, c, NamespaceMode.Fsdax, sb.DataOff, sb.StartPad + sb.EndTrunc);
        return 0;
    }

    /// <summary>pmem_attach_disk: the pmem device (disk, dax device, badblocks) named by nvdimm_namespace_disk_name, added with add_disk.</summary>
    private PmemDevice AttachDisk(NdNamespace ns, NdClaim? claim, NamespaceMode mode, ulong dataOffset, ulong pfnPad)
    {
        var dev = new PmemDevice(Machine, ns.Region, ns.Name, DiskName(ns), ns.Start, ns.Size, mode, dataOffset, ns.IsIo ? 512 : ns.LbaSize, ZeroPfn, pfnPad)
        {
            Namespace = ns,
            Claim = claim,
        };
        ns.Region._namespaces.Add(dev);
        var r = Genhd.AddDisk(dev.Disk);
        if (r < 0) Machine.State.Printk($"nd_pmem {ns.Name}: add_disk {dev.Disk.Name}: {Errno.Describe(r)}");
        return dev;
    }

    /// <summary>nvdimm_namespace_disk_name: "pmem&lt;region&gt;" for id 0 and namespace_io, else "pmem&lt;region&gt;.&lt;id&gt;"; "s" after it for a btt claim.</summary>
    public static string DiskName(NdNamespace ns)
    {
        var suffix = ns.Claim is { Kind: NdClaimKind.Btt } ? "s" : "";
        var region = ns.Region.Id.ToString();
        return ns.Id != 0 && !ns.IsIo ? string.Concat("pmem", region, ".", ns.Id.ToString() + suffix) : string.Concat("pmem", region, suffix);
    }
}
