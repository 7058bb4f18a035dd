using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Steps;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Expectations;

/// <summary>What expectations look at: the step's result and what changed on the machine during the step.</summary>
public sealed class ExpectationContext
{
    private readonly Dictionary<string, int> _signalsBefore;

    internal ExpectationContext(ScenarioRun run, StepSpec step, StepResult result, int mceBefore, int dmesgBefore, int traceBefore, Dictionary<string, int> signalsBefore)
    {
        Run = run;
        Step = step;
        Result = result;
        MceBefore = mceBefore;
        DmesgBefore = dmesgBefore;
        TraceBefore = traceBefore;
        _signalsBefore = signalsBefore;
    }

    public ScenarioRun Run { get; }
    public StepSpec Step { get; }
    public StepResult Result { get; }
    public int MceBefore { get; }
    public int DmesgBefore { get; }
    public int TraceBefore { get; }

    /// <summary>The step's actor (expectations without actor: refer to it).</summary>
    public string? Actor => Step.Step.Actor;

    /// <summary>Signals an actor received (caught, or the one that killed it) during the step, in order.</summary>
    public List<SigInfo> NewSignals(string actor)
    {
        var all = Run.Actor(actor).Process.AllSignals.ToList();
        return all.Skip(_signalsBefore.GetValueOrDefault(actor)).ToList();
    }

    /// <summary>dmesg lines printed during the step.</summary>
    public IEnumerable<string> NewDmesg => Run.Machine.State.Dmesg.Skip(DmesgBefore);

    /// <summary>The step's trace records.</summary>
    public IReadOnlyList<TraceRecord> TraceRecords => Run.Machine.Tracer.Records.Skip(TraceBefore).ToList();

    /// <summary>Snapshot the per-actor signal counts before a step.</summary>
    internal static Dictionary<string, int> SignalCounts(ScenarioRun run)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, a) in run.Actors) d[name] = a.Process.AllSignals.Count();
        return d;
    }
}
