using System.Security.Cryptography;
using System.Text;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>
/// ndctl enable-/disable-/create-/destroy-namespace and clear-errors (ndctl/namespace.c do_xaction_namespace,
/// namespace_create / namespace_reconfig / setup_namespace / namespace_destroy / namespace_clear_bb).
/// </summary>
internal static class NamespaceCmds
{
    private enum Action { Enable, Disable, Create, Destroy, Clear }

    private static readonly Opt[] Base =
    [
        new('b', "bus", OptKind.String, "bus-id", "limit namespace to a bus with an id or provider of <bus-id>"),
        new('r', "region", OptKind.String, "region-id", "limit namespace to a region with an id or name of <region-id>"),
        new('v', "verbose", OptKind.Boolean, null, "emit extra debug messages to stderr"),
    ];

    private static readonly Opt[] DestroyOptions = [.. Base, new('f', "force", OptKind.Boolean, null, "destroy namespace even if currently active")];

    private static readonly Opt[] ClearOptions = [.. Base, new('s', "scrub", OptKind.Boolean, null, "run a scrub to find latent errors")];

    private static readonly Opt[] CreateOptions =
    [
        .. Base,
        new('e', "reconfig", OptKind.String, "reconfig namespace", "reconfigure existing namespace"),
        new('u', "uuid", OptKind.String, "uuid", "specify the uuid for the namespace (default: autogenerate)"),
        new('n', "name", OptKind.String, "name", "specify an optional free form name for the namespace"),
        new('s', "size", OptKind.String, "size", "specify the namespace size in bytes (default: available capacity)"),
        new('m', "mode", OptKind.String, "operation-mode", "specify a mode for the namespace, 'sector', 'fsdax', 'devdax' or 'raw'"),
        new('M', "map", OptKind.String, "memmap-location", "specify 'mem' or 'dev' for the location of the memmap"),
        new('l', "sector-size", OptKind.String, "lba-size", "specify the logical sector size in bytes"),
        new('t', "type", OptKind.String, "type", "specify the type of namespace to create 'pmem' or 'blk'"),
        new('a', "align", OptKind.String, "align", "specify the namespace alignment in bytes (default: 2M)"),
        new('f', "force", OptKind.Boolean, null, "reconfigure namespace even if currently active"),
        new('L', "autolabel", OptKind.Boolean, null, "automatically initialize labels"),
        new('c', "continue", OptKind.Boolean, null, "continue creating namespaces as long as the filter criteria are met"),
        new('R', "autorecover", OptKind.Boolean, null, "automatically cleanup on failure"),
    ];

    /// <summary>The run's state: parsed options, err() count (the err macro's err_count) and cmd_name.</summary>
    private sealed class Run
    {
        public required NdctlIo Io;
        public required OptValues V;
        public string CmdName = "namespace";
        public int ErrCount;
        public string? Type, Mode, Map, SectorSize;
        public bool ModeDefault, Force, Greedy, Autolabel, Autorecover;

        public void Err(string msg)
        {
            ErrCount++;
            Io.Error($"{CmdName}: {msg}");
        }
    }

    public static int Enable(NdctlIo io, string[] argv) => Xable(io, argv, Action.Enable, "ndctl enable-namespace <namespace> [<options>]", Base, "enable", "enabled", "enabling");

    public static int Disable(NdctlIo io, string[] argv) => Xable(io, argv, Action.Disable, "ndctl disable-namespace <namespace> [<options>]", Base, "disable", "disabled", "disabling");

    public static int Destroy(NdctlIo io, string[] argv) => Xable(io, argv, Action.Destroy, "ndctl destroy-namespace <namespace> [<options>]", DestroyOptions, "destroy", "destroyed", "destroying");

    public static int ClearErrors(NdctlIo io, string[] argv) => Xable(io, argv, Action.Clear, "ndctl clear_errors <namespace> [<options>]", ClearOptions, "clear errors for", "cleared", "clearing");

    private static int Xable(NdctlIo io, string[] argv, Action action, string usage, Opt[] options, string verb, string past, string gerund)
    {
        var r = Parse(io, argv, action, options, usage, verb, out var ns);
        var rc = Xaction(r, ns, action, out var processed);
        if (rc < 0 && r.ErrCount == 0) io.Err.Append($"error {gerund} namespaces: {NdctlMain.StrErr(rc)}\n");
        io.Err.Append($"{past} {processed} namespace{(processed == 1 ? "" : "s")}\n");
        return rc;
    }

