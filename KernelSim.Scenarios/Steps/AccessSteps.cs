using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Kernel;

namespace KernelSim.Scenarios.Steps;

/// <summary>User-mode loads and stores by an actor (CPL 3: faults and machine checks become signals).</summary>
internal static class AccessSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("load", "the actor loads bytes in user mode (at, len: default 1)", c => Parse(c, write: false));
        r.Register("store", "the actor stores bytes in user mode (at, len: default 1, fill)", c => Parse(c, write: true));
    }

    private static IScenarioStep Parse(StepParseContext c, bool write)
    {
        var actor = c.Actor()!;
        var at = c.UserAddr("at", actor);
        var len = c.Args.Size("len") ?? 1;
        if (len == 0 || len > 1UL << 24) throw c.Args.Error(c.Args.Get("len")!, $"{c.Args.What}.len: must be 1 .. 16M bytes");
        var fill = write ? c.Fill("fill", FillPattern.TryParse("0")!) : FillPattern.None;
        c.Args.Done();
        var describe = write ? $"{actor}: store {len} byte(s) of {fill} at {at}" : $"{actor}: load {len} byte(s) at {at}";
        return new CallStep(actor, describe, (run, p) =>
        {
            var loc = run.Resolve(at, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            var r = write ? p.Store(loc.UserPtr, fill.Bytes(0, (int)len)) : p.Load(loc.UserPtr, new byte[len]);
            return Result(run, run.Actor(actor), r, len);
        });
    }

    /// <summary>A user access as a step result: the bytes accessed, the signal that stopped it, or the outcome.</summary>
    public static StepResult Result(ScenarioRun run, ActorState a, UserAccessResult r, ulong len)
    {
        if (r.Outcome != null) return new StepResult((long)r.Done, r.Outcome, null, $"did not return: {r.Outcome}");
        if (r.Signal is { } s)
        {
            var fate = a.Process.Alive ? "caught" : "killed it";
            return new StepResult((long)r.Done, null, s,
                $"{KernelSim.Uapi.Sig.Name(s.Signo)} {KernelSim.Uapi.Sig.CodeName(s.Signo, s.Code)} si_addr={run.Symbolize(a, s.Addr)} (0x{s.Addr:x}) si_addr_lsb={s.AddrLsb} after {r.Done} byte(s); {fate}");
        }
        return new StepResult((long)r.Done, null, null, $"{r.Done} of {len} byte(s), no signal");
    }
}
