using System.Text.RegularExpressions;
using KernelSim.Scenarios.Expectations;
using KernelSim.Drivers.Pmem;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Steps;
using KernelSim.Scenarios.Yaml;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Profiles;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios;

/// <summary>
/// Reads scenario files: YAML documents (separated by ---), each one scenario with machine:, actors: and
/// steps:. Every error is a <see cref="ScenarioException"/> naming the file, line and column.
/// </summary>
public static partial class ScenarioParser
{
    /// <summary>Top-level keys of a scenario document.</summary>
    public static readonly string[] TopKeys = ["scenario", "title", "story", "machine", "actors", "steps"];

    /// <summary>Read and parse a file; the name in messages is <paramref name="path"/> as given.</summary>
    public static IReadOnlyList<Scenario> ParseFile(string path) => ParseText(path, File.ReadAllText(path), StepRegistry.Default);

    /// <summary>Parse scenario text; <paramref name="file"/> names it in messages.</summary>
    public static IReadOnlyList<Scenario> ParseText(string file, string text) => ParseText(file, text, StepRegistry.Default);

    /// <summary>
    /// Parse scenario text; <paramref name="notes"/> receives "file:line:column: note: …" for what runs other than
    /// as written (a point release such as 6.12.3 runs as its release, 6.12).
    /// </summary>
    public static IReadOnlyList<Scenario> ParseText(string file, string text, ICollection<string> notes) => ParseText(file, text, StepRegistry.Default, notes);