    public static int Create(NdctlIo io, string[] argv)
    {
        var r = Parse(io, argv, Action.Create, CreateOptions, "ndctl create-namespace [<options>]", "create", out var ns);
        var doScan = argv.Length == 1;
        var rc = Xaction(r, ns, Action.Create, out var created);
        if (rc < 0 && created < 1 && doScan)
        {
            // The default scan tries pmem, then falls back to blk.
            r = new Run { Io = io, V = new OptValues(), Type = "blk", Autolabel = true, Autorecover = true };
            SetDefaults(r, Action.Create);
            rc = Xaction(r, null, Action.Create, out created);
        }
        if (r.Greedy) io.Err.Append($"created {created} namespace{(created == 1 ? "" : "s")}\n");
        if ((rc < 0 || ns == null && created < 1) && r.ErrCount == 0)
        {
            io.Err.Append($"failed to {(ns != null ? "reconfigure" : "create")} namespace: {NdctlMain.StrErr(rc)}\n");
            if (ns == null) rc = -Uapi.Errno.ENODEV;
        }
        return rc;
    }

    /// <summary>parse_namespace_options + set_defaults.</summary>
    private static Run Parse(NdctlIo io, string[] argv, Action action, Opt[] options, string usage, string verb, out string? ns)
    {
        var v = new OptValues();
        var args = ParseOptions.Parse(io, argv, options, [usage], v);
        var r = new Run
        {
            Io = io, V = v, Type = v.Str("type"), Mode = v.Str("mode"), Map = v.Str("map"), SectorSize = v.Str("sector-size"),
            Force = v.Bool("force"), Greedy = v.Bool("continue"), Autolabel = v.Bool("autolabel", true), Autorecover = v.Bool("autorecover", true),
        };
        var rc = SetDefaults(r, action);
        if (args.Count == 0 && action != Action.Create)
        {
            io.Error($"specify a namespace to {verb}, or \"all\"\n");
            rc = -Uapi.Errno.EINVAL;
        }
        for (var i = action == Action.Create ? 0 : 1; i < args.Count; i++)
        {
            io.Error($"unknown extra parameter \"{args[i]}\"\n");
            rc = -Uapi.Errno.EINVAL;
        }
        if (rc != 0) ParseOptions.UsageWithOptions(io, [usage], options);
        ns = action == Action.Create ? v.Str("reconfig") : args[0];
        return r;
    }

    /// <summary>set_defaults: type pmem, mode fsdax, map dev, sector_size 4096 for sector mode, and the syntax checks.</summary>
    private static int SetDefaults(Run r, Action action)
    {
        var io = r.Io;
        var v = r.V;
        var reconfig = v.Str("reconfig") != null;
        var rc = 0;
        if (r.Type != null)
        {
            if (r.Type is not ("pmem" or "blk"))
            {
                io.Error($"invalid type '{r.Type}', must be either 'pmem' or 'blk'\n");
                rc = -Uapi.Errno.EINVAL;
            }
        }
        else if (!reconfig && action == Action.Create) r.Type = "pmem";
        if (r.Mode != null)
        {
            if (FilterParams.NsModeOf(r.Mode) == NsMode.Unknown)
            {
                io.Error($"invalid mode '{r.Mode}'\n");
                rc = -Uapi.Errno.EINVAL;
            }
        }
        else if (!reconfig && r.Type != null)
        {
            r.Mode = r.Type == "pmem" ? "fsdax" : "sector";
            r.ModeDefault = true;
        }
        if (r.Map != null)
        {
            if (r.Map is not ("mem" or "dev"))
            {
                io.Error($"invalid map location '{r.Map}'\n");
                rc = -Uapi.Errno.EINVAL;
            }
            if (!reconfig && r.Mode != null && r.Mode is not ("fsdax" or "devdax"))
            {
                io.Error("--map only valid for an devdax mode pmem namespace\n");
                rc = -Uapi.Errno.EINVAL;
            }
        }
        else if (!reconfig) r.Map = "dev";
        if (r.Type == "blk" && r.Mode is "fsdax" or "devdax")
        {
            io.Error("only 'pmem' namespaces support dax operation\n");
            rc = -Uapi.Errno.ENXIO;
        }
        if (v.Str("size") is { } size && SizeParse.Parse64(size) == ulong.MaxValue)
        {
            io.Error($"failed to parse namespace size '{size}'\n");
            rc = -Uapi.Errno.EINVAL;
        }
        if (v.Str("align") is { } align)
        {
            var a = SizeParse.Parse64(align);
            if (a == ulong.MaxValue)
            {
                io.Error($"failed to parse namespace alignment '{align}'\n");
                rc = -Uapi.Errno.EINVAL;
            }
            else if ((a & (a - 1)) != 0 || a < 4096)
            {
                io.Error("align must be a power-of-2 greater than 4096\n");
                rc = -Uapi.Errno.EINVAL;
            }
        }
        if (v.Str("size") is { } size2 && SizeParse.Parse64(size2) == ulong.MaxValue)
        {
            io.Error($"failed to parse namespace size '{size2}'\n");
            rc = -Uapi.Errno.EINVAL;
        }
        if (v.Str("uuid") is { } uuid && !Guid.TryParseExact(uuid, "D", out _))
        {
            io.Error($"failed to parse uuid: '{uuid}'\n");
            rc = -Uapi.Errno.EINVAL;
        }
        if (r.SectorSize != null)
        {
            if (SizeParse.Parse64(r.SectorSize) == ulong.MaxValue)
            {
                io.Error($"invalid sector size: {r.SectorSize}\n");
                rc = -Uapi.Errno.EINVAL;
            }
        }
        else if (r.Type == "blk" || FilterParams.NsModeOf(r.Mode) == NsMode.Sector) r.SectorSize = "4096";
        return rc;
    }

