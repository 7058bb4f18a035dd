using System.Globalization;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>
/// struct ndctl_ctx (ndctl/lib/libndctl.c): the buses found under /sys/class/nd (busses_init → device_parse
/// "ndctl%d" → add_bus). Every list is filled on first use from readdir order with ccan's list_add, which puts each
/// new entry at the head, so libndctl walks devices in the reverse of readdir order (as ndctl list prints them).
/// </summary>
internal sealed class NdCtx(NdctlIo io)
{
    public NdctlIo Io { get; } = io;

    private List<NdBus>? _buses;

    /// <summary>ndctl_bus_foreach.</summary>
    public List<NdBus> Buses => _buses ??= DeviceParse(this, null, "/sys/class/nd", "ndctl", (id, path) => NdBus.Add(this, id, path));

    /// <summary>
    /// __sysfs_device_parse: every directory entry named "&lt;prefix&gt;%d" of <paramref name="basePath"/> is handed to
    /// <paramref name="add"/>; a failed add is logged ("%s%d: add_dev() failed"). The bus probe is flushed first
    /// (ndctl_bus_wait_probe reads the bus's wait_probe attribute).
    /// </summary>
    internal static List<T> DeviceParse<T>(NdCtx ctx, NdBus? bus, string basePath, string prefix, Func<int, string, T?> add) where T : class
    {
        bus?.WaitProbe();
        var list = new List<T>();
        var names = ctx.Io.ReadDir(basePath, prefix);
        if (names == null) return list;
        foreach (var name in names)
        {
            var id = (int)CStr.StrToL(name.AsSpan(prefix.Length), 10, out var end);
            if (end == 0) continue;
            var dev = add(id, NdStrings.Path(basePath, name));
            if (dev == null) ctx.Io.LibErr("__sysfs_device_parse", $"{prefix}{id}: add_dev() failed\n");
            else list.Insert(0, dev);
        }
        return list;
    }

    /// <summary>devpath_to_devname: the last path component.</summary>
    public static string Devname(string path) => NdStrings.Get(path.AsSpan(path.LastIndexOf('/') + 1));

    /// <summary>sysfs_read_attr, null on failure.</summary>
    public string? Attr(string path) => Io.ReadAttr(path, out var t) < 0 ? null : t;

    /// <summary>strtoul(attr, NULL, 0) or <paramref name="dflt"/> when the attribute cannot be read.</summary>
    public ulong AttrU(string path, ulong dflt) => Attr(path) is { } t ? CStr.ToULong(t) : dflt;

    /// <summary>strtol(attr, NULL, 0) or <paramref name="dflt"/>.</summary>
    public long AttrL(string path, long dflt) => Attr(path) is { } t ? CStr.StrToL(t, 0, out _) : dflt;

    /// <summary>is_enabled: wait for the bus probe, then lstat(drvpath) is a symbolic link.</summary>
    public bool IsEnabled(NdBus bus, string drvPath)
    {
        bus.WaitProbe();
        return Io.IsLink(drvPath);
    }

    /// <summary>
    /// __util_bind: write the device name into every /sys/bus/nd/drivers/*/bind until one accepts it; −ENXIO when none
    /// does (or the drivers directory cannot be read).
    /// </summary>
    public int Bind(string devname)
    {
        var drivers = Io.ReadDir("/sys/bus/nd/drivers");
        if (drivers == null)
        {
            Io.LibErr("__util_bind", $"{devname}: opendir(\"/sys/bus/nd/drivers\") failed\n");
            return -Uapi.Errno.ENXIO;
        }
        foreach (var d in drivers)
            if (Io.WriteAttr($"/sys/bus/nd/drivers/{d}/bind", devname) == 0) return 0;
        return -Uapi.Errno.ENXIO;
    }

    /// <summary>__util_unbind: write the device name into its driver's unbind file.</summary>
    public int Unbind(string devpath) => Io.WriteAttr(NdStrings.Path(devpath, "driver/unbind"), Devname(devpath));
}

