namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>Filter parameters shared by list and the walkers (struct ndctl_filter_params, ndctl/filter.c).</summary>
internal sealed class FilterParams
{
    public string? Bus, Region, Dimm, Namespace, Mode, Type;

    /// <summary>util_bus_filter: "all", the bus id, its provider or its device name.</summary>
    public static bool BusMatch(NdBus bus, string? ident) => Match(ident, name =>
        IdOf(ident!) is { } id ? id == (ulong)bus.Id : name == bus.Provider || name == bus.Devname);

    /// <summary>util_region_filter: "all", the region id or its name.</summary>
    public static bool RegionMatch(NdRegion r, string? ident) => Match(ident, name => IdOf(ident!) is { } id ? id == (ulong)r.Id : name == r.Devname);

    /// <summary>util_dimm_filter: "all", the DIMM id or its name.</summary>
    public static bool DimmMatch(NdDimm d, string? ident) => Match(ident, name => IdOf(ident!) is { } id ? id == (ulong)d.Id : name == d.Devname);

    /// <summary>util_namespace_filter: "all", the name, or "R.N".</summary>
    public static bool NamespaceMatch(NdNamespace ns, string? ident) => Match(ident, name =>
    {
        if (name == ns.Devname) return true;
        var parts = name.Split('.');
        return parts.Length == 2 && long.TryParse(parts[0], out var r) && long.TryParse(parts[1], out var n) && r == ns.Region.Id && n == ns.Id;
    });

    // The id check parses the whole identifier string (strtoul(ident)) while names are matched token by token, as filter.c does.
    private static ulong? IdOf(string ident)
    {
        var v = CStr.StrToL(ident, 0, out var end);
        return end != 0 && end == ident.Length ? (ulong)v : null;
    }

    private static bool Match(string? ident, Func<string, bool> test)
    {
        if (ident == null) return true;
        foreach (var name in ident.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (name == "all" || test(name)) return true;
        return false;
    }

    /// <summary>util_nsmode.</summary>
    public static NsMode NsModeOf(string? mode) => mode?.ToLowerInvariant() switch
    {
        "memory" or "fsdax" => NsMode.Fsdax,
        "sector" or "safe" => NsMode.Sector,
        "dax" or "devdax" => NsMode.Devdax,
        "raw" => NsMode.Raw,
        _ => NsMode.Unknown,
    };

    /// <summary>util_nsmode_name.</summary>
    public static string NsModeName(NsMode m) => m switch
    {
        NsMode.Fsdax => "fsdax",
        NsMode.Devdax => "devdax",
        NsMode.Raw => "raw",
        NsMode.Sector => "sector",
        _ => "unknown",
    };
}

/// <summary>ndctl list (ndctl/list.c) over ndctl_filter_walk: buses, DIMMs (with -H health), regions, namespaces.</summary>
internal static class ListCmd
{
    private static readonly Opt[] Options =
    [
        new('b', "bus", OptKind.String, "bus-id", "filter by bus"),
        new('r', "region", OptKind.String, "region-id", "filter by region"),
        new('d', "dimm", OptKind.String, "dimm-id", "filter by dimm"),
        new('n', "namespace", OptKind.String, "namespace-id", "filter by namespace id"),
        new('m', "mode", OptKind.String, "namespace-mode", "filter by namespace mode"),
        new('t', "type", OptKind.String, "region-type", "filter by region-type"),
        new('B', "buses", OptKind.Boolean, null, "include bus info"),
        new('D', "dimms", OptKind.Boolean, null, "include dimm info"),
        new('H', "health", OptKind.Boolean, null, "include dimm health"),
        new('R', "regions", OptKind.Boolean, null, "include region info"),
        new('N', "namespaces", OptKind.Boolean, null, "include namespace info (default)"),
        new('i', "idle", OptKind.Boolean, null, "include idle devices"),
        new('c', "configured", OptKind.Boolean, null, "include configured namespaces, disabled or not"),
        new('M', "media-errors", OptKind.Boolean, null, "include media errors"),
        new('u', "human", OptKind.Boolean, null, "use human friendly number formats "),
    ];

    private sealed class State
    {
        public bool Buses, Dimms, Regions, Namespaces, Idle, Health, MediaErrors, Human, Configured;
        public JsonFlags Flags;
        public JArray? JBuses, JDimms, JRegions, JNamespaces;
        public JObject? JBus, JRegion;
    }