    /// <summary>do_xaction_namespace.</summary>
    private static int Xaction(Run r, string? name, Action action, out int processed)
    {
        processed = 0;
        var rc = -Uapi.Errno.ENXIO;
        if (name == null && action != Action.Create) return rc;
        if (name == "all") rc = 0;
        r.CmdName = action switch
        {
            Action.Enable => "enable namespace",
            Action.Disable => "disable namespace",
            Action.Create => "create namespace",
            Action.Destroy => "destroy namespace",
            _ => "clear errors namespace",
        };
        var ctx = new NdCtx(r.Io);
        foreach (var bus in ctx.Buses)
        {
            if (!FilterParams.BusMatch(bus, r.V.Str("bus"))) continue;
            var doScrub = r.V.Bool("scrub");
            foreach (var region in bus.Regions)
            {
                if (!FilterParams.RegionMatch(region, r.V.Str("region"))) continue;
                if (r.Type != null && region.TypeName != r.Type) continue;
                if (action == Action.Create && name == null)
                {
                    rc = NamespaceCreate(r, region);
                    if (rc == -Uapi.Errno.EAGAIN) continue;
                    if (rc == 0)
                    {
                        processed++;
                        if (r.Greedy) continue;
                    }
                    return rc;
                }
                foreach (var ns in region.Namespaces.ToList())
                {
                    if (name == "all")
                    {
                        if (ns.Size == 0 && ns.Uuid == NdNamespace.NullUuid) continue;
                    }
                    else if (name != ns.Devname) continue;
                    switch (action)
                    {
                        case Action.Disable:
                            rc = ns.DisableSafe();
                            if (rc == 0) processed++;
                            break;
                        case Action.Enable:
                            rc = ns.Enable();
                            if (rc >= 0)
                            {
                                processed++;
                                rc = 0;
                            }
                            break;
                        case Action.Destroy:
                            rc = NamespaceDestroy(r, region, ns);
                            if (rc == 0) processed++;
                            if (rc > 0) rc = 0;
                            break;
                        case Action.Clear:
                            rc = ClearBadblocks(r, ns, doScrub);
                            doScrub = false;
                            if (rc == 0) processed++;
                            break;
                        case Action.Create:
                            rc = NamespaceReconfig(r, region, ns);
                            if (rc == 0) processed = 1;
                            return rc;
                    }
                }
            }
        }
        if (action == Action.Create && rc == -Uapi.Errno.EAGAIN) rc = r.Greedy && processed > 0 ? 0 : -Uapi.Errno.ENOSPC;
        return rc;
    }

    /// <summary>struct parsed_parameters.</summary>
    private sealed class P
    {
        public string Loc = "none";
        public string Uuid = "";
        public string Name = "";
        public NsMode Mode = NsMode.Raw;
        public ulong Size, Align, SectorSize;
    }

