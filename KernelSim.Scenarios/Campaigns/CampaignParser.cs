using KernelSim.Scenarios;
using KernelSim.Scenarios.Yaml;
using KernelSim.Profiles;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// Reads campaign files (YAML, the scenario conventions: every key checked, errors as
/// <see cref="ScenarioException"/> "file:line:column: reason").
/// </summary>
public static class CampaignParser
{
    public static CampaignSpec ParseFile(string path) => ParseText(path, File.ReadAllText(path));

    public static CampaignSpec ParseText(string file, string text) => ParseText(file, text, null);

    /// <summary>Parse campaign text; <paramref name="notes"/> receives "file:line:column: note: …" for a point release in profiles.</summary>
    public static CampaignSpec ParseText(string file, string text, ICollection<string>? notes)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var inner = e.InnerException is YamlException ie ? ie : e;
            throw new ScenarioException(file, inner.Start, "YAML syntax: " + inner.Message);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode)
            throw new ScenarioException(file, 1, 1, "no campaign in the file (expected campaign:, profiles:, workloads:, faults:)");
        var top = YamlMap.Of(file, stream.Documents[0].RootNode, "campaign file", CampaignKeys.Top);
        var nameNode = top.Require("campaign");
        var name = YamlValues.Scalar(file, nameNode, "campaign");
        var title = top.Str("title");

        var cpu = CpuModel.FastString;
        ulong dram = 64UL << 20, pmem = 16UL << 20;
        List<ulong> aligns = [2UL << 20];
        if (top.Get("machine") is { } mnode && YamlMap.Of(file, mnode, "machine", CampaignKeys.Machine) is { } m)
        {
            if (m.Get("cpu") is { } cn)
            {
                var s = YamlValues.Scalar(file, cn, "machine.cpu");
                if (!CpuModel.TryGet(s, out var c)) throw m.Error(cn, $"machine.cpu: '{s}' is not a CPU model (erms, fragile, none)");
                cpu = c;
            }
            if (m.Get("dram") is { } dn)
            {
                dram = YamlValues.Size(file, dn, "machine.dram");
                if (dram < 16UL << 20 || dram > 1UL << 40) throw m.Error(dn, "machine.dram: between 16M and 1T");
            }
            if (m.Get("pmem") is { } pn)
            {
                pmem = YamlValues.Size(file, pn, "machine.pmem");
                if (pmem < 8UL << 20 || pmem > 1UL << 34 || pmem % (2UL << 20) != 0) throw m.Error(pn, "machine.pmem: a multiple of 2M between 8M and 16G");
            }
            if (m.Get("devdax-align") is { } an)
            {
                aligns = [];
                foreach (var item in an is YamlSequenceNode ? YamlValues.List(an) : [an])
                {
                    var a = YamlValues.Size(file, item, "machine.devdax-align");
                    if (a is not (4096 or 2UL << 20 or 1UL << 30)) throw m.Error(item, "machine.devdax-align: 4K, 2M or 1G (a list draws one per seed)");
                    if (aligns.Contains(a)) throw m.Error(item, $"machine.devdax-align: {YamlValues.Scalar(file, item, "machine.devdax-align")} is listed twice");
                    aligns.Add(a);
                }
                if (aligns.Count == 0) throw m.Error(an, "machine.devdax-align: 4K, 2M or 1G (a list draws one per seed)");
            }
            m.Done();
        }

        var profiles = new List<KernelVersion>();
        var pnode = top.Require("profiles");
        foreach (var item in YamlValues.List(pnode))
        {
            var s = YamlValues.Scalar(file, item, "profiles");
            if (!KernelVersion.TryParse(s, out var v)) throw top.Error(item, $"profiles: '{s}' is not a kernel release (e.g. 6.12, 5.10, 4.17)");
            if (profiles.Contains(v)) throw top.Error(item, $"profiles: {s} is listed twice");
            if (KernelVersion.IsPointRelease(s)) notes?.Add($"{file}:{item.Start.Line}:{item.Start.Column}: note: profiles: {s} is a point release; it runs as Linux {v} (behaviour is modelled per release)");
            profiles.Add(v);
        }

        ulong first = 1, last = 100;
        if (top.Get("seeds") is { } sn)
        {
            var s = YamlValues.Scalar(file, sn, "seeds");
            if (!TryParseSeeds(s, out first, out last)) throw top.Error(sn, $"seeds: '{s}' is not a range A..B (A ≤ B)");
        }
        var ops = 8;
        if (top.Get("operations") is { } on)
        {
            var v = YamlValues.Long(file, on, "operations");
            if (v is < 1 or > 64) throw top.Error(on, "operations: between 1 and 64 per seed");
            ops = (int)v;
        }
        var swarm = top.Bool("swarm") ?? false;

        var workloads = new List<(WorkloadKind, int)>();
        var wmap = top.Get("workloads") is { } wnode ? YamlMap.Of(file, wnode, "workloads", CampaignKeys.Workloads) : throw top.Error(top.Node, "campaign file: missing required key 'workloads'");
        foreach (var (wname, kind) in CampaignSpec.WorkloadNames)
        {
            if (wmap.Get(wname) is not { } wn) continue;
            workloads.Add((kind, Weight(wmap, wn, $"workloads.{wname}")));
        }
        wmap.Done();
        if (workloads.Count == 0 || workloads.All(w => w.Item2 == 0)) throw top.Error(top.KeyNode("workloads"), "workloads: give at least one workload a weight above 0");

        var faults = new List<(FaultKind, int)>();
        if (top.Get("faults") is { } fnode && YamlMap.Of(file, fnode, "faults", CampaignKeys.Faults) is { } fmap)
        {
            foreach (var (fname, kind) in CampaignSpec.FaultNames)
            {
                if (fmap.Get(fname) is not { } fn) continue;
                faults.Add((kind, Weight(fmap, fn, $"faults.{fname}")));
            }
            fmap.Done();
        }
        top.Done();
        return new CampaignSpec(file, name, title, cpu, dram, pmem, profiles, first, last, ops, swarm, workloads, faults) { DevdaxAligns = aligns };
    }

    private static int Weight(YamlMap map, YamlNode node, string what)
    {
        var v = YamlValues.Long(map.File, node, what);
        if (v is < 0 or > 1000) throw map.Error(node, $"{what}: a weight between 0 and 1000");
        return (int)v;
    }

    /// <summary>"A..B" or a single seed "A".</summary>
    public static bool TryParseSeeds(string s, out ulong first, out ulong last)
    {
        first = last = 0;
        var parts = s.Split("..");
        if (parts.Length == 1)
        {
            if (!YamlValues.TryParseUnsigned(parts[0].Trim(), out first)) return false;
            last = first;
            return true;
        }
        if (parts.Length != 2) return false;
        if (!YamlValues.TryParseUnsigned(parts[0].Trim(), out first) || !YamlValues.TryParseUnsigned(parts[1].Trim(), out last)) return false;
        return first <= last && last - first < 100_000_000;
    }
}
