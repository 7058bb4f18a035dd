using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Yaml;
using KernelSim.Drivers.Pmem;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Fs.Dax;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios;

/// <summary>The machine sections of the storage layers: pmem:, filesystems: and virtiofs:.</summary>
public static partial class ScenarioParser
{
    private static readonly Dictionary<string, HostFaultPolicy> Policies = new(StringComparer.Ordinal)
    {
        ["upstream-async-livelock"] = HostFaultPolicy.UpstreamAsyncLivelock,
        ["upstream-sync-vm-stop"] = HostFaultPolicy.UpstreamSyncVmStop,
        ["proposed-exit-to-user"] = HostFaultPolicy.ProposedExitToUserVmStop,
        ["proposed-guest-sigbus"] = HostFaultPolicy.ProposedGuestSigbus,
        ["proposed-machine-check"] = HostFaultPolicy.ProposedMachineCheck,
    };

    /// <summary>The policy names a scenario file may give, in table order.</summary>
    internal static IEnumerable<string> PolicyNames => Policies.Keys;

    /// <summary>Policy names as scenario files spell them.</summary>
    public static string PolicyName(HostFaultPolicy p) => Policies.First(kv => kv.Value == p).Key;

    private static MachineSpec ParseLayers(YamlMap m, MachineSpec spec)
    {
        if (m.Get("pmem") is { } pn) spec = spec with { Pmem = ParsePmem(YamlMap.Of(m.File, pn, "machine.pmem", ScenarioKeys.Pmem)) };
        if (m.Get("filesystems") is { } fn)
        {
            var list = new List<DaxFsSpec>();
            foreach (var item in YamlValues.List(fn))
            {
                var f = ParseDaxFs(YamlMap.Of(m.File, item, $"machine.filesystems[{list.Count}]", ScenarioKeys.DaxFs), spec.Pmem);
                if (list.Any(x => x.Device == f.Device)) throw new ScenarioException(m.File, item.Start, $"machine.filesystems[{list.Count}]: {f.Device} is formatted twice");
                if (list.Any(x => x.Mount == f.Mount) || spec.Ramfs.Any(x => x.Mount == f.Mount)) throw new ScenarioException(m.File, item.Start, $"machine.filesystems[{list.Count}]: {f.Mount} is mounted twice");
                list.Add(f);
            }
            spec = spec with { Filesystems = list };
        }
        if (m.Get("virtiofs") is { } vn)
        {
            var list = new List<VirtioFsSpec>();
            foreach (var item in YamlValues.List(vn))
            {
                var v = ParseVirtioFs(YamlMap.Of(m.File, item, $"machine.virtiofs[{list.Count}]", ScenarioKeys.VirtioFs));
                if (list.Any(x => x.Name == v.Name)) throw new ScenarioException(m.File, item.Start, $"machine.virtiofs[{list.Count}]: share '{v.Name}' is declared twice");
                if (list.Any(x => x.Mount == v.Mount) || spec.Ramfs.Any(x => x.Mount == v.Mount) || spec.Filesystems.Any(x => x.Mount == v.Mount))
                    throw new ScenarioException(m.File, item.Start, $"machine.virtiofs[{list.Count}]: {v.Mount} is mounted twice");
                list.Add(v);
            }
            spec = spec with { Virtiofs = list };
        }
        return spec;
    }