    /// <summary>validate_namespace_options.</summary>
    private static int Validate(Run r, NdRegion region, NdNamespace? ns, out P p)
    {
        p = new P();
        var io = r.Io;
        var regionName = region.Devname;
        if (!region.IsEnabled) return -Uapi.Errno.EAGAIN;
        ulong units = 1;
        var defaultSize = false;
        if (r.V.Str("size") is { } s) p.Size = SizeParse.Parse64(s, out units);
        else if (ns != null) p.Size = ns.Size;
        else defaultSize = true;
        if (ns == null)
        {
            var avail = region.NsType == NdNamespace.ND_DEVICE_NAMESPACE_IO ? region.Size : region.MaxAvailableExtent;
            if (avail == ulong.MaxValue) avail = region.AvailableSize;
            if (avail == 0 || p.Size > avail) return -Uapi.Errno.EAGAIN;
            if (p.Size == 0) p.Size = avail;
        }
        if (region.NsType == NdNamespace.ND_DEVICE_NAMESPACE_IO && p.Size != region.Size)
        {
            io.Error("Legacy / label-less namespaces do not support sub-dividing a region\n");
            io.Error("Retry without -s/--size=\n");
            return -Uapi.Errno.EINVAL;
        }
        p.Uuid = r.V.Str("uuid") ?? GenerateUuid(io, region, "ns");
        p.Name = r.V.Str("name") ?? ns?.AltName ?? "";
        if (p.Name.Length >= 64)
        {
            r.Err("validate_namespace_options: alt name overflow\n");
            return -Uapi.Errno.EINVAL;
        }
        NdPfn? pfn = null, dax = null;
        if (r.Mode != null)
        {
            p.Mode = FilterParams.NsModeOf(r.Mode);
            if (region.Type != 2 && p.Mode is NsMode.Fsdax or NsMode.Devdax)
            {
                r.Err($"blk {regionName} does not support {FilterParams.NsModeName(p.Mode)} mode\n");
                return -Uapi.Errno.EAGAIN;
            }
        }
        else if (ns != null) p.Mode = ns.Mode ?? NsMode.Raw;
        if (p.Mode == NsMode.Fsdax)
        {
            pfn = region.PfnSeed;
            if (pfn == null && r.ModeDefault)
            {
                r.Err($"{regionName} fsdax mode not available\n");
                p.Mode = NsMode.Raw;
            }
        }
        else if (p.Mode == NsMode.Devdax)
        {
            dax = region.DaxSeed;
            if (dax == null)
            {
                io.Error("Kernel does not support devdax mode\n");
                return -Uapi.Errno.ENODEV;
            }
        }
        if (r.V.Str("align") is { } a)
        {
            LbaSize aligns;
            switch (p.Mode)
            {
                case NsMode.Fsdax:
                    if (pfn == null)
                    {
                        io.Error("Kernel does not support setting an alignment in fsdax mode\n");
                        return -Uapi.Errno.EINVAL;
                    }
                    aligns = pfn.Alignments;
                    break;
                case NsMode.Devdax:
                    aligns = dax!.Alignments;
                    break;
                default:
                    io.Error($"{FilterParams.NsModeName(p.Mode)} mode does not support setting an alignment\n");
                    return -Uapi.Errno.ENXIO;
            }
            p.Align = SizeParse.Parse64(a);
            if (!aligns.Supported.Contains(p.Align))
            {
                io.Error($"unsupported align: {a}\n");
                return -Uapi.Errno.ENXIO;
            }
        }
        else
        {
            if (ns != null && p.Mode == ns.Mode)
                p.Align = ns.Pfn?.Align ?? ns.Dax?.Align ?? 4096;
            else if (p.Mode == NsMode.Fsdax) p.Align = pfn != null && pfn.HasAlign ? pfn.Align : 2UL << 20;
            else if (p.Mode == NsMode.Devdax) p.Align = dax!.Align;
            else p.Align = 4096;
            var res = region.Resource;
            if (res < ulong.MaxValue && p.Align != 0 && (res & (p.Align - 1)) != 0) p.Align = 4096;
        }
        if (region.Align < ulong.MaxValue && region.Align != 0 && p.Size % region.Align != 0)
        {
            r.Err($"{regionName}: align setting is 0x{region.Align:x} size 0x{p.Size:x} is misaligned\n");
            return -Uapi.Errno.EINVAL;
        }
        var ways = (ulong)region.InterleaveWays;
        if (p.Align != 0 && p.Size % (p.Align * ways) != 0)
        {
            var suffix = units switch { 1UL << 10 => "K", 1UL << 20 => "M", 1UL << 30 => "G", 1UL << 40 => "T", _ => "" };
            var sizeAlign = Math.Max(units, p.Align) * ways;
            var want = (p.Size / sizeAlign + 1) * sizeAlign / units;
            r.Err($"'--size=' must align to interleave-width: {ways} and alignment: {p.Align}\ndid you intend --size={want}{suffix}?\n");
            return -Uapi.Errno.EINVAL;
        }
        if (p.Size < 16UL << 20 && p.Mode != NsMode.Raw)
        {
            if (defaultSize) return -Uapi.Errno.EAGAIN;
            io.Error($"'--size=' must be >= 16MiB for '{FilterParams.NsModeName(p.Mode)}' mode\n");
            return -Uapi.Errno.EINVAL;
        }
        if (r.SectorSize != null)
        {
            p.SectorSize = SizeParse.Parse64(r.SectorSize);
            var btt = region.BttSeed;
            if (p.Mode == NsMode.Sector)
            {
                if (btt == null)
                {
                    r.Err($"{regionName}: does not support 'sector' mode\n");
                    return -Uapi.Errno.EINVAL;
                }
                if (!btt.LbaSize.Supported.Contains(p.SectorSize))
                {
                    r.Err($"{regionName}: does not support btt sector_size {p.SectorSize}\n");
                    return -Uapi.Errno.EINVAL;
                }
            }
            else
            {
                var seed = ns ?? region.NamespaceSeed;
                if (seed == null)
                {
                    r.Err($"{regionName}: failed to get seed\n");
                    return -Uapi.Errno.ENXIO;
                }
                if (!seed.LbaSize.Supported.Contains(p.SectorSize))
                {
                    r.Err($"{regionName}: does not support namespace sector_size {p.SectorSize}\n");
                    return -Uapi.Errno.EINVAL;
                }
            }
        }
        else if (ns != null)
            p.SectorSize = ns.Btt is { } btt && p.Mode == NsMode.Sector ? btt.SectorSize : ns.SectorSize;
        else
        {
            var seed = region.NamespaceSeed;
            if (seed == null)
            {
                r.Err($"{regionName}: failed to get seed\n");
                return -Uapi.Errno.ENXIO;
            }
            p.SectorSize = seed.LbaSize.Supported.Count == 0 ? uint.MaxValue : 512;
        }
        if (r.Map != null)
        {
            p.Loc = r.Map == "mem" ? "ram" : "pmem";
            if (ns != null && p.Mode is not (NsMode.Fsdax or NsMode.Devdax))
            {
                r.Err($"{ns.Devname}: --map= only valid for fsdax mode namespace\n");
                return -Uapi.Errno.EINVAL;
            }
        }
        else if (p.Mode is NsMode.Fsdax or NsMode.Devdax) p.Loc = "pmem";
        if (pfn == null && DoSetupPfn(ns, p))
        {
            io.Error($"operation failed, {regionName} cannot support requested mode\n");
            return -Uapi.Errno.EINVAL;
        }
        return 0;
    }