/// <summary>struct ndctl_bus: an "ndctlN" control device and its ndbusN parent (add_bus).</summary>
internal sealed class NdBus
{
    public required NdCtx Ctx { get; init; }
    public int Id { get; init; }
    public int Major { get; init; }
    public int Minor { get; init; }
    public ulong CmdMask { get; init; }
    public bool HasNfit { get; init; }
    public ulong NfitDsmMask { get; init; }
    public required string Provider { get; init; }
    public required string WaitProbePath { get; init; }
    public string? ScrubPath { get; init; }
    public required string BusPath { get; init; }

    /// <summary>ndctl_bus_get_devname: "ndbus0".</summary>
    public string Devname => NdCtx.Devname(BusPath);

    private List<NdDimm>? _dimms;
    private List<NdRegion>? _regions;

    /// <summary>ndctl_dimm_foreach (dimms_init: "nmem%d" under the bus device).</summary>
    public List<NdDimm> Dimms => _dimms ??= NdCtx.DeviceParse(Ctx, this, BusPath, "nmem", (id, p) => NdDimm.Add(this, id, p));

    /// <summary>ndctl_region_foreach (regions_init: "region%d" under the bus device).</summary>
    public List<NdRegion> Regions => _regions ??= NdCtx.DeviceParse(Ctx, this, BusPath, "region", (id, p) => NdRegion.Add(this, id, p));

    /// <summary>The bus command names of to_cmd_index(name, 0): ars_cap … clear_error.</summary>
    private static readonly string[] BusCmds = ["", "ars_cap", "ars_start", "ars_status", "clear_error"];

    /// <summary>add_bus: dev, device/commands, device/nfit/{revision,dsm_mask}, device/provider, the /sys/dev/char link.</summary>
    public static NdBus? Add(NdCtx ctx, int id, string ctlBase)
    {
        var dev = ctx.Attr(NdStrings.Path(ctlBase, "dev"));
        if (dev == null || !ParseDev(dev, out var major, out var minor)) return null;
        var commands = ctx.Attr(NdStrings.Path(ctlBase, "device/commands"));
        if (commands == null) return null;
        var hasNfit = ctx.Attr(NdStrings.Path(ctlBase, "device/nfit/revision")) != null;
        var provider = ctx.Attr(NdStrings.Path(ctlBase, "device/provider"));
        if (provider == null) return null;
        var busPath = ctx.Io.RealPath($"/sys/dev/char/{major}:{minor}/device");
        if (busPath == null) return null;
        var bus = new NdBus
        {
            Ctx = ctx, Id = id, Major = major, Minor = minor, CmdMask = ParseCommands(commands, BusCmds), HasNfit = hasNfit,
            NfitDsmMask = ctx.AttrU(NdStrings.Path(ctlBase, "device/nfit/dsm_mask"), 0), Provider = provider,
            WaitProbePath = NdStrings.Path(ctlBase, "device/wait_probe"), ScrubPath = hasNfit ? NdStrings.Path(ctlBase, "device/nfit/scrub") : null,
            BusPath = busPath,
        };
        return bus;
    }

    /// <summary>sscanf(buf, "%d:%d").</summary>
    internal static bool ParseDev(string s, out int major, out int minor)
    {
        major = minor = 0;
        var colon = s.IndexOf(':');
        if (colon < 0 || s.IndexOf(':', colon + 1) >= 0) return false;
        return int.TryParse(s.AsSpan(0, colon), NumberStyles.Integer, CultureInfo.InvariantCulture, out major)
            && int.TryParse(s.AsSpan(colon + 1).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out minor);
    }

    /// <summary>parse_commands: each space-terminated name that to_cmd_index knows sets its bit.</summary>
    internal static ulong ParseCommands(string text, string[] names)
    {
        ulong mask = 0;
        var start = 0;
        int end;
        while ((end = text.IndexOf(' ', start)) >= 0)
        {
            var i = IndexOf(names, text.AsSpan(start, end - start));
            if (i > 0) mask |= 1UL << i;
            start = end + 1;
        }
        return mask;
    }