    private static PmemSpec ParsePmem(YamlMap p)
    {
        var e820 = false;
        var qemu = false;
        if (p.Get("bus") is { } bn)
        {
            var s = YamlValues.Scalar(p.File, bn, "machine.pmem.bus");
            (e820, qemu) = s switch
            {
                "nfit" => (false, false),
                "e820" => (true, false),
                "qemu" => (false, true),
                _ => throw p.Error(bn, $"machine.pmem.bus: '{s}' is not nfit, qemu or e820"),
            };
        }
        var regionSize = p.Size("size") ?? 0;
        var namespaces = new List<PmemNamespaceSpec>();
        if (p.Get("namespaces") is { } nn)
        {
            foreach (var item in YamlValues.List(nn))
            {
                var what = $"machine.pmem.namespaces[{namespaces.Count}]";
                var ns = YamlMap.Of(p.File, item, what, ScenarioKeys.PmemNamespace);
                var size = ns.Size("size") ?? throw ns.Error(ns.Node, $"{what}: missing required key 'size'");
                var mode = NamespaceMode.Fsdax;
                if (ns.Get("mode") is { } mn)
                {
                    var s = YamlValues.Scalar(p.File, mn, $"{what}.mode");
                    mode = s switch
                    {
                        "fsdax" => NamespaceMode.Fsdax,
                        "raw" => NamespaceMode.Raw,
                        "devdax" => NamespaceMode.Devdax,
                        "sector" => NamespaceMode.Sector,
                        _ => throw ns.Error(mn, $"{what}.mode: '{s}' is not fsdax, raw, devdax or sector"),
                    };
                }
                var sector = ns.Size("sector-size") ?? 512;
                if (sector is not (512 or 4096)) throw ns.Error(ns.Get("sector-size")!, $"{what}.sector-size: 512 or 4096");
                var dax = mode is NamespaceMode.Fsdax or NamespaceMode.Devdax;
                var pageAlign = ns.Size("align") ?? 2UL << 20;
                if (!dax && ns.Get("align") is { } an) throw ns.Error(an, $"{what}.align: only fsdax and devdax namespaces have an alignment");
                if (pageAlign is not (4096 or 2UL << 20 or 1UL << 30)) throw ns.Error(ns.Get("align")!, $"{what}.align: 4K, 2M or 1G");
                var align = dax ? Math.Max(pageAlign, 2UL << 20) : 4096UL;
                var min = mode == NamespaceMode.Sector ? (16UL << 20) + 4096 : 4UL << 20;
                if (size < min || size > 1UL << 36 || size % align != 0)
                    throw ns.Error(ns.Get("size")!, $"{what}.size: {(mode == NamespaceMode.Sector ? "16M + 4K (one BTT arena)" : "4M")} .. 64G, a multiple of {(dax ? $"{align >> 20}M for {(mode == NamespaceMode.Fsdax ? "fsdax" : "devdax")}" : "4K")}");
                if (dax && Nvdimm.FsdaxDataOffset(0, size, align) >= size)
                    throw ns.Error(ns.Get("size")!, $"{what}.size: too small for the info block and memmap at {align >> 20}M alignment");
                ns.Done();
                namespaces.Add(new PmemNamespaceSpec(size, mode, (uint)sector) { Align = pageAlign });
            }
        }
        else
        {
            var size = regionSize == 0 ? 64UL << 20 : regionSize;
            if (size < 4UL << 20 || size > 1UL << 36 || size % (2UL << 20) != 0)
                throw p.Error(p.Get("size") ?? p.Node, "machine.pmem.size: 4M .. 64G, a multiple of 2M");
            namespaces.Add(new PmemNamespaceSpec(size));
        }
        if (namespaces.Count == 0) throw p.Error(p.Node, "machine.pmem.namespaces: at least one namespace");
        var sum = namespaces.Aggregate(0UL, (a, n) => a + n.Size);
        if (regionSize != 0 && regionSize < sum) throw p.Error(p.Get("size")!, $"machine.pmem.size: {regionSize} bytes cannot hold the namespaces ({sum} bytes)");
        var ceu = p.Size("clear-err-unit") ?? 256;
        if (ceu == 0 || ceu > 1UL << 20) throw p.Error(p.Get("clear-err-unit")!, "machine.pmem.clear-err-unit: 1 .. 1M bytes (the kernel refuses a unit that is not a power of two with -ENXIO)");
        var scrub = p.Bool("hw-error-scrub") ?? false;
        p.Done();
        return new PmemSpec(e820, regionSize, namespaces, (uint)ceu, scrub) { Qemu = qemu };
    }

    private static DaxFsSpec ParseDaxFs(YamlMap f, PmemSpec? pmem)
    {
        var what = f.What;
        if (f.Get("type") is { } tn)
        {
            var t = YamlValues.Scalar(f.File, tn, $"{what}.type");
            if (t != "daxfs") throw f.Error(tn, $"{what}.type: '{t}' is not daxfs (the fsdax filesystem of this build)");
        }
        var devNode = f.Get("device");
        var dev = devNode == null ? "pmem0" : YamlValues.Scalar(f.File, devNode, $"{what}.device");
        if (dev.StartsWith("/dev/", StringComparison.Ordinal)) dev = dev[5..];
        if (pmem == null) throw f.Error(devNode ?? f.Node, $"{what}: a filesystem on {dev} needs machine.pmem");
        if (!dev.StartsWith("pmem", StringComparison.Ordinal) || !int.TryParse(dev[4..], out var idx) || idx < 0 || idx >= pmem.Namespaces.Count)
            throw f.Error(devNode ?? f.Node, $"{what}.device: '{dev}' is not a pmem disk of this machine (pmem0 … pmem{pmem.Namespaces.Count - 1})");
        var mount = f.Str("mount") ?? "/mnt/pmem";
        if (!mount.StartsWith('/') || mount == "/dev" || mount.StartsWith("/dev/", StringComparison.Ordinal))
            throw f.Error(f.Get("mount")!, $"{what}.mount: '{mount}' is not an absolute path outside /dev");
        var dax = DaxMode.Always;
        if (f.Get("dax") is { } dn)
        {
            var s = YamlValues.Scalar(f.File, dn, $"{what}.dax");
            dax = s switch
            {
                "always" => DaxMode.Always,
                "never" => DaxMode.Never,
                "inode" => DaxMode.Inode,
                _ => throw f.Error(dn, $"{what}.dax: '{s}' is not always, never or inode"),
            };
        }
        var route = FailureRoute.Generic;
        if (f.Get("failure-route") is { } rn)
        {
            var s = YamlValues.Scalar(f.File, rn, $"{what}.failure-route");
            route = s switch
            {
                "generic" => FailureRoute.Generic,
                "notify-failure" => FailureRoute.NotifyFailure,
                "notify-failure-no-rmap" => FailureRoute.NotifyFailureNoRmap,
                _ => throw f.Error(rn, $"{what}.failure-route: '{s}' is not generic, notify-failure or notify-failure-no-rmap"),
            };
        }
        var huge = f.Bool("huge-faults") ?? true;
        f.Done();
        return new DaxFsSpec(dev, mount, dax, route, huge);
    }

