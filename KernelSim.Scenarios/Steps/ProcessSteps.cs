using KernelSim.Kernel;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Steps;

/// <summary>Process and address-space steps: fork, exit, wait, mremap, msync (madvise MADV_POPULATE_* is the madvise step).</summary>
internal static class ProcessSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("fork", "fork(2): a new actor (as) with the parent's mappings (copy-on-write) and open files", ParseFork);
        r.Register("exit", "exit_group(2) with a status (status, default 0)", ParseExit);
        r.Register("wait", "wait4(2) for a child actor (child; any child without it) with options (WNOHANG …)", ParseWait);
        r.Register("mremap", "mremap(2) (at, old-len, new-len, flags: MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP, new-addr, name)", ParseMremap);
        r.Register("msync", "msync(2) (at, len, flags: MS_SYNC, MS_ASYNC, MS_INVALIDATE)", ParseMsync);
    }

    private static string NewName(StepParseContext c, string key, string actor)
    {
        var node = c.Args.Require(key);
        var name = YamlValues.Scalar(c.File, node, $"{c.Args.What}.{key}");
        if (!AddrExpr.IsName(name)) throw c.Args.Error(node, $"{c.Args.What}.{key}: '{name}' is not a name");
        if (c.Symbols.Mappings[actor].Contains(name) || c.Symbols.KernelBuffers.Contains(name))
            throw c.Args.Error(node, $"{c.Args.What}.{key}: '{name}' is already a buffer name");
        return name;
    }

    private static IScenarioStep ParseFork(StepParseContext c)
    {
        var actor = c.Actor()!;
        var node = c.Args.Require("as");
        var child = YamlValues.Scalar(c.File, node, $"{c.Args.What}.as");
        if (!AddrExpr.IsName(child)) throw c.Args.Error(node, $"{c.Args.What}.as: '{child}' is not a name");
        if (c.Symbols.Actors.Contains(child)) throw c.Args.Error(node, $"{c.Args.What}.as: actor '{child}' exists");
        c.Args.Done();
        c.Symbols.AddActor(child);
        foreach (var m in c.Symbols.Mappings[actor]) c.Symbols.Mappings[child].Add(m);
        foreach (var f in c.Symbols.Fds[actor]) c.Symbols.Fds[child].Add(f);
        return new CallStep(actor, $"{actor}: {child} = fork()", (run, p) =>
        {
            var pid = p.Fork(out var proc);
            if (pid == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (pid < 0 || proc == null) return StepResult.Returned(pid);
            var parent = run.Actor(actor);
            var a = new ActorState(child, proc) { Scratch = parent.Scratch };
            foreach (var (k, v) in parent.Mappings) a.Mappings[k] = v;
            foreach (var (k, v) in parent.Fds) a.Fds[k] = v;
            foreach (var (k, v) in parent.FdPaths) a.FdPaths[k] = v;
            run.Actors.Add(child, a);
            return new StepResult(pid, null, null, $"= {pid} ({a.Who})");
        });
    }

    private static IScenarioStep ParseExit(StepParseContext c)
    {
        var actor = c.Actor()!;
        var status = (int)(c.Args.Size("status") ?? 0);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: exit({status})", (_, p) =>
        {
            p.Exit(status);
            return new StepResult(null, null, null, $"exited, wait status 0x{p.ExitCode ?? 0:x}");
        });
    }

    private static IScenarioStep ParseWait(StepParseContext c)
    {
        var actor = c.Actor()!;
        string? child = null;
        if (c.Args.Get("child") is { } cn)
        {
            child = YamlValues.Scalar(c.File, cn, $"{c.Args.What}.child");
            if (!c.Symbols.Actors.Contains(child)) throw c.Args.Error(cn, $"{c.Args.What}.child: unknown actor '{child}'");
        }
        var options = c.Args.Get("options") is { } on ? (int)c.Flags(on, typeof(Wait), $"{c.Args.What}.options") : 0;
        c.Args.Done();
        return new CallStep(actor, $"{actor}: wait4({child ?? "-1"}, 0x{options:x})", (run, p) =>
        {
            var pid = child != null ? run.Actor(child).Process.Pid : -1;
            var r = p.Wait4(pid, out var st, options);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r <= 0) return StepResult.Returned(r);
            return new StepResult(r, null, null, $"= {r}, status 0x{st:x} ({Describe(st)})");
        });
    }

    /// <summary>"exited 3", "killed by SIGBUS (core dumped)".</summary>
    public static string Describe(int st) =>
        Wait.WIFEXITED(st) ? $"exited {Wait.WEXITSTATUS(st)}"
        : $"killed by {Sig.Name(Wait.WTERMSIG(st))}{(Wait.WCOREDUMP(st) ? " (core dumped)" : "")}";

    private static IScenarioStep ParseMremap(StepParseContext c)
    {
        var actor = c.Actor()!;
        var at = c.UserAddr("at", actor);
        var oldLen = c.Size("old-len");
        var newLen = c.Size("new-len");
        var flags = c.Args.Get("flags") is { } fn ? (int)c.Flags(fn, typeof(Mman), $"{c.Args.What}.flags") : 0;
        var newAddr = c.Args.Size("new-addr") ?? 0;
        var name = NewName(c, "name", actor);
        c.Args.Done();
        c.Symbols.Mappings[actor].Add(name);
        return new CallStep(actor, $"{actor}: {name} = mremap({at}, {oldLen}, {newLen}, 0x{flags:x}{(newAddr != 0 ? $", 0x{newAddr:x}" : "")})", (run, p) =>
        {
            var loc = run.Resolve(at, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            var r = p.Mremap(loc.Addr, oldLen, newLen, flags, newAddr);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r >= 0 || r < -4095) run.Actor(actor).Mappings[name] = new UserBuffer(name, new KernelSim.Mm.UserPtr((ulong)r), newLen, FillPattern.None);
            return new StepResult(r, null, null, r < 0 && r >= -4095 ? "= " + Errno.Describe(r) : $"= 0x{(ulong)r:x}");
        });
    }

    private static IScenarioStep ParseMsync(StepParseContext c)
    {
        var actor = c.Actor()!;
        var at = c.UserAddr("at", actor);
        var len = c.Size("len");
        var flagsNode = c.Args.Require("flags");
        var flags = (int)c.Flags(flagsNode, typeof(Mman), $"{c.Args.What}.flags");
        var text = YamlValues.Scalar(c.File, flagsNode, "flags");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: msync({at}, {len}, {text})", (run, p) =>
        {
            var loc = run.Resolve(at, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            return run.Syscall(p, p.Msync(loc.Addr, len, flags));
        });
    }
}