    /// <summary>The index of the first of <paramref name="names"/> equal to <paramref name="name"/>, or −1.</summary>
    private static int IndexOf(string[] names, ReadOnlySpan<char> name)
    {
        for (var i = 0; i < names.Length; i++)
            if (name.SequenceEqual(names[i])) return i;
        return -1;
    }

    /// <summary>ndctl_bus_is_cmd_supported.</summary>
    public bool IsCmdSupported(int cmd) => (CmdMask & (1UL << cmd)) != 0;

    /// <summary>ndctl_bus_wait_probe: read wait_probe (the kernel flushes the bus's async probing); −ENXIO when unreadable.</summary>
    public int WaitProbe() => Ctx.Io.ReadAttr(WaitProbePath, out _) < 0 ? -Uapi.Errno.ENXIO : 0;

    /// <summary>__ndctl_bus_get_scrub_state: "%u%c" of nfit/scrub — the count and '+' while a scrub runs.</summary>
    public int GetScrubState(out uint count, out bool active)
    {
        count = 0;
        active = false;
        if (ScrubPath == null || Ctx.Io.ReadAttr(ScrubPath, out var t) < 0) return -Uapi.Errno.EOPNOTSUPP;
        var n = CStr.StrToL(t, 10, out var end);
        if (end == 0) return -Uapi.Errno.ENXIO;
        count = (uint)n;
        if (end == t.Length) return 0;
        if (t[end] == '+')
        {
            active = true;
            return 0;
        }
        return -Uapi.Errno.ENXIO;
    }

    /// <summary>ndctl_bus_get_scrub_count: UINT_MAX when the state cannot be read.</summary>
    public uint ScrubCount => GetScrubState(out var c, out _) < 0 ? uint.MaxValue : c;

    /// <summary>ndctl_bus_has_error_injection: an NFIT bus whose dsm_mask has ARS_INJECT_SET, _GET and _CLEAR (7, 9, 8).</summary>
    public bool HasErrorInjection => HasNfit && (NfitDsmMask & (1UL << 7)) != 0 && (NfitDsmMask & (1UL << 9)) != 0 && (NfitDsmMask & (1UL << 8)) != 0;

    /// <summary>ndctl_bus_start_scrub: write "1\n" to nfit/scrub (retried once after a poll on −EBUSY).</summary>
    public int StartScrub()
    {
        if (ScrubPath == null) return -Uapi.Errno.EOPNOTSUPP;
        var rc = Ctx.Io.WriteAttr(ScrubPath, "1\n");
        if (rc == -Uapi.Errno.EBUSY && PollScrubCompletion(1, 1) == 0) return Ctx.Io.WriteAttr(ScrubPath, "1\n");
        return rc;
    }

    /// <summary>
    /// ndctl_bus_poll_scrub_completion: re-read nfit/scrub until it has no '+'; while it has, the process sleeps in
    /// poll(2) for up to the interval (a simulated sleep lets the kernel's deferred work run). With a timeout, gives
    /// −ETIMEDOUT when it expires; without one it keeps waiting, here for at most 3600 polls.
    /// </summary>
    public int PollScrubCompletion(uint pollInterval, uint timeout)
    {
        if (ScrubPath == null) return -Uapi.Errno.EOPNOTSUPP;
        for (var polls = 0; polls < 3600; polls++)
        {
            var rc = GetScrubState(out _, out var active);
            if (rc < 0) return -Uapi.Errno.EOPNOTSUPP;
            if (!active) return 0;
            uint tmo = timeout == 0 ? pollInterval : pollInterval == 0 ? timeout : Math.Min(pollInterval, timeout);
            Ctx.Io.P.Nanosleep(tmo == 0 ? 1_000_000_000UL : tmo * 1_000_000_000UL);
            if (timeout == 0) continue;
            if (pollInterval == 0 || pollInterval > timeout) return GetScrubState(out _, out active) == 0 && !active ? 0 : -Uapi.Errno.ETIMEDOUT;
            if (timeout > pollInterval) timeout -= pollInterval;
            else
            {
                timeout = 1;
                pollInterval = 0;
            }
        }
        return -Uapi.Errno.ETIMEDOUT;
    }

