using KernelSim.Arch.X86.Fpu;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Kernel;
using KernelSim.Mm;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// Kernel-side steps: kmalloc'd buffers, EINJ poison injection, the x86 copy routines and fault-in helpers run
/// in an actor's context, the sigreturn FPU restore, and running deferred work.
/// </summary>
internal static class KernelSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("kmalloc", "allocate a named kernel buffer in DRAM (name, size, fill)", ParseKmalloc);
        r.Register("poison", "inject latent poison (ACPI EINJ 0x10) in the line at an address (at: buffer+offset, or pa: physical address)", ParsePoison);
        r.Register("copy", "run a kernel copy routine in the actor's context (routine, to, from, len)", ParseCopy);
        r.Register("fault-in", "run a mm/gup.c fault-in helper (routine: fault_in_readable, …, at, len)", ParseFaultIn);
        r.Register("restore-fpregs", "sigreturn's restore_fpregs_from_user on a user XSTATE buffer (at, len, retry-any-trap)", ParseFpu);
        r.Register("run-work", "run the deferred work queued so far (schedule_work items)", ParseRunWork);
    }

    private static IScenarioStep ParseKmalloc(StepParseContext c)
    {
        var nameNode = c.Args.Require("name");
        var name = YamlValues.Scalar(c.File, nameNode, $"{c.Args.What}.name");
        if (!AddrExpr.IsName(name)) throw c.Args.Error(nameNode, $"{c.Args.What}.name: '{name}' is not a name");
        if (c.Symbols.KernelBuffers.Contains(name)) throw c.Args.Error(nameNode, $"{c.Args.What}.name: kernel buffer '{name}' exists");
        var size = c.Size("size");
        if (size == 0 || size > 1UL << 26) throw c.Args.Error(c.Args.Get("size")!, $"{c.Args.What}.size: must be 1 .. 64M bytes");
        var fill = c.Fill("fill", FillPattern.None);
        c.Args.Done();
        c.Symbols.KernelBuffers.Add(name);
        return new MachineStep($"kmalloc {name}: {size} bytes, fill {fill}", run =>
        {
            var m = run.Machine;
            if (m.Kmalloc(size) is not { } k) return StepResult.Error("kmalloc: out of memory");
            if (fill.Kind != FillKind.None) m.Phys.PokeBytes(m.KernelMap.Pa(k)!.Value, fill.Bytes(0, (int)size));
            run.KernelBuffers[name] = new KernelBuffer(name, k, size, fill);
            return new StepResult((long)k.Value, null, null, $"= {k} (pa {m.KernelMap.Pa(k)!.Value})");
        });
    }

    private static IScenarioStep ParsePoison(StepParseContext c)
    {
        if (c.Args.Get("pa") is { } paNode)
        {
            var pa = YamlValues.Size(c.File, paNode, $"{c.Args.What}.pa");
            c.Args.Know("at");
            c.Args.Done();
            return new MachineStep($"poison pa 0x{pa:x}", run => Inject(run, new PhysAddr(pa)));
        }
        var actor = c.Actor(required: false);
        var at = c.AnyAddr("at", actor);
        c.Args.Done();
        return new MachineStep($"poison at {at}", run =>
        {
            var loc = run.Resolve(at, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            PhysAddr pa;
            if (loc.Kernel)
            {
                if (run.Machine.KernelMap.Pa(loc.KernelPtr) is not { } kpa) return StepResult.Error($"{at} is not in the direct map");
                pa = kpa;
            }
            else
            {
                if (loc.Actor!.Process.Mm.PfnAt(loc.Addr) is not { } pfn) return StepResult.Error($"{at} is not resident (nothing to poison: store to it first)");
                pa = PhysAddr.FromPfn(pfn) + PageDefs.OffsetInPage(loc.Addr);
            }
            return Inject(run, pa);
        }, actor);
    }

    private static StepResult Inject(ScenarioRun run, PhysAddr pa)
    {
        var r = run.Machine.InjectPoison(pa);
        return new StepResult(r, null, null, $"= {r} (pa {pa}, line 0x{pa.Value & ~(PageDefs.CACHELINE - 1):x})");
    }

    private enum Arg { User, Kernel, None }

    private static readonly Dictionary<string, (Arg To, Arg From)> Routines = new(StringComparer.Ordinal)
    {
        ["copy_mc_to_user"] = (Arg.User, Arg.Kernel),
        ["copy_mc_to_kernel"] = (Arg.Kernel, Arg.Kernel),
        ["memcpy_mcsafe"] = (Arg.Kernel, Arg.Kernel),
        ["memcpy"] = (Arg.Kernel, Arg.Kernel),
        ["memcpy_flushcache"] = (Arg.Kernel, Arg.Kernel),
        ["copy_to_user"] = (Arg.User, Arg.Kernel),
        ["raw_copy_to_user"] = (Arg.User, Arg.Kernel),
        ["copy_from_user"] = (Arg.Kernel, Arg.User),
        ["raw_copy_from_user"] = (Arg.Kernel, Arg.User),
        ["__copy_from_user_inatomic"] = (Arg.Kernel, Arg.User),
        ["__copy_from_user_inatomic_nocache"] = (Arg.Kernel, Arg.User),
        ["__copy_from_user_flushcache"] = (Arg.Kernel, Arg.User),
        ["clear_user"] = (Arg.User, Arg.None),
    };

    private static IScenarioStep ParseCopy(StepParseContext c)
    {
        var node = c.Args.Require("routine");
        var routine = YamlValues.Scalar(c.File, node, $"{c.Args.What}.routine");
        if (!Routines.TryGetValue(routine, out var kinds))
            throw c.Args.Error(node, $"{c.Args.What}.routine: unknown copy routine '{routine}' (known: {string.Join(", ", Routines.Keys)})");
        var needsActor = kinds.To == Arg.User || kinds.From == Arg.User;
        var actor = c.Actor(required: needsActor);
        var to = kinds.To == Arg.User ? c.UserAddr("to", actor!) : c.KernelAddr("to");
        AddrExpr? from = kinds.From switch
        {
            Arg.User => c.UserAddr("from", actor!),
            Arg.Kernel => c.KernelAddr("from"),
            _ => null,
        };
        var len = c.Size("len");
        c.Args.Done();
        var describe = $"{(actor != null ? actor + ": " : "")}{routine}({to}{(from != null ? ", " + from : "")}, {len})";
        return new MachineStep(describe, run =>
        {
            var dst = run.Resolve(to, actor, out var err);
            if (dst == null) return StepResult.Error(err!);
            Location? src = null;
            if (from != null && (src = run.Resolve(from, actor, out err)) == null) return StepResult.Error(err!);
            var m = run.Machine;
            var cp = m.Copy;
            Func<long> body = routine switch
            {
                "copy_mc_to_user" => () => (long)cp.CopyMcToUser(dst.UserPtr, src!.KernelPtr, len),
                "copy_mc_to_kernel" => () => (long)cp.CopyMcToKernel(dst.KernelPtr, src!.KernelPtr, len),
                "memcpy_mcsafe" => () => cp.MemcpyMcsafe(dst.KernelPtr, src!.KernelPtr, len),
                "memcpy" => () => { cp.Memcpy(dst.KernelPtr, src!.KernelPtr, len); return 0; },
                "memcpy_flushcache" => () => { cp.MemcpyFlushcache(dst.KernelPtr, src!.KernelPtr, len); return 0; },
                "copy_to_user" => () => (long)cp.CopyToUser(dst.UserPtr, src!.KernelPtr, len),
                "raw_copy_to_user" => () => (long)cp.RawCopyToUser(dst.UserPtr, src!.KernelPtr, len),
                "copy_from_user" => () => (long)cp.CopyFromUser(dst.KernelPtr, src!.UserPtr, len),
                "raw_copy_from_user" => () => (long)cp.RawCopyFromUser(dst.KernelPtr, src!.UserPtr, len),
                "__copy_from_user_inatomic" => () => (long)cp.CopyFromUserInatomic(dst.KernelPtr, src!.UserPtr, len),
                "__copy_from_user_inatomic_nocache" => () => (long)cp.CopyFromUserInatomicNocache(dst.KernelPtr, src!.UserPtr, len),
                "__copy_from_user_flushcache" => () => (long)cp.CopyFromUserFlushcache(dst.KernelPtr, src!.UserPtr, len),
                _ => () => (long)cp.ClearUser(dst.UserPtr, len),
            };
            return InContext(run, actor, "kernel", body, v => $"= {v} (bytes not copied)");
        }, actor);
    }

    /// <summary>Run kernel code in the actor's context (or none) and turn the KernelCall into a step result.</summary>
    public static StepResult InContext(ScenarioRun run, string? actor, string frame, Func<long> body, Func<long, string>? text = null)
    {
        var m = run.Machine;
        var p = actor != null ? run.Actor(actor).Process : null;
        var r = m.Run(p, frame, body);
        if (!r.Returned) return StepResult.NoReturn(r.Outcome ?? run.OutcomeOf(p));
        return new StepResult(r.Value, null, null, text != null ? text(r.Value) : "= " + r.Value);
    }

    private static readonly string[] FaultInRoutines =
        ["fault_in_readable", "fault_in_writeable", "fault_in_safe_writeable", "fault_in_subpage_writeable", "fault_in_pages_readable", "fault_in_pages_writeable"];

    private static IScenarioStep ParseFaultIn(StepParseContext c)
    {
        var node = c.Args.Require("routine");
        var routine = YamlValues.Scalar(c.File, node, $"{c.Args.What}.routine");
        if (Array.IndexOf(FaultInRoutines, routine) < 0)
            throw c.Args.Error(node, $"{c.Args.What}.routine: unknown fault-in routine '{routine}' (known: {string.Join(", ", FaultInRoutines)})");
        var actor = c.Actor()!;
        var at = c.UserAddr("at", actor);
        var len = c.Size("len");
        c.Args.Done();
        return new MachineStep($"{actor}: {routine}({at}, {len})", run =>
        {
            var loc = run.Resolve(at, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            var g = run.Machine.Gup;
            var u = loc.UserPtr;
            Func<long> body = routine switch
            {
                "fault_in_readable" => () => (long)g.FaultInReadable(u, len),
                "fault_in_writeable" => () => (long)g.FaultInWriteable(u, len),
                "fault_in_safe_writeable" => () => (long)g.FaultInSafeWriteable(u, len),
                "fault_in_subpage_writeable" => () => (long)g.FaultInSubpageWriteable(u, len),
                "fault_in_pages_readable" => () => g.FaultInPagesReadable(u, len),
                _ => () => g.FaultInPagesWriteable(u, len),
            };
            return InContext(run, actor, "kernel", body, v => "= " + KernelSim.Uapi.Errno.Describe(v));
        }, actor);
    }

    private static IScenarioStep ParseFpu(StepParseContext c)
    {
        var actor = c.Actor()!;
        var at = c.UserAddr("at", actor);
        var len = c.Size("len");
        var any = c.Args.Bool("retry-any-trap") ?? false;
        c.Args.Done();
        return new MachineStep($"{actor}: rt_sigreturn → restore_fpregs_from_user({at}, {len}){(any ? " [what-if: retry after any trap]" : "")}", run =>
        {
            var loc = run.Resolve(at, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            var fpu = new FpuSignal(run.Machine);
            return InContext(run, actor, "rt_sigreturn", () => fpu.RestoreFpregsFromUser(loc.UserPtr, len, any) ? 1 : 0,
                v => v == 1 ? "= true (registers restored)" : "= false (sigreturn fails: SIGSEGV)");
        }, actor);
    }

    private static IScenarioStep ParseRunWork(StepParseContext c)
    {
        c.Args.Done();
        return new MachineStep("run deferred work", run =>
        {
            var m = run.Machine;
            return InContext(run, null, "worker_thread", () => m.WorkQueue.RunPending(), v => $"= {v} item(s) run");
        });
    }
}
