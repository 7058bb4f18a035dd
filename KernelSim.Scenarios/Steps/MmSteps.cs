using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Steps;

/// <summary>Address-space and process steps: mmap, munmap, mprotect, madvise, prctl, sigaction, subpage-protect.</summary>
internal static class MmSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("mmap", "mmap(2) an anonymous or shared mapping and give it a name (name, size, prot, type, shm, fill, populate)", ParseMmap);
        r.Register("munmap", "munmap(2) (at, len)", c => Range(c, "munmap", (p, a, l, _) => p.Munmap(a, l)));
        r.Register("mprotect", "mprotect(2) (at, len, prot)", c =>
        {
            var prot = Prot(c.Args, c.Args.Require("prot"), $"{c.Args.What}.prot");
            return Range(c, "mprotect", (p, a, l, _) => p.Mprotect(a, l, prot), ProtName(prot));
        });
        r.Register("madvise", "madvise(2) (at, len, advice: MADV_HWPOISON, MADV_DONTNEED, …)", c =>
        {
            var node = c.Args.Require("advice");
            var advice = (int)c.Constant(node, typeof(Mman), $"{c.Args.What}.advice");
            var name = YamlValues.Scalar(c.File, node, "advice");
            return Range(c, "madvise", (p, a, l, _) => p.Madvise(a, l, advice), name);
        });
        r.Register("prctl", "prctl(2) (option: PR_MCE_KILL, arg2: PR_MCE_KILL_SET, arg3: PR_MCE_KILL_EARLY, …)", ParsePrctl);
        r.Register("sigaction", "set a signal's disposition (signal: SIGBUS, action: default|ignore|catch)", ParseSigaction);
        r.Register("subpage-protect", "deny (or allow) user access to a 16-byte-granular sub-page range (at, len, access: deny|allow)", ParseSubpage);
    }

    // ---- mmap ----------------------------------------------------------------------------------------

    /// <summary>Parse a mapping description (shared by actors' mappings: and the mmap step).</summary>
    public static MappingSpec ParseMapping(YamlMap m, ParseSymbols symbols, string actor)
    {
        var nameNode = m.Require("name");
        var name = YamlValues.Scalar(m.File, nameNode, $"{m.What}.name");
        if (!AddrExpr.IsName(name)) throw m.Error(nameNode, $"{m.What}.name: '{name}' is not a name (letters, digits, '_', '-')");
        if (symbols.Mappings[actor].Contains(name)) throw m.Error(nameNode, $"{m.What}.name: actor {actor} already has a mapping named '{name}'");
        if (symbols.KernelBuffers.Contains(name)) throw m.Error(nameNode, $"{m.What}.name: '{name}' is already a kernel buffer");
        var size = m.Size("size") ?? throw m.Error(m.Node, $"{m.What}: missing required key 'size'");
        if (size == 0) throw m.Error(m.Get("size")!, $"{m.What}.size: must be at least 1 byte");
        var prot = m.Get("prot") is { } pn ? Prot(m, pn, $"{m.What}.prot") : Mman.PROT_READ | Mman.PROT_WRITE;
        var shm = m.Str("shm");
        var shared = shm != null;
        if (m.Get("type") is { } tn)
        {
            var t = YamlValues.Scalar(m.File, tn, $"{m.What}.type");
            shared = t switch
            {
                "private" => false,
                "shared" => true,
                _ => throw m.Error(tn, $"{m.What}.type: '{t}' is not private or shared"),
            };
            if (!shared && shm != null) throw m.Error(tn, $"{m.What}: shm: needs type: shared");
        }
        var fill = FillPattern.None;
        if (m.Get("fill") is { } fn)
        {
            var s = YamlValues.Scalar(m.File, fn, $"{m.What}.fill");
            fill = FillPattern.TryParse(s) ?? throw m.Error(fn, $"{m.What}.fill: '{s}' is not a fill pattern (none, 0xff, index, i*7+3, i^0x33)");
        }
        var populate = m.Bool("populate") ?? false;
        m.Done();
        symbols.Mappings[actor].Add(name);
        return new MappingSpec(name, size, prot, shared, shm, fill, populate);
    }

    private static IScenarioStep ParseMmap(StepParseContext c)
    {
        var actor = c.Actor()!;
        var spec = ParseMapping(c.Args, c.Symbols, actor);
        return new MmapStep(actor, spec);
    }

    /// <summary>mmap a mapping for an actor, register its name and store its fill pattern; the step result.</summary>
    public static StepResult Map(ScenarioRun run, ActorState a, MappingSpec spec)
    {
        var p = a.Process;
        var flags = (spec.Shared ? Mman.MAP_SHARED : Mman.MAP_PRIVATE) | (spec.Populate ? Mman.MAP_POPULATE : 0);
        long r;
        if (spec.Shm != null)
        {
            if (!run.SharedObjects.TryGetValue(spec.Shm, out var obj))
            {
                obj = new ShmemObject(spec.Shm, spec.Size);
                run.SharedObjects.Add(spec.Shm, obj);
            }
            r = p.Mmap(0, spec.Size, spec.Prot, flags, obj);
        }
        else
        {
            r = p.Mmap(0, spec.Size, spec.Prot, flags | Mman.MAP_ANONYMOUS);
        }
        if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
        if (r < 0) return StepResult.Address(r);
        var buf = new UserBuffer(spec.Name, new UserPtr((ulong)r), spec.Size, spec.Fill);
        a.Mappings[spec.Name] = buf;
        var text = $"= 0x{r:x}";
        if (spec.Fill.Kind != FillKind.None)
        {
            var f = p.Fill(buf.Start, spec.Size, spec.Fill.At);
            if (f.Outcome != null) return StepResult.NoReturn(f.Outcome);
            if (f.Signal is { } s) return new StepResult(r, null, s, $"{text}, but filling it stopped after {f.Done} bytes: {s}");
            text += $", filled with {spec.Fill}";
        }
        return StepResult.Address(r) with { Text = text };
    }

    /// <summary>"buf: 16384 bytes rw private, fill i*7+3".</summary>
    public static string Describe(MappingSpec s) =>
        $"{s.Name}: {s.Size} bytes {ProtName(s.Prot)} {(s.Shared ? "shared" : "private")}{(s.Shm != null ? $" ({s.Shm})" : "")}{(s.Populate ? " populate" : "")}, fill {s.Fill}";

    private sealed class MmapStep(string actor, MappingSpec spec) : IScenarioStep
    {
        public string? Actor => actor;
        public string Describe => $"{actor}: mmap {MmSteps.Describe(spec)}";
        public StepResult Execute(ScenarioRun run) => Map(run, run.Actor(actor), spec);
    }

    // ---- range syscalls ------------------------------------------------------------------------------

    private static IScenarioStep Range(StepParseContext c, string name, Func<Process, ulong, ulong, ScenarioRun, long> call, string? extra = null)
    {
        var actor = c.Actor()!;
        var at = c.UserAddr("at", actor);
        var len = c.Size("len");
        c.Args.Done();
        return new RangeStep(actor, $"{actor}: {name}({at}, {len}{(extra != null ? ", " + extra : "")})", at, len, call);
    }

    private sealed class RangeStep(string actor, string describe, AddrExpr at, ulong len, Func<Process, ulong, ulong, ScenarioRun, long> call) : IScenarioStep
    {
        public string? Actor => actor;
        public string Describe => describe;
        public StepResult Execute(ScenarioRun run)
        {
            var loc = run.Resolve(at, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            var p = run.Actor(actor).Process;
            return run.Syscall(p, call(p, loc.Addr, len, run));
        }
    }

    // ---- prot ------------------------------------------------------------------------------------------

    /// <summary>"rw", "r", "rwx", "none", or PROT_* names ("PROT_READ|PROT_WRITE", a list).</summary>
    public static int Prot(YamlMap m, YamlNode node, string what)
    {
        if (node is YamlScalarNode { Value: { } v } && !v.StartsWith("PROT_", StringComparison.Ordinal) && !char.IsAsciiDigit(v.FirstOrDefault()))
        {
            if (v == "none") return Mman.PROT_NONE;
            var prot = 0;
            foreach (var ch in v)
            {
                prot |= ch switch
                {
                    'r' => Mman.PROT_READ,
                    'w' => Mman.PROT_WRITE,
                    'x' => Mman.PROT_EXEC,
                    _ => throw m.Error(node, $"{what}: '{v}' is not a protection (r, rw, rwx, none or PROT_* names)"),
                };
            }
            return prot;
        }
        long p = 0;
        foreach (var item in YamlValues.List(node))
        {
            var s = YamlValues.Scalar(m.File, item, what);
            foreach (var part in s.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                p |= YamlValues.TryConstant(typeof(Mman), part, out var c) && part.StartsWith("PROT_", StringComparison.Ordinal) || YamlValues.TryParseLong(part, out c)
                    ? c
                    : throw m.Error(item, $"{what}: unknown protection '{part}'");
        }
        return (int)p;
    }

    public static string ProtName(int prot)
    {
        if (prot == 0) return "none";
        return ((prot & Mman.PROT_READ) != 0 ? "r" : "") + ((prot & Mman.PROT_WRITE) != 0 ? "w" : "") + ((prot & Mman.PROT_EXEC) != 0 ? "x" : "");
    }

    // ---- prctl / sigaction / subpage ----------------------------------------------------------------

    private static IScenarioStep ParsePrctl(StepParseContext c)
    {
        var actor = c.Actor()!;
        var names = new List<string>();
        var args = new long[5];
        string[] keys = ["option", "arg2", "arg3", "arg4", "arg5"];
        for (var i = 0; i < keys.Length; i++)
        {
            var n = i == 0 ? c.Args.Require(keys[i]) : c.Args.Get(keys[i]);
            if (n == null) continue;
            args[i] = c.Constant(n, typeof(Mman), $"{c.Args.What}.{keys[i]}");
            names.Add(YamlValues.Scalar(c.File, n, keys[i]));
        }
        c.Args.Done();
        return new CallStep(actor, $"{actor}: prctl({string.Join(", ", names)})", (run, p) =>
            run.Syscall(p, p.Prctl((int)args[0], (ulong)args[1], (ulong)args[2], (ulong)args[3], (ulong)args[4])));
    }

    private static IScenarioStep ParseSigaction(StepParseContext c)
    {
        var actor = c.Actor()!;
        var signo = Signal(c.Args, c.Args.Require("signal"), $"{c.Args.What}.signal");
        var disp = Disposition(c.Args, c.Args.Require("action"), $"{c.Args.What}.action");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: sigaction({Sig.Name(signo)}, {disp.ToString().ToLowerInvariant()})", (_, p) =>
        {
            p.SetSignalHandler(signo, disp);
            return StepResult.Returned(0);
        });
    }

    private static IScenarioStep ParseSubpage(StepParseContext c)
    {
        var actor = c.Actor()!;
        var at = c.UserAddr("at", actor);
        var len = c.Size("len");
        var accessNode = c.Args.Get("access");
        var access = accessNode == null ? "deny" : YamlValues.Scalar(c.File, accessNode, "access");
        if (access is not ("deny" or "allow")) throw c.Args.Error(accessNode!, $"{c.Args.What}.access: '{access}' is not deny or allow");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: subpage-protect({at}, {len}, {access})", (run, p) =>
        {
            var loc = run.Resolve(at, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            p.Mm.SetSubpageProtection(loc.UserPtr, len, accessible: access == "allow");
            return StepResult.Returned(0);
        });
    }

    public static int Signal(YamlMap m, YamlNode node, string what)
    {
        var s = YamlValues.Scalar(m.File, node, what);
        return YamlValues.TrySignal(s, out var signo) ? signo : throw m.Error(node, $"{what}: '{s}' is not a signal (SIGBUS, SIGSEGV, SIGKILL)");
    }

    public static SignalDisposition Disposition(YamlMap m, YamlNode node, string what)
    {
        var s = YamlValues.Scalar(m.File, node, what);
        return s switch
        {
            "default" => SignalDisposition.Default,
            "ignore" => SignalDisposition.Ignore,
            "catch" => SignalDisposition.Catch,
            _ => throw m.Error(node, $"{what}: '{s}' is not default, ignore or catch"),
        };
    }
}