    /// <summary>do_setup_pfn: fsdax always needs a pfn device unless the namespace already is fsdax with the memmap in RAM.</summary>
    private static bool DoSetupPfn(NdNamespace? ns, P p) =>
        p.Mode == NsMode.Fsdax && (ns == null || ns.Mode != NsMode.Fsdax || p.Loc == "pmem");

    /// <summary>
    /// uuid_generate, made deterministic: a version-4 layout over a hash of the region, the purpose, the process and
    /// the output so far (libuuid reads getrandom(2), which the simulator does not model).
    /// </summary>
    private static string GenerateUuid(NdctlIo io, NdRegion region, string what)
    {
        var seed = $"{region.Path}/{what}/{io.P.Pid}/{io.Out.Length}/{io.Err.Length}";
        var h = SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        h[6] = (byte)(h[6] & 0x0f | 0x40);
        h[8] = (byte)(h[8] & 0x3f | 0x80);
        return new Guid(h.AsSpan(0, 16), bigEndian: true).ToString("D");
    }

    /// <summary>check_dax_align: the namespace must start on 16 MiB (or --force).</summary>
    private static int CheckDaxAlign(Run r, NdNamespace ns)
    {
        if (ns.Resource == ulong.MaxValue)
        {
            r.Io.Warning($"{ns.Devname} unable to validate alignment\n");
            return 0;
        }
        if ((ns.Resource & ((16UL << 20) - 1)) == 0 || r.Force) return 0;
        r.Io.Error($"{ns.Devname} misaligned to 16M, adjust region alignment and retry\n");
        return -Uapi.Errno.EINVAL;
    }

    private static int Try(Run r, string dev, string op, int rc)
    {
        if (rc != 0) r.Err($"{dev}: {op} failed: {NdctlMain.StrErr(rc)}\n");
        return rc;
    }