    private static VirtioFsSpec ParseVirtioFs(YamlMap v)
    {
        var what = v.What;
        var tag = v.Str("tag") ?? "myfs";
        var name = v.Str("name") ?? tag;
        if (!Model.AddrExpr.IsName(name)) throw v.Error(v.Get("name") ?? v.Get("tag") ?? v.Node, $"{what}.name: '{name}' is not a name");
        var mount = v.Str("mount") ?? "/mnt/virtiofs";
        if (!mount.StartsWith('/') || mount == "/dev" || mount.StartsWith("/dev/", StringComparison.Ordinal))
            throw v.Error(v.Get("mount")!, $"{what}.mount: '{mount}' is not an absolute path outside /dev");
        var window = v.Size("window") ?? 1UL << 30;
        if (window % (2UL << 20) != 0 || window > 1UL << 36) throw v.Error(v.Get("window")!, $"{what}.window: a multiple of 2M (ranges are 2 MiB), at most 64G; 0 for no window");
        var dax = DaxMountMode.Always;
        if (v.Get("dax") is { } dn)
        {
            var s = YamlValues.Scalar(v.File, dn, $"{what}.dax");
            dax = s switch
            {
                "always" => DaxMountMode.Always,
                "never" => DaxMountMode.Never,
                "inode" => DaxMountMode.Inode,
                "legacy" => DaxMountMode.Legacy,
                "default" => DaxMountMode.Default,
                _ => throw v.Error(dn, $"{what}.dax: '{s}' is not always, never, inode, legacy or default"),
            };
        }
        var policy = HostFaultPolicy.UpstreamAsyncLivelock;
        if (v.Get("policy") is { } pn)
        {
            var s = YamlValues.Scalar(v.File, pn, $"{what}.policy");
            if (!Policies.TryGetValue(s, out policy)) throw v.Error(pn, $"{what}.policy: '{s}' is not one of {string.Join(", ", Policies.Keys)}");
        }
        var files = new List<HostFileSpec>();
        if (v.Get("files") is { } fn)
        {
            foreach (var item in YamlValues.List(fn))
            {
                var fw = $"{what}.files[{files.Count}]";
                var f = YamlMap.Of(v.File, item, fw, ScenarioKeys.VirtioFsFile);
                var fname = f.RequireStr("name");
                if (fname.Length == 0 || fname.Contains('/', StringComparison.Ordinal)) throw f.Error(f.Get("name")!, $"{fw}.name: '{fname}' is not a file name");
                if (files.Any(x => x.Name == fname)) throw f.Error(f.Get("name")!, $"{fw}.name: '{fname}' exists");
                var size = f.Size("size") ?? 0;
                if (size > 1UL << 28) throw f.Error(f.Get("size")!, $"{fw}.size: at most 256M");
                var node = f.Size("node") ?? 0;
                if (node == 1) throw f.Error(f.Get("node")!, $"{fw}.node: 1 is the root directory");
                FillPattern? fill = null;
                if (f.Get("fill") is { } fill_)
                {
                    var s = YamlValues.Scalar(v.File, fill_, $"{fw}.fill");
                    fill = FillPattern.TryParse(s) ?? throw f.Error(fill_, $"{fw}.fill: '{s}' is not a fill pattern");
                }
                f.Done();
                files.Add(new HostFileSpec(fname, size, node, fill));
            }
        }
        v.Done();
        return new VirtioFsSpec(name, mount, tag, window, dax, policy, files);
    }

}
