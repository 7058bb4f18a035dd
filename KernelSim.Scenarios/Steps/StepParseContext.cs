using System.Diagnostics.CodeAnalysis;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Yaml;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Steps;

/// <summary>What a step parser gets: its arguments (with locations) and the names declared so far.</summary>
internal sealed class StepParseContext(YamlMap args, ParseSymbols symbols, string stepName)
{
    public YamlMap Args { get; } = args;
    public ParseSymbols Symbols { get; } = symbols;
    public string StepName { get; } = stepName;
    public string File => Args.File;

    /// <summary>
    /// The "actor:" argument, or the only actor when there is one. With <paramref name="required"/> false a
    /// missing actor is fine when the scenario has several (machine-wide steps).
    /// </summary>
    public string? Actor(bool required = true)
    {
        var node = Args.Get("actor");
        if (node != null)
        {
            var name = YamlValues.Scalar(File, node, $"{Args.What}.actor");
            if (!Symbols.Actors.Contains(name)) throw Args.Error(node, $"{Args.What}: unknown actor '{name}' (actors: {Join(Symbols.Actors)})");
            return name;
        }
        if (Symbols.Actors.Count == 1) return Symbols.Actors[0];
        if (!required) return null;
        throw Args.Error(Args.Node, Symbols.Actors.Count == 0
            ? $"{Args.What}: needs an actor, and the scenario declares none (add an actors: section)"
            : $"{Args.What}: which actor? add actor: (one of {Join(Symbols.Actors)})");
    }

    /// <summary>A required address argument that must name a user mapping of <paramref name="actor"/> (or be absolute).</summary>
    public AddrExpr UserAddr(string key, string actor) => Addr(Args.Require(key), $"{Args.What}.{key}", actor, user: true, kernel: false);

    /// <summary>A required address argument naming a kernel buffer.</summary>
    public AddrExpr KernelAddr(string key) => Addr(Args.Require(key), $"{Args.What}.{key}", null, user: false, kernel: true);

    /// <summary>An address naming either a user mapping of <paramref name="actor"/> or a kernel buffer.</summary>
    public AddrExpr AnyAddr(string key, string? actor) => Addr(Args.Require(key), $"{Args.What}.{key}", actor, user: true, kernel: true);

    /// <summary>Parse and check an address expression node.</summary>
    public AddrExpr Addr(YamlNode node, string what, string? actor, bool user, bool kernel) =>
        CheckAddr(File, Symbols, node, what, actor, user, kernel);

    public static AddrExpr CheckAddr(string file, ParseSymbols symbols, YamlNode node, string what, string? actor, bool user, bool kernel)
    {
        var text = YamlValues.Scalar(file, node, what);
        var e = AddrExpr.TryParse(text, out var reason) ?? throw new ScenarioException(file, node.Start, $"{what}: {reason}");
        var who = e.Actor ?? actor;
        if (e.Actor != null && !symbols.Actors.Contains(e.Actor))
            throw new ScenarioException(file, node.Start, $"{what}: unknown actor '{e.Actor}' in '{text}'");
        if (e.Name == null)
        {
            if (!user) throw new ScenarioException(file, node.Start, $"{what}: expected a kernel buffer name, got an absolute address '{text}'");
            if (who == null) throw new ScenarioException(file, node.Start, $"{what}: an absolute user address needs an actor");
            return e;
        }
        if (user && who != null && symbols.Mappings[who].Contains(e.Name)) return e;
        if (kernel && e.Actor == null && symbols.KernelBuffers.Contains(e.Name)) return e;
        var kinds = user && kernel ? "mapping or kernel buffer" : user ? "mapping" : "kernel buffer";
        var known = new List<string>();
        if (user && who != null) known.AddRange(symbols.Mappings[who]);
        if (kernel) known.AddRange(symbols.KernelBuffers);
        throw new ScenarioException(file, node.Start, $"{what}: no {kinds} named '{e.Name}'{(who != null && user ? $" for actor {who}" : "")} (known: {Join(known)})");
    }

    public ulong Size(string key) => Args.Size(key) ?? throw Args.Error(Args.Node, $"{Args.What}: missing required key '{key}'");

    public FillPattern Fill(string key, FillPattern fallback)
    {
        var node = Args.Get(key);
        if (node == null) return fallback;
        var s = YamlValues.Scalar(File, node, $"{Args.What}.{key}");
        return FillPattern.TryParse(s) ?? throw Args.Error(node, $"{Args.What}.{key}: '{s}' is not a fill pattern (none, 0xff, index, i*7+3, i^0x33)");
    }

    /// <summary>A file-descriptor name opened earlier by <paramref name="actor"/> ("open: … as: f").</summary>
    public string Fd(string key, string actor)
    {
        var node = Args.Require(key);
        var name = YamlValues.Scalar(File, node, $"{Args.What}.{key}");
        if (!Symbols.Fds[actor].Contains(name))
            throw Args.Error(node, $"{Args.What}.{key}: actor {actor} has no open file named '{name}' (open one first: open: {{path: …, as: {name}}})");
        return name;
    }

    /// <summary>A uapi constant by name or number (PROT_*, MADV_*, PR_*).</summary>
    public long Constant(YamlNode node, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] Type uapi, string what)
    {
        var s = YamlValues.Scalar(File, node, what);
        return YamlValues.TryConstant(uapi, s, out var v) ? v : throw Args.Error(node, $"{what}: unknown constant '{s}'");
    }

    /// <summary>Flags given as "A|B", a list [A, B] or a number.</summary>
    public long Flags(YamlNode node, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] Type uapi, string what)
    {
        long v = 0;
        foreach (var item in YamlValues.List(node))
        {
            var s = YamlValues.Scalar(File, item, what);
            foreach (var part in s.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                v |= YamlValues.TryConstant(uapi, part, out var c) ? c : throw Args.Error(item, $"{what}: unknown flag '{part}'");
        }
        return v;
    }

    private static string Join(IEnumerable<string> names)
    {
        var l = names.ToList();
        return l.Count == 0 ? "none" : string.Join(", ", l);
    }
}