    /// <summary>ndctl_bus_get_region_by_physical_address.</summary>
    public NdRegion? RegionByPhys(ulong addr) =>
        Regions.Find(r => r.Resource is var s && s != ulong.MaxValue && s <= addr && addr < s + r.Size);

    /// <summary>ndctl_bus_get_dimm_by_physical_address: the single mapping's DIMM of a non-interleaved region.</summary>
    public NdDimm? DimmByPhys(ulong addr)
    {
        var r = RegionByPhys(addr);
        if (r == null) return null;
        if (r.InterleaveWays == 1) return r.Mappings.Count > 0 ? r.Mappings[0].Dimm : null;
        return null;
    }
}

/// <summary>struct ndctl_dimm (add_dimm, populate_dimm_attributes): an "nmemN" device and its nfit/ attributes.</summary>
internal sealed class NdDimm
{
    public required NdBus Bus { get; init; }
    public int Id { get; init; }
    public int Major { get; init; }
    public int Minor { get; init; }
    public ulong CmdMask { get; init; }
    public required string Path { get; init; }
    public string? UniqueId { get; init; }
    public uint Handle { get; init; } = uint.MaxValue;
    public ushort PhysId { get; init; } = ushort.MaxValue;
    public long CmdFamily { get; init; } = -1;
    public ulong NfitDsmMask { get; init; } = ulong.MaxValue;

    /// <summary>parse_nfit_mem_flags: not_armed, save_fail, flush_fail, smart_event, restore_fail, map_fail.</summary>
    public HashSet<string> Flags { get; } = [];

    public string Devname => NdCtx.Devname(Path);

    /// <summary>The DIMM command names of to_cmd_index(name, 1): smart … cmd_call.</summary>
    private static readonly string[] DimmCmds = ["", "smart", "smart_thresh", "flags", "get_size", "get_data", "set_data", "effect_size", "effect_log", "vendor", "cmd_call"];

    /// <summary>add_dimm: dev, commands, modalias, flags, then the nfit/ attributes (handle and phys_id required).</summary>
    public static NdDimm? Add(NdBus bus, int id, string dimmBase)
    {
        var ctx = bus.Ctx;
        var dev = ctx.Attr(NdStrings.Path(dimmBase, "dev"));
        if (dev == null || !NdBus.ParseDev(dev, out var major, out var minor)) return null;
        var commands = ctx.Attr(NdStrings.Path(dimmBase, "commands"));
        if (commands == null || ctx.Attr(NdStrings.Path(dimmBase, "modalias")) == null) return null;
        var nfit = NdStrings.Path(dimmBase, "nfit");
        if (!bus.HasNfit)
            return new NdDimm { Bus = bus, Id = id, Major = major, Minor = minor, CmdMask = NdBus.ParseCommands(commands, DimmCmds), Path = dimmBase };
        var handle = ctx.Attr(NdStrings.Path(nfit, "handle"));
        var phys = ctx.Attr(NdStrings.Path(nfit, "phys_id"));
        if (handle == null || phys == null)
        {
            ctx.Io.LibErr("add_dimm", $"nmem{id}: probe failed: Operation not permitted\n");
            return null;
        }
        var dimm = new NdDimm
        {
            Bus = bus, Id = id, Major = major, Minor = minor, CmdMask = NdBus.ParseCommands(commands, DimmCmds), Path = dimmBase,
            UniqueId = ctx.Attr(NdStrings.Path(nfit, "id")), Handle = (uint)CStr.ToULong(handle), PhysId = (ushort)CStr.ToULong(phys),
            CmdFamily = ctx.AttrL(NdStrings.Path(nfit, "family"), -1), NfitDsmMask = ctx.AttrU(NdStrings.Path(nfit, "dsm_mask"), ulong.MaxValue),
        };
        dimm.RefreshFlags();
        return dimm;
    }

