using KernelSim.Scenarios.Runtime;

namespace KernelSim.Scenarios.Steps;

/// <summary>A step that runs a delegate on the scenario (optionally in an actor's context).</summary>
internal sealed class MachineStep(string describe, Func<ScenarioRun, StepResult> body, string? actor = null) : IScenarioStep
{
    public string? Actor => actor;
    public string Describe => describe;

    public StepResult Execute(ScenarioRun run) => body(run);
}