    /// <summary>setup_namespace: uuid/name/size (labelled), sector size, holder_class, then the claim device and its enable.</summary>
    private static int Setup(Run r, NdRegion region, NdNamespace ns, P p)
    {
        int rc;
        var dev = ns.Devname;
        if (ns.Type != NdNamespace.ND_DEVICE_NAMESPACE_IO)
        {
            if ((rc = Try(r, dev, "set_uuid", ns.SetUuid(p.Uuid))) != 0) return rc;
            if ((rc = Try(r, dev, "set_alt_name", ns.SetAltName(p.Name))) != 0) return rc;
            if ((rc = Try(r, dev, "set_size", ns.SetSize(p.Size))) != 0) return rc;
        }
        if (p.SectorSize != 0 && p.SectorSize < uint.MaxValue)
        {
            if (ns.LbaSize.Supported.Contains(p.SectorSize))
            {
                if ((rc = Try(r, dev, "set_sector_size", ns.SetSectorSize(p.SectorSize))) != 0) return rc;
            }
            else if (p.Mode == NsMode.Sector) { }
            else if (p.SectorSize != 512)
            {
                r.Io.Error($"{dev}: sector_size: {p.SectorSize} not supported\n");
                return -Uapi.Errno.EINVAL;
            }
        }
        var uuid = GenerateUuid(r.Io, region, "claim");
        ns.SetEnforceMode(p.Mode);
        if (DoSetupPfn(ns, p) || p.Mode == NsMode.Devdax)
        {
            var claim = p.Mode == NsMode.Devdax ? region.DaxSeed : region.PfnSeed;
            if (claim == null) return -Uapi.Errno.ENXIO;
            if ((rc = CheckDaxAlign(r, ns)) != 0) return rc;
            var cdev = claim.Devname;
            if ((rc = Try(r, cdev, "set_uuid", claim.SetUuid(uuid))) != 0) return rc;
            if ((rc = Try(r, cdev, "set_location", claim.SetLocation(p.Loc))) != 0) return rc;
            if ((p.Mode == NsMode.Devdax || claim.HasAlign) && (rc = Try(r, cdev, "set_align", claim.SetAlign(p.Align))) != 0) return rc;
            if ((rc = Try(r, cdev, "set_namespace", claim.SetNamespace(ns))) != 0) return rc;
            rc = claim.Enable();
            if (rc != 0 && r.Autorecover) claim.SetNamespace(null);
        }
        else if (p.Mode == NsMode.Sector)
        {
            var btt = region.BttSeed;
            if (btt == null) return -Uapi.Errno.ENXIO;
            if (p.SectorSize == uint.MaxValue) p.SectorSize = 4096;
            var bdev = btt.Devname;
            if ((rc = Try(r, bdev, "set_uuid", btt.SetUuid(uuid))) != 0) return rc;
            if ((rc = Try(r, bdev, "set_sector_size", btt.SetSectorSize(p.SectorSize))) != 0) return rc;
            if ((rc = Try(r, bdev, "set_namespace", btt.SetNamespace(ns))) != 0) return rc;
            rc = btt.Enable();
        }
        else rc = ns.Enable();
        if (rc != 0) r.Io.Error($"{dev}: failed to enable\n");
        else if (NdJson.Namespace(ns, JsonFlags.Dax) is { } j) r.Io.Out.Append(j.ToPretty()).Append('\n');
        return rc < 0 ? rc : 0;
    }

    /// <summary>
    /// util_daxctl_region_to_json with UTIL_JSON_DAX | UTIL_JSON_DAX_DEVS: id, size, available_size (when non-zero),
    /// align, and the devices (chardev, size, target_node, align, mode).
    /// </summary>
    internal static JObject? DaxRegionJson(NdctlIo io, NdPfn dax)
    {
        var ctx = new NdCtx(io);
        var rp = dax.Path + "/dax_region";
        if (ctx.Attr(rp + "/id") is not { } id) return null;
        var j = new JObject().Add("id", new JInt(CStr.StrToL(id, 0, out _)));
        var size = ctx.AttrU(rp + "/size", ulong.MaxValue);
        if (size < ulong.MaxValue) j.Add("size", new JInt((long)size));
        var avail = ctx.AttrU(rp + "/available_size", 0);
        if (avail != 0) j.Add("available_size", new JInt((long)avail));
        var align = ctx.AttrU(rp + "/align", ulong.MaxValue);
        if (align < ulong.MaxValue) j.Add("align", new JInt(align));
        var devs = new JArray();
        if (dax.DaxChardev is { } chardev)
        {
            var dp = dax.Path + "/" + chardev;
            var jd = new JObject().Add("chardev", new JString(chardev)).Add("size", new JInt((long)ctx.AttrU(dp + "/size", 0)));
            var node = ctx.AttrL(dp + "/target_node", -1);
            if (node >= 0) jd.Add("target_node", new JInt(node));
            var dalign = ctx.AttrU(dp + "/align", 0);
            if (dalign > 0) jd.Add("align", new JInt(dalign));
            jd.Add("mode", new JString("devdax"));
            if (!io.IsLink(dp + "/driver")) jd.Add("state", new JString("disabled"));
            devs.Add(jd);
        }
        if (devs.Items.Count > 0) j.Add("devices", devs);
        return j;
    }

    /// <summary>validate + region_get_namespace + setup_namespace (autorecover: raw holder_class and delete on failure).</summary>
    private static int NamespaceCreate(Run r, NdRegion region)
    {
        var rc = Validate(r, region, null, out var p);
        if (rc != 0) return rc;
        if (region.ReadOnly) return -Uapi.Errno.EAGAIN;
        var ns = RegionGetNamespace(region);
        if (ns == null || !ns.IsConfigurationIdle) return -Uapi.Errno.EAGAIN;
        rc = Setup(r, region, ns, p);
        if (rc != 0 && r.Autorecover)
        {
            ns.SetEnforceMode(NsMode.Raw);
            ns.Delete();
        }
        return rc;
    }