    /// <summary>ndctl_dimm_refresh_flags: re-read nfit/flags.</summary>
    public void RefreshFlags()
    {
        var t = Bus.Ctx.Attr(NdStrings.Path(Path, "nfit/flags"));
        if (t == null) return;
        Flags.Clear();
        var start = 0;
        int end;
        while ((end = t.IndexOf(' ', start)) >= 0)
        {
            Flags.Add(NdStrings.Get(t.AsSpan(start, end - start)));
            start = end + 1;
        }
    }

    /// <summary>ndctl_dimm_is_enabled: the "driver" link exists.</summary>
    public bool IsEnabled => Bus.Ctx.IsEnabled(Bus, NdStrings.Path(Path, "driver"));

    /// <summary>ndctl_dimm_is_cmd_supported.</summary>
    public bool IsCmdSupported(int cmd) => (CmdMask & (1UL << cmd)) != 0;

    /// <summary>test_dimm_dsm: unknown (all) when dsm_mask is absent, else bit <paramref name="fn"/>.</summary>
    public bool TestDsm(int fn) => NfitDsmMask == ulong.MaxValue || (NfitDsmMask & (1UL << fn)) != 0;

    /// <summary>dimm-&gt;ops == intel_dimm_ops (cmd_family NVDIMM_FAMILY_INTEL).</summary>
    public bool IntelOps => CmdFamily == 0;

    /// <summary>ndctl_dimm_get_security: the "security" attribute's word, or null.</summary>
    public string? Security => Bus.Ctx.Attr(NdStrings.Path(Path, "security")) is { } s && s is "disabled" or "unlocked" or "locked" or "frozen" or "overwrite" ? s : null;
}

/// <summary>One "mappingN" of a region: "nmemD,offset,length,position".</summary>
internal sealed record NdMapping(NdDimm Dimm, ulong Offset, ulong Length, int Position);

/// <summary>struct ndctl_region (add_region): a "regionN" device with its namespaces and claim devices.</summary>
internal sealed class NdRegion
{
    public required NdBus Bus { get; init; }
    public int Id { get; init; }
    public required string Path { get; init; }
    public ulong Size { get; init; }
    public int NumMappings { get; init; }
    public bool ReadOnly { get; init; }
    public long NumaNode { get; init; }
    public long TargetNode { get; init; }
    public ulong Align { get; init; }
    public int NsType { get; set; }
    public ulong Cookie { get; set; }
    public string? PersistenceDomain { get; init; }

    public string Devname => NdCtx.Devname(Path);

    /// <summary>add_region: size, mappings, read_only, modalias, numa/target node, align, nstype, set_cookie, persistence_domain.</summary>
    public static NdRegion? Add(NdBus bus, int id, string regionBase)
    {
        var ctx = bus.Ctx;
        var size = ctx.Attr(NdStrings.Path(regionBase, "size"));
        var mappings = ctx.Attr(NdStrings.Path(regionBase, "mappings"));
        var ro = ctx.Attr(NdStrings.Path(regionBase, "read_only"));
        if (size == null || mappings == null || ro == null || ctx.Attr(NdStrings.Path(regionBase, "modalias")) == null) return null;
        var numaRc = ctx.Io.ReadAttr(NdStrings.Path(regionBase, "numa_node"), out var numa);
        var r = new NdRegion
        {
            Bus = bus, Id = id, Path = regionBase, Size = CStr.ToULong(size), NumMappings = (int)CStr.ToULong(mappings),
            ReadOnly = CStr.ToULong(ro) != 0, NumaNode = numaRc == 0 ? CStr.StrToL(numa, 0, out _) : numaRc == -Uapi.Errno.ENOENT ? -2 : -1,
            TargetNode = ctx.AttrL(NdStrings.Path(regionBase, "target_node"), -1), Align = ctx.AttrU(NdStrings.Path(regionBase, "align"), ulong.MaxValue),
            PersistenceDomain = ctx.Attr(NdStrings.Path(regionBase, "persistence_domain")),
        };
        if (r.SetType() < 0) return null;
        return r;
    }

