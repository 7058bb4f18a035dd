using KernelSim.Scenarios.Runtime;
using KernelSim.Kernel;

namespace KernelSim.Scenarios.Steps;

/// <summary>A step that runs a delegate with the actor's process (most system-call steps).</summary>
internal sealed class CallStep(string? actor, string describe, Func<ScenarioRun, Process, StepResult> body) : IScenarioStep
{
    public string? Actor => actor;
    public string Describe => describe;

    public StepResult Execute(ScenarioRun run) => body(run, run.Actor(actor!).Process);
}