    /// <summary>Parse scenario text with the steps of <paramref name="registry"/>.</summary>
    internal static IReadOnlyList<Scenario> ParseText(string file, string text, StepRegistry registry, ICollection<string>? notes = null)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var inner = e.InnerException is YamlException ie ? ie : e;
            throw new ScenarioException(file, inner.Start, "YAML syntax: " + StripMark().Replace(inner.Message, ""));
        }
        var list = new List<Scenario>();
        var doc = 0;
        foreach (var d in stream.Documents)
        {
            doc++;
            if (d.RootNode is YamlScalarNode { Value: null or "" }) continue; // an empty document (a trailing ---)
            list.Add(ParseDocument(file, doc, d.RootNode, registry, notes));
        }
        if (list.Count == 0) throw new ScenarioException(file, 1, 1, "no scenario in the file (expected scenario:, machine:, actors:, steps:)");
        return list;
    }

    private static Scenario ParseDocument(string file, int doc, YamlNode root, StepRegistry registry, ICollection<string>? notes)
    {
        var top = YamlMap.Of(file, root, "scenario file", ScenarioKeys.Top);
        var nameNode = top.Require("scenario");
        var name = YamlValues.Scalar(file, nameNode, "scenario");
        if (!AddrExpr.IsName(name)) throw top.Error(nameNode, $"scenario: '{name}' is not a name (letters, digits, '-', '_', '.')");
        var title = top.Str("title");
        var story = top.Str("story");
        var machine = top.Get("machine") is { } mn ? ParseMachine(YamlMap.Of(file, mn, "machine", ScenarioKeys.Machine), notes) : MachineSpec.Default;
        var symbols = new ParseSymbols();
        foreach (var v in machine.Virtiofs) symbols.Shares.Add(v.Name);
        foreach (var f in machine.Filesystems) symbols.DaxMounts.Add(f.Mount);
        // Raw and fsdax namespaces are pmem disks; devdax ones are /dev/daxR.N and sector ones /dev/pmemRs (open them by path).
        symbols.HasPmem = machine.Pmem != null;
        if (machine.Pmem is { } pm) for (var i = 0; i < pm.Namespaces.Count; i++) if (pm.Namespaces[i].Mode is NamespaceMode.Raw or NamespaceMode.Fsdax) symbols.PmemDisks.Add($"pmem{i}");
        var actors = new List<ActorSpec>();
        if (top.Get("actors") is { } an)
        {
            if (an is not YamlSequenceNode seq) throw top.Error(an, "actors: expected a list (- name: …)");
            foreach (var item in seq) actors.Add(ParseActor(YamlMap.Of(file, item, $"actors[{actors.Count}]", ScenarioKeys.Actor), symbols));
        }
        var steps = new List<StepSpec>();
        var stepsNode = top.Require("steps");
        if (stepsNode is not YamlSequenceNode stepSeq) throw top.Error(stepsNode, "steps: expected a list (- write: {…})");
        foreach (var item in stepSeq) steps.Add(ParseStep(file, item, steps.Count + 1, symbols, registry));
        top.Done();
        return new Scenario(file, doc, name, title, story, machine, actors, steps);
    }

    private static MachineSpec ParseMachine(YamlMap m, ICollection<string>? notes)
    {
        var spec = MachineSpec.Default;
        if (m.Get("kernel") is { } kn)
        {
            var s = YamlValues.Scalar(m.File, kn, "machine.kernel");
            if (!KernelVersion.TryParse(s, out var v)) throw m.Error(kn, $"machine.kernel: '{s}' is not a kernel release (e.g. 6.12, 5.10, 4.17)");
            if (!KernelProfile.IsModelled(v)) throw m.Error(kn, $"machine.kernel: {s} is not a modelled release; KernelSim models {KernelProfile.ModelledRange}");
            if (KernelVersion.IsPointRelease(s)) notes?.Add($"{m.File}:{kn.Start.Line}:{kn.Start.Column}: note: machine.kernel {s} is a point release; it runs as Linux {v} (behaviour is modelled per release)");
            spec = spec with { Kernel = v };
        }
        if (m.Get("cpu") is { } cn)
        {
            var s = YamlValues.Scalar(m.File, cn, "machine.cpu");
            if (!CpuModel.TryGet(s, out var c)) throw m.Error(cn, $"machine.cpu: '{s}' is not a CPU model (erms, fragile, none)");
            spec = spec with { Cpu = c };
        }
        if (m.Get("dram") is { } dn)
        {
            var d = YamlValues.Size(m.File, dn, "machine.dram");
            if (d < 16UL << 20 || d > 1UL << 40) throw m.Error(dn, "machine.dram: between 16M and 1T");
            spec = spec with { Dram = d };
        }
        if (m.Get("work") is { } wn)
        {
            var s = YamlValues.Scalar(m.File, wn, "machine.work");
            spec = spec with
            {
                Work = s switch
                {
                    "at-syscall-exit" => WorkTiming.AtSyscallExit,
                    "manual" => WorkTiming.Manual,
                    _ => throw m.Error(wn, $"machine.work: '{s}' is not at-syscall-exit or manual"),
                },
            };
        }
        if (m.Get("seed") is { } sn) spec = spec with { Seed = YamlValues.Size(m.File, sn, "machine.seed") };
        if (m.Bool("trace") is { } t) spec = spec with { Trace = t };
        if (m.Bool("early-kill") is { } ek) spec = spec with { EarlyKillSysctl = ek };
        if (m.Get("ramfs") is { } rn)
        {
            var mounts = new List<RamFsSpec>();
            foreach (var item in YamlValues.List(rn))
            {
                var r = YamlMap.Of(m.File, item, $"machine.ramfs[{mounts.Count}]", ScenarioKeys.Ramfs);
                var mount = r.Str("mount") ?? "/mnt/ramfs";
                if (!mount.StartsWith('/')) throw r.Error(r.Get("mount")!, $"{r.What}.mount: '{mount}' is not an absolute path");
                var we = WriteEndPolicy.Simple;
                if (r.Get("write-end") is { } wen)
                {
                    var s = YamlValues.Scalar(m.File, wen, $"{r.What}.write-end");
                    we = s switch
                    {
                        "simple" => WriteEndPolicy.Simple,
                        "block" => WriteEndPolicy.Block,
                        _ => throw r.Error(wen, $"{r.What}.write-end: '{s}' is not simple or block"),
                    };
                }
                r.Done();
                if (mounts.Any(x => x.Mount == mount)) throw r.Error(item, $"{r.What}: {mount} is mounted twice");
                mounts.Add(new RamFsSpec(mount, we));
            }
            spec = spec with { Ramfs = mounts };
        }
        spec = ParseLayers(m, spec);
        m.Done();
        return spec;
    }

    private static ActorSpec ParseActor(YamlMap m, ParseSymbols symbols)
    {
        var nameNode = m.Require("name");
        var name = YamlValues.Scalar(m.File, nameNode, $"{m.What}.name");
        if (!AddrExpr.IsName(name)) throw m.Error(nameNode, $"{m.What}.name: '{name}' is not a name");
        if (symbols.Actors.Contains(name)) throw m.Error(nameNode, $"{m.What}.name: actor '{name}' is declared twice");
        symbols.AddActor(name);
        var comm = m.Str("comm") ?? name;
        var signals = new List<(int, SignalDisposition)>();
        if (m.Map("signals") is { } sm)
        {
            foreach (var key in sm.Keys)
            {
                var kn = sm.KeyNode(key);
                if (!YamlValues.TrySignal(key, out var signo)) throw sm.Error(kn, $"{sm.What}: '{key}' is not a signal (SIGBUS, SIGSEGV)");
                signals.Add((signo, MmSteps.Disposition(sm, sm.Get(key)!, $"{sm.What}.{key}")));
            }
            sm.Done();
        }
        bool? early = null;
        if (m.Get("early-kill") is { } en)
        {
            var s = YamlValues.Scalar(m.File, en, $"{m.What}.early-kill");
            early = s == "default" ? null : YamlValues.Bool(m.File, en, $"{m.What}.early-kill");
        }
        var mappings = new List<MappingSpec>();
        if (m.Get("mappings") is { } mn)
        {
            foreach (var item in YamlValues.List(mn))
                mappings.Add(MmSteps.ParseMapping(YamlMap.Of(m.File, item, $"{m.What}.mappings[{mappings.Count}]", ScenarioKeys.Mapping), symbols, name));
        }
        m.Done();
        return new ActorSpec(name, comm, mappings, signals, early);
    }

    private static StepSpec ParseStep(string file, YamlNode node, int index, ParseSymbols symbols, StepRegistry registry)
    {
        var m = YamlMap.Of(file, node, $"step {index}", ReferenceEquals(registry, StepRegistry.Default) ? ScenarioKeys.StepItemAndSteps : null);
        string? stepName = null;
        foreach (var key in m.Keys)
        {
            if (key is "expect" or "say" or "diagram") continue;
            if (!registry.TryGet(key, out _))
            {
                var known = string.Join(", ", registry.All().Select(s => s.Name));
                throw m.Error(m.KeyNode(key), $"step {index}: unknown step '{key}' (steps: {known}; step keys: expect, say, diagram)");
            }
            if (stepName != null) throw m.Error(m.KeyNode(key), $"step {index}: two steps in one item ('{stepName}' and '{key}'): start a new item with '-'");
            stepName = key;
        }
        if (stepName == null) throw m.Error(node, $"step {index}: no step name (one of: {string.Join(", ", registry.All().Select(s => s.Name))})");
        registry.TryGet(stepName, out var parser);
        var argsNode = m.Get(stepName)!;
        var what = $"step {index} ({stepName})";
        var table = ScenarioKeys.Steps.GetValueOrDefault(stepName);
        YamlMap args;
        if (argsNode is YamlScalarNode { Value: not (null or "") } && registry.ScalarKey(stepName) is { } scalarKey)
            args = new YamlMap(file, new YamlMappingNode(new YamlScalarNode(scalarKey), argsNode), what) { Fallback = argsNode.Start, Table = table };
        else if (argsNode is YamlScalarNode { Value: null or "" })
            args = new YamlMap(file, new YamlMappingNode(), what) { Fallback = m.KeyNode(stepName).Start, Table = table };
        else
            args = YamlMap.Of(file, argsNode, what, table);
        var step = parser(new StepParseContext(args, symbols, stepName));
        args.Done();
        var say = m.Str("say");
        var diagram = m.Bool("diagram") ?? false;
        var expectations = m.Get("expect") is { } en
            ? ExpectationParser.Parse(YamlMap.Of(file, en, $"step {index} expect", ScenarioKeys.Expect), symbols, step.Actor)
            : [];
        m.Done();
        return new StepSpec(index, stepName, node.Start, say?.TrimEnd(), diagram, step, expectations);
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex StripMark();
}