    /// <summary>region_set_type: nstype, and set_cookie for ND_DEVICE_NAMESPACE_PMEM.</summary>
    public int SetType()
    {
        var t = Bus.Ctx.Attr(NdStrings.Path(Path, "nstype"));
        if (t == null) return -1;
        NsType = (int)CStr.ToULong(t);
        if (NsType == NdNamespace.ND_DEVICE_NAMESPACE_PMEM)
        {
            var c = Bus.Ctx.Attr(NdStrings.Path(Path, "set_cookie"));
            if (c == null) return -1;
            Cookie = CStr.ToULong(c);
        }
        return 0;
    }

    /// <summary>ndctl_region_get_type: ND_DEVICE_REGION_PMEM (2) for pmem and io namespaces, else BLK (3).</summary>
    public int Type => NsType is NdNamespace.ND_DEVICE_NAMESPACE_IO or NdNamespace.ND_DEVICE_NAMESPACE_PMEM ? 2 : 3;

    /// <summary>ndctl_region_get_type_name.</summary>
    public string TypeName => Type == 2 ? "pmem" : "blk";

    /// <summary>ndctl_region_get_interleave_ways: max(1, mappings).</summary>
    public int InterleaveWays => Math.Max(1, NumMappings);

    /// <summary>ndctl_region_get_resource: the "resource" attribute read each time (ULLONG_MAX when unreadable).</summary>
    public ulong Resource => Bus.Ctx.AttrU(NdStrings.Path(Path, "resource"), ulong.MaxValue);

    /// <summary>ndctl_region_get_available_size (pmem/blk regions only).</summary>
    public ulong AvailableSize => NsType is NdNamespace.ND_DEVICE_NAMESPACE_PMEM or 6 ? Bus.Ctx.AttrU(NdStrings.Path(Path, "available_size"), ulong.MaxValue) : 0;

    /// <summary>ndctl_region_get_max_available_extent (pmem/blk regions only).</summary>
    public ulong MaxAvailableExtent => NsType is NdNamespace.ND_DEVICE_NAMESPACE_PMEM or 6 ? Bus.Ctx.AttrU(NdStrings.Path(Path, "max_available_extent"), ulong.MaxValue) : 0;

    /// <summary>ndctl_region_is_enabled.</summary>
    public bool IsEnabled => Bus.Ctx.IsEnabled(Bus, NdStrings.Path(Path, "driver"));

    private List<NdMapping>? _mappings;

    /// <summary>mappings_init: "mapping%d" parsed as "nmem%u,%llu,%llu,%d".</summary>
    public List<NdMapping> Mappings => _mappings ??= LoadMappings();

    private List<NdMapping> LoadMappings()
    {
        var list = new List<NdMapping>();
        for (var i = 0; i < NumMappings; i++)
        {
            var t = Bus.Ctx.Attr(NdStrings.Path(Path, NdStrings.Numbered("mapping", i, "")));
            if (t == null)
            {
                Bus.Ctx.Io.LibErr("mappings_init", $"bus{Bus.Id} region{Id}: failed to read mapping{i}\n");
                continue;
            }
            var f = t.Split(',');
            if (f.Length < 3 || !f[0].StartsWith("nmem", StringComparison.Ordinal))
            {
                Bus.Ctx.Io.LibErr("mappings_init", $"bus{Bus.Id} mapping parse failure\n");
                continue;
            }
            var dimmId = (int)CStr.StrToL(f[0].AsSpan(4), 10, out _);
            var dimm = Bus.Dimms.Find(d => d.Id == dimmId);
            if (dimm == null)
            {
                Bus.Ctx.Io.LibErr("mappings_init", $"bus{Bus.Id} region{Id} mapping{i}: nmem{dimmId} lookup failure\n");
                continue;
            }
            var pos = f.Length >= 4 ? (int)CStr.StrToL(f[3], 10, out _) : -1;
            list.Insert(0, new NdMapping(dimm, (ulong)CStr.StrToL(f[1], 10, out _), (ulong)CStr.StrToL(f[2], 10, out _), pos));
        }
        return list;
    }

