using KernelSim.Arch.X86;
using KernelSim.Scenarios.Expectations;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Steps;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Runtime;

/// <summary>
/// Runs a scenario: boots its machine (tracing on, so every step has a trace), mounts, spawns the actors with
/// their mappings and signal dispositions, then runs each step and checks its expectations. Deterministic:
/// the same scenario gives the same result and trace, byte for byte.
/// </summary>
public static class ScenarioRunner
{
    public static ScenarioResult Run(Scenario s)
    {
        var ms = s.Machine;
        var builder = new MachineBuilder()
            .WithKernel(ms.Kernel)
            .WithCpu(ms.Cpu)
            .WithDram(ms.Dram)
            .WithWorkTiming(ms.Work)
            .WithSeed(ms.Seed)
            .WithTrace(true);
        LayerSetup.Configure(builder, ms);
        var machine = builder.Build();
        machine.MemoryFailure.EarlyKill = ms.EarlyKillSysctl;
        var run = new ScenarioRun(s, machine);
        var result = new ScenarioResult(s, machine);
        Setup(run, result);
        foreach (var step in s.Steps) result.Steps.Add(RunStep(run, step));
        return result;
    }

    private static void Setup(ScenarioRun run, ScenarioResult result)
    {
        var m = run.Machine;
        result.Setup.Add(m.ToString());
        if (run.Scenario.Machine.EarlyKillSysctl) result.Setup.Add("vm.memory_failure_early_kill = 1");
        foreach (var r in run.Scenario.Machine.Ramfs)
        {
            run.RamFsMounts.Add(RamFs.Mount(m, new RamFsOptions { MountPoint = r.Mount, WriteEnd = r.WriteEnd }));
            result.Setup.Add($"ramfs on {r.Mount} (write_end: {(r.WriteEnd == WriteEndPolicy.Block ? "block_write_end" : "simple_write_end")})");
        }
        LayerSetup.Mount(run, result);
        foreach (var spec in run.Scenario.Actors)
        {
            var p = m.Spawn(spec.Comm);
            var a = new ActorState(spec.Name, p);
            run.Actors.Add(spec.Name, a);
            var parts = new List<string>();
            foreach (var (signo, disp) in spec.Signals)
            {
                p.SetSignalHandler(signo, disp);
                parts.Add($"{Sig.Name(signo)} {disp.ToString().ToLowerInvariant()}");
            }
            if (spec.EarlyKill is { } early)
            {
                var r = p.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_SET, (ulong)(early ? Mman.PR_MCE_KILL_EARLY : Mman.PR_MCE_KILL_LATE));
                if (r != 0) result.SetupErrors.Add($"{a.Who}: prctl(PR_MCE_KILL) = {Errno.Describe(r)}");
                parts.Add(early ? "PR_MCE_KILL_EARLY" : "PR_MCE_KILL_LATE");
            }
            result.Setup.Add($"{a.Who} \"{spec.Name}\"{(parts.Count > 0 ? ": " + string.Join(", ", parts) : "")}");
            foreach (var map in spec.Mappings)
            {
                var r = MmSteps.Map(run, a, map);
                result.Setup.Add($"  {MmSteps.Describe(map)} {r.Text}");
                if (r.Outcome != null || r.Ret is null or < 0 || r.Signal != null)
                    result.SetupErrors.Add($"{a.Who}: mapping {map.Name}: {r.Text}");
            }
        }
        m.Tracer.Clear(); // the trace starts with the first step
    }

    private static StepRecord RunStep(ScenarioRun run, StepSpec step)
    {
        var m = run.Machine;
        var mceBefore = m.Mce.Log.Count;
        var dmesgBefore = m.State.Dmesg.Count;
        var traceBefore = m.Tracer.Records.Count;
        var signalsBefore = ExpectationContext.SignalCounts(run);
        var states = run.Actors.Values.Select(a => a.Process.State).ToList();
        var status = m.State.Status;
        run.SnapshotLayers();

        var result = step.Step.Execute(run);

        var details = new List<string>(result.Notes);
        foreach (var (name, a) in run.Actors)
        {
            foreach (var sig in a.Process.AllSignals.Skip(signalsBefore.GetValueOrDefault(name)))
                details.Add($"signal: {a.Who} <- {Sig.Name(sig.Signo)} {Sig.CodeName(sig.Signo, sig.Code)} si_addr={run.Symbolize(a, sig.Addr)} si_addr_lsb={sig.AddrLsb}");
        }
        var log = m.Mce.Log;
        for (var i = mceBefore; i < log.Count; i++)
        {
            var r = log[i];
            details.Add($"machine check #{r.Seq}: pa {r.Addr}, context {r.Context}, severity {r.Severity.Short()} ({r.Message})");
        }
        var k = 0;
        foreach (var a in run.Actors.Values)
        {
            if (k < states.Count && states[k] != a.Process.State) details.Add($"{a.Who} is now {ExpectationParser.ProcessText(a.Process)}");
            k++;
        }
        if (m.State.Status != status) details.Add($"machine {ExpectationParser.StatusName(m.State.Status)}");
        foreach (var line in m.State.Dmesg.Skip(dmesgBefore)) details.Add("dmesg: " + line);
        details.AddRange(run.LayerChanges());

        var ctx = new ExpectationContext(run, step, result, mceBefore, dmesgBefore, traceBefore, signalsBefore);
        var checks = new List<ExpectationOutcome>();
        foreach (var e in step.Expect) checks.Add(new ExpectationOutcome(e, e.Check(ctx)));
        return new StepRecord(step, result, details, checks, traceBefore, m.Tracer.Records.Count);
    }
}