    /// <summary>region_get_namespace: namespace id 0 when configuration-idle, else the seed.</summary>
    private static NdNamespace? RegionGetNamespace(NdRegion region) =>
        region.Namespaces.Find(n => n.Id == 0 && n.IsConfigurationIdle) ?? region.NamespaceSeed;

    /// <summary>
    /// zero_info_block: force_raw, enable, read the first 8 KiB through the block device (O_DIRECT|O_EXCL) and zero
    /// them unless already zero; then force_raw off and disable_invalidate. 0 zeroed, 1 skipped, &lt;0 error.
    /// </summary>
    private static int ZeroInfoBlock(Run r, NdNamespace ns)
    {
        var dev = ns.Devname;
        const int infoSize = 8192;
        ns.SetRawMode(true);
        var rc = ns.Enable();
        var p = r.Io.P;
        if (rc < 0)
        {
            r.Err($"{dev} failed to enable for zeroing, continuing\n");
            rc = 1;
        }
        else
        {
            var path = "/dev/" + ns.BlockDevice;
            var fd = p.Open(path, Uapi.Fcntl.O_RDWR | Uapi.Fcntl.O_DIRECT | Uapi.Fcntl.O_EXCL);
            if (fd < 0)
            {
                r.Err($"{dev}: failed to open {path} to zero info block\n");
                rc = -Uapi.Errno.ENXIO;
            }
            else
            {
                var buf = p.MapAnonymous(infoSize);
                var n = p.Pread64((int)fd, buf, infoSize, 0);
                if (n < infoSize) r.Err($"{dev}: failed to read info block, continuing\n");
                var data = new byte[infoSize];
                p.Load(buf, data);
                if (n == infoSize && Array.TrueForAll(data, b => b == 0)) rc = 1;
                else
                {
                    p.Store(buf, new byte[infoSize]);
                    n = p.Pwrite64((int)fd, buf, infoSize, 0);
                    if (n < infoSize)
                    {
                        r.Err($"{dev}: failed to zero info block {path}\n");
                        rc = -Uapi.Errno.ENXIO;
                    }
                    else rc = 0;
                }
                p.Close((int)fd);
                p.Munmap(buf.Value, infoSize);
            }
        }
        ns.SetRawMode(false);
        ns.DisableInvalidate();
        return rc;
    }

    /// <summary>namespace_prep_reconfig: refuse read-only and (without --force) active namespaces; disable, zero the info block.</summary>
    private static int PrepReconfig(Run r, NdRegion region, NdNamespace ns)
    {
        if (region.ReadOnly)
        {
            r.Io.Error($"{ns.Devname}: read-only, re-configuration disabled\n");
            return -Uapi.Errno.ENXIO;
        }
        if (ns.IsActive && !r.Force)
        {
            r.Io.Error($"{ns.Devname} is active, specify --force for re-configuration\n");
            return -Uapi.Errno.EBUSY;
        }
        var rc = ns.DisableSafe();
        if (rc != 0) return rc;
        ns.SetEnforceMode(NsMode.Raw);
        rc = ZeroInfoBlock(r, ns);
        if (rc < 0) return rc;
        var zeroed = rc == 0;
        return ns.Type is NdNamespace.ND_DEVICE_NAMESPACE_PMEM or NdNamespace.ND_DEVICE_NAMESPACE_BLK ? 2 : zeroed ? 0 : 1;
    }

    private static int NamespaceDestroy(Run r, NdRegion region, NdNamespace ns)
    {
        var rc = PrepReconfig(r, region, ns);
        if (rc < 0) return rc;
        if (rc == 2) rc = ns.Delete();
        return rc;
    }

    /// <summary>namespace_reconfig: validate, prepare, then set up again (label initialisation is not modelled).</summary>
    private static int NamespaceReconfig(Run r, NdRegion region, NdNamespace ns)
    {
        var rc = Validate(r, region, ns, out var p);
        if (rc != 0) return rc;
        rc = PrepReconfig(r, region, ns);
        if (rc < 0) return rc;
        if (region.NsType == NdNamespace.ND_DEVICE_NAMESPACE_IO && r.Autolabel && LabelsSupported(region))
        {
            r.Io.Error($"{region.Devname}: namespace label initialisation (--autolabel) is not modelled; retry with --no-autolabel\n");
            return -Uapi.Errno.EOPNOTSUPP;
        }
        return Setup(r, region, ns, p);
    }

    /// <summary>enable_labels' first test: every DIMM of the region supports get_size, get_data and set_data.</summary>
    private static bool LabelsSupported(NdRegion region) =>
        region.NumMappings > 0 && region.Mappings.Count == region.NumMappings && region.Mappings.All(m => m.Dimm.IsCmdSupported(4) && m.Dimm.IsCmdSupported(5) && m.Dimm.IsCmdSupported(6));