    private List<NdNamespace>? _namespaces;
    private List<NdPfn>? _pfns, _daxs;
    private List<NdBtt>? _btts;

    public List<NdNamespace> Namespaces => _namespaces ??= NdCtx.DeviceParse(Bus.Ctx, Bus, Path, NdStrings.Numbered("namespace", Id, "."), (id, p) => NdNamespace.Add(this, id, p));
    public List<NdPfn> Pfns => _pfns ??= NdCtx.DeviceParse(Bus.Ctx, Bus, Path, NdStrings.Numbered("pfn", Id, "."), (id, p) => NdPfn.Add(this, id, p, false));
    public List<NdPfn> Daxs => _daxs ??= NdCtx.DeviceParse(Bus.Ctx, Bus, Path, NdStrings.Numbered("dax", Id, "."), (id, p) => NdPfn.Add(this, id, p, true));
    public List<NdBtt> Btts => _btts ??= NdCtx.DeviceParse(Bus.Ctx, Bus, Path, NdStrings.Numbered("btt", Id, "."), (id, p) => NdBtt.Add(this, id, p));

    /// <summary>region_refresh_children: forget and re-read namespaces, btts, pfns and daxs.</summary>
    public void RefreshChildren()
    {
        _namespaces = null;
        _pfns = _daxs = null;
        _btts = null;
    }

    private string? Seed(string attr) => Bus.Ctx.Attr(NdStrings.Path(Path, attr));

    /// <summary>ndctl_region_get_namespace_seed.</summary>
    public NdNamespace? NamespaceSeed => Seed("namespace_seed") is { } s ? Namespaces.Find(n => n.Devname == s) : null;

    /// <summary>ndctl_region_get_pfn_seed.</summary>
    public NdPfn? PfnSeed => Seed("pfn_seed") is { } s ? Pfns.Find(n => n.Devname == s) : null;

    /// <summary>ndctl_region_get_dax_seed.</summary>
    public NdPfn? DaxSeed => Seed("dax_seed") is { } s ? Daxs.Find(n => n.Devname == s) : null;

    /// <summary>ndctl_region_get_btt_seed.</summary>
    public NdBtt? BttSeed => Seed("btt_seed") is { } s ? Btts.Find(n => n.Devname == s) : null;

    /// <summary>ndctl_region_badblock_foreach: "offset length" lines of the region's badblocks (512-byte units from the region start).</summary>
    public List<(ulong Offset, uint Len)> Badblocks() => NdNamespace.ParseBadblocks(Bus.Ctx.Attr(NdStrings.Path(Path, "badblocks")));

    /// <summary>ndctl_region_enable: bind through the nd bus drivers; −ENXIO ("failed to enable") when it stays unbound.</summary>
    public int Enable()
    {
        if (IsEnabled) return 0;
        Bus.Ctx.Bind(Devname);
        if (!IsEnabled)
        {
            Bus.Ctx.Io.LibErr("ndctl_region_enable", $"{Devname}: failed to enable\n");
            return -Uapi.Errno.ENXIO;
        }
        SetType();
        return 0;
    }

    /// <summary>ndctl_region_disable_invalidate: unbind; −EBUSY ("failed to disable") when still bound.</summary>
    public int Disable()
    {
        if (!IsEnabled) return 0;
        Bus.Ctx.Unbind(Path);
        if (IsEnabled)
        {
            Bus.Ctx.Io.LibErr("ndctl_region_disable", $"{Devname}: failed to disable\n");
            return -Uapi.Errno.EBUSY;
        }
        RefreshChildren();
        return 0;
    }
}