    public static int Run(NdctlIo io, string[] argv)
    {
        var v = new OptValues();
        var rest = ParseOptions.Parse(io, argv, Options, ["ndctl list [<options>]"], v);
        foreach (var a in rest) io.Error($"unknown parameter \"{a}\"\n");
        if (rest.Count > 0) ParseOptions.UsageWithOptions(io, ["ndctl list [<options>]"], Options);
        var prm = new FilterParams { Bus = v.Str("bus"), Region = v.Str("region"), Dimm = v.Str("dimm"), Namespace = v.Str("namespace"), Mode = v.Str("mode"), Type = v.Str("type") };
        var s = new State
        {
            Buses = v.Bool("buses"), Dimms = v.Bool("dimms"), Regions = v.Bool("regions"), Namespaces = v.Bool("namespaces"),
            Idle = v.Bool("idle"), Health = v.Bool("health"), MediaErrors = v.Bool("media-errors"), Human = v.Bool("human"),
            Configured = v.Bool("configured"),
        };
        if (!s.Buses && !s.Dimms && !s.Regions && !s.Namespaces)
        {
            s.Buses = prm.Bus != null;
            s.Regions = prm.Region != null;
            s.Dimms = prm.Dimm != null;
        }
        if (!s.Buses && !s.Dimms && !s.Regions && !s.Namespaces) s.Namespaces = true;
        s.Flags = (s.Idle ? JsonFlags.Idle : 0) | (s.Configured ? JsonFlags.Configured : 0) | (s.MediaErrors ? JsonFlags.MediaErrors : 0)
            | (s.Human ? JsonFlags.Human : 0);
        var ctx = new NdCtx(io);
        var rc = Walk(ctx, prm, s);
        if (rc != 0) return rc;
        Display(io, s);
        return 0;
    }

    /// <summary>ndctl_filter_walk with list's filter_bus / filter_dimm / filter_region / filter_namespace.</summary>
    private static int Walk(NdCtx ctx, FilterParams prm, State s)
    {
        var io = ctx.Io;
        if (prm.Type != null && prm.Type is not ("pmem" or "blk"))
        {
            io.Error($"unknown type \"{prm.Type}\" must be \"pmem\" or \"blk\"\n");
            return -Uapi.Errno.EINVAL;
        }
        var type = prm.Type == null ? 0 : prm.Type == "pmem" ? 2 : 3;
        if (prm.Mode != null && FilterParams.NsModeOf(prm.Mode) == NsMode.Unknown)
        {
            io.Error($"invalid mode: '{prm.Mode}'\n");
            return -Uapi.Errno.EINVAL;
        }
        foreach (var bus in ctx.Buses)
        {
            if (!FilterParams.BusMatch(bus, prm.Bus)
                || prm.Dimm != null && prm.Dimm != "all" && !bus.Dimms.Any(d => FilterParams.DimmMatch(d, prm.Dimm))
                || prm.Region != null && prm.Region != "all" && !bus.Regions.Any(r => FilterParams.RegionMatch(r, prm.Region))
                || prm.Namespace != null && prm.Namespace != "all" && !bus.Regions.Any(r => r.Namespaces.Any(n => FilterParams.NamespaceMatch(n, prm.Namespace))))
                continue;
            FilterBus(bus, s);
            if (s.Dimms)
                foreach (var d in bus.Dimms)
                {
                    if (!FilterParams.DimmMatch(d, prm.Dimm) || !DimmInRegionFilter(d, prm.Region) || !DimmInNamespaceFilter(d, prm.Namespace)) continue;
                    FilterDimm(d, s);
                }
            foreach (var r in bus.Regions)
            {
                if (!FilterParams.RegionMatch(r, prm.Region)
                    || prm.Dimm != null && prm.Dimm != "all" && !r.Mappings.Any(m => FilterParams.DimmMatch(m.Dimm, prm.Dimm))
                    || prm.Namespace != null && prm.Namespace != "all" && !r.Namespaces.Any(n => FilterParams.NamespaceMatch(n, prm.Namespace)))
                    continue;
                if (type != 0 && r.Type != type) continue;
                if (!FilterRegion(r, s, prm)) continue;
                if (!s.Namespaces) continue;
                foreach (var ns in r.Namespaces)
                {
                    if (!FilterParams.NamespaceMatch(ns, prm.Namespace)) continue;
                    if (prm.Mode != null && FilterParams.NsModeOf(prm.Mode) != ns.Mode) continue;
                    FilterNamespace(ns, s);
                }
            }
        }
        return 0;
    }

    private static bool DimmInRegionFilter(NdDimm d, string? ident) =>
        ident == null || ident == "all" || d.Bus.Regions.Any(r => FilterParams.RegionMatch(r, ident) && r.Mappings.Any(m => m.Dimm == d));

    private static bool DimmInNamespaceFilter(NdDimm d, string? ident) =>
        ident == null || ident == "all" || d.Bus.Regions.Any(r => r.Namespaces.Any(n => FilterParams.NamespaceMatch(n, ident)) && r.Mappings.Any(m => m.Dimm == d));

    private static void FilterBus(NdBus bus, State s)
    {
        if (s.JBuses != null) s.JDimms = s.JRegions = s.JNamespaces = null;
        if (s.JBuses != null) s.JRegion = null;
        if (!s.Buses) return;
        s.JBuses ??= new JArray();
        s.JBus = NdJson.Bus(bus);
        s.JBuses.Add(s.JBus);
    }