    /// <summary>namespace_clear_bb: wait for (or start) a scrub, clear every bad block inside the data area, re-enable, print.</summary>
    private static int ClearBadblocks(Run r, NdNamespace ns, bool doScrub)
    {
        var io = r.Io;
        if (ns.Btt != null) return 1;
        var bus = ns.Region.Bus;
        var dev = ns.Devname;
        var st = bus.GetScrubState(out _, out var active);
        if (st < 0)
        {
            io.Error($"{dev}: Unable to determine scrub state: {NdctlMain.StrErr(st)}\n");
            return st;
        }
        if (doScrub && !active)
        {
            var s = bus.StartScrub();
            if (s != 0)
            {
                io.Error($"{dev}: Unable to start scrub: {NdctlMain.StrErr(s)}\n");
                return s;
            }
        }
        var rc = bus.PollScrubCompletion(0, 0);
        if (rc != 0)
        {
            io.Error($"{dev}: Error waiting for scrub: {NdctlMain.StrErr(rc)}\n");
            return rc;
        }
        ulong begin, size;
        string devname;
        if (ns.Dax is { } dax) (begin, size, devname) = (dax.Resource, dax.Size, dax.Devname);
        else if (ns.Pfn is { } pfn) (begin, size, devname) = (pfn.Resource, pfn.Size, pfn.Devname);
        else (begin, size, devname) = (ns.Resource, ns.Size, dev);
        if (begin == ulong.MaxValue || size == ulong.MaxValue) return -Uapi.Errno.ENXIO;
        rc = ns.DisableSafe();
        if (rc != 0)
        {
            io.Error($"{devname}: unable to disable namespace: {NdctlMain.StrErr(rc)}\n");
            return rc;
        }
        rc = ClearRange(r, ns, devname, begin, size);
        if (rc != 0) return rc;
        if (NdJson.Namespace(ns, JsonFlags.MediaErrors) is { } j) io.Out.Append(j.ToPretty()).Append('\n');
        return 0;
    }

    /// <summary>nstype_clear_badblocks: bus_send_clear (ARS_CAP, CLEAR_ERROR) for each region bad block wholly inside the device.</summary>
    private static int ClearRange(Run r, NdNamespace ns, string devname, ulong devBegin, ulong devSize)
    {
        var region = ns.Region;
        var regionBegin = region.Resource;
        if (regionBegin == ulong.MaxValue)
        {
            if (ns.Enable() < 0) r.Io.Error($"{devname}: failed to reenable namespace\n");
            return -Uapi.Errno.ENXIO;
        }
        var devEnd = devBegin + devSize - 1;
        foreach (var (off, len) in region.Badblocks())
        {
            var bbBegin = regionBegin + (off << 9);
            var bbLen = (ulong)len << 9;
            if (bbBegin < devBegin || bbBegin + bbLen - 1 > devEnd) continue;
            var rc = BusSendClear(r, region.Bus, bbBegin, bbLen);
            if (rc != 0)
            {
                r.Io.Error($"{devname}: failed to clear badblock at {{{off}, {len}}}\n");
                break;
            }
        }
        var e = ns.Enable();
        return e < 0 ? e : 0;
    }

    /// <summary>bus_send_clear: ARS_CAP over the range, CLEAR_ERROR of it; the cleared count must cover it.</summary>
    private static int BusSendClear(Run r, NdBus bus, ulong start, ulong size)
    {
        var name = bus.Provider;
        if (!bus.IsCmdSupported(NdCmd.ND_CMD_ARS_CAP))
        {
            r.Err($"bus: {name} failed to create cmd\n");
            return -Uapi.Errno.ENOTTY;
        }
        var rc = NdCmd.ArsCap(bus, start, size, out var status, out _, out var unit);
        if (rc < 0)
        {
            r.Err($"bus: {name} failed to submit cmd: {rc}\n");
            return rc;
        }
        if ((status & 0xffff) != 0 || unit == 0 || (unit & (unit - 1)) != 0)
        {
            r.Err($"bus: {name} failed to get ars_cap range\n");
            return -Uapi.Errno.ENXIO;
        }
        if (!bus.IsCmdSupported(NdCmd.ND_CMD_ARS_STATUS) || ((start | size) & (unit - 1)) != 0)
        {
            r.Err($"bus: {name} failed to create cmd\n");
            return -Uapi.Errno.ENOTTY;
        }
        rc = NdCmd.ClearError(bus, start, size, out var cleared);
        if (rc < 0)
        {
            r.Err($"bus: {name} failed to submit cmd: {rc}\n");
            return rc;
        }
        if (cleared != size)
        {
            r.Err($"bus: {name} expected to clear: {size} actual: {cleared}\n");
            return -Uapi.Errno.ENXIO;
        }
        return 0;
    }
}
