using System.Security.Cryptography;
using System.Text;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>
/// ndctl enable-/disable-/create-/destroy-namespace and clear-errors (ndctl/namespace.c do_xaction_namespace,
/// namespace_create / namespace_reconfig / setup_namespace / namespace_destroy / namespace_clear_bb).
/// </summary>
internal static partial class NamespaceCmds
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
}