    private static void FilterDimm(NdDimm d, State s)
    {
        if (!s.Configured && !s.Idle && !d.IsEnabled) return;
        if (s.JDimms == null)
        {
            s.JDimms = new JArray();
            s.JBus?.Add("dimms", s.JDimms);
        }
        var j = NdJson.Dimm(d, s.Flags);
        if (s.Health && NdJson.Health(d) is { } h) j.Add("health", h);
        s.JDimms.Add(j);
    }

    /// <summary>region_to_json: dev, size, align, available_size, max_available_extent, type, iset_id, mappings, state, badblock_count, badblocks, persistence_domain.</summary>
    private static bool FilterRegion(NdRegion r, State s, FilterParams prm)
    {
        if (!s.Regions) return true;
        if (!s.Configured && !s.Idle && !r.IsEnabled) return true;
        if (s.JRegions == null)
        {
            s.JRegions = new JArray();
            s.JBus?.Add("regions", s.JRegions);
        }
        var human = s.Flags.HasFlag(JsonFlags.Human);
        var j = new JObject().Add("dev", new JString(r.Devname)).Add("size", new JSize(r.Size, human));
        if (r.Align < ulong.MaxValue) j.Add("align", new JSize(r.Align, human));
        j.Add("available_size", new JSize(r.AvailableSize, human));
        if (r.MaxAvailableExtent != ulong.MaxValue) j.Add("max_available_extent", new JSize(r.MaxAvailableExtent, human));
        j.Add("type", new JString(r.TypeName));
        if (r.NumaNode >= 0 && s.Flags.HasFlag(JsonFlags.Verbose)) j.Add("numa_node", new JInt(r.NumaNode));
        if (r.TargetNode >= 0 && s.Flags.HasFlag(JsonFlags.Verbose)) j.Add("target_node", new JInt(r.TargetNode));
        if (r.NsType == NdNamespace.ND_DEVICE_NAMESPACE_PMEM) j.Add("iset_id", new JHex(r.Cookie, human));
        JArray? jm = null;
        if (s.Dimms)
            foreach (var m in r.Mappings)
            {
                if (!FilterParams.DimmMatch(m.Dimm, prm.Dimm)) continue;
                if (!s.Configured && !s.Idle && !m.Dimm.IsEnabled) continue;
                if (jm == null)
                {
                    jm = new JArray();
                    j.Add("mappings", jm);
                }
                jm.Add(NdJson.Mapping(m, s.Flags));
            }
        if (!r.IsEnabled) j.Add("state", new JString("disabled"));
        var jbbs = NdJson.RegionBadblocks(r, out var count, s.Flags);
        if (count > 0) j.Add("badblock_count", new JInt((long)count));
        if (s.Flags.HasFlag(JsonFlags.MediaErrors) && jbbs != null) j.Add("badblocks", jbbs);
        j.Add("persistence_domain", new JString(r.PersistenceDomain is "cpu_cache" or "memory_controller" or "none" ? r.PersistenceDomain : "unknown"));
        s.JRegion = j;
        s.JNamespaces = null;
        s.JRegions.Add(j);
        return true;
    }

    private static void FilterNamespace(NdNamespace ns, State s)
    {
        var container = s.JRegion ?? s.JBus;
        if (ns.IsActive || s.Idle || s.Configured && ns.Size > 0 && ns.Size < ulong.MaxValue) { }
        else return;
        if (s.JNamespaces == null)
        {
            s.JNamespaces = new JArray();
            container?.Add("namespaces", s.JNamespaces);
        }
        if (NdJson.Namespace(ns, s.Flags) is { } j) s.JNamespaces.Add(j);
    }

    /// <summary>list_display: buses, else a platform object when more than one kind, else the one array.</summary>
    private static void Display(NdctlIo io, State s)
    {
        if (s.JBuses != null) NdJson.DisplayArray(io, s.JBuses, s.Flags);
        else if ((s.JDimms != null ? 1 : 0) + (s.JRegions != null ? 1 : 0) + (s.JNamespaces != null ? 1 : 0) > 1)
        {
            var plat = new JObject();
            if (s.JDimms != null) plat.Add("dimms", s.JDimms);
            if (s.JRegions != null) plat.Add("regions", s.JRegions);
            if (s.JNamespaces != null && s.JRegions == null) plat.Add("namespaces", s.JNamespaces);
            io.Out.Append(plat.ToPretty()).Append('\n');
        }
        else if (s.JDimms != null) NdJson.DisplayArray(io, s.JDimms, s.Flags);
        else if (s.JRegions != null) NdJson.DisplayArray(io, s.JRegions, s.Flags);
        else if (s.JNamespaces != null) NdJson.DisplayArray(io, s.JNamespaces, s.Flags);
    }
}
