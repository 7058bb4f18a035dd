using KernelSim.Scenarios.Runtime;

namespace KernelSim.Scenarios.Steps;

/// <summary>A parsed step, ready to run on a scenario's machine.</summary>
public interface IScenarioStep
{
    /// <summary>The actor whose context the step runs in (and expectations default to); null for machine-wide steps.</summary>
    string? Actor { get; }

    /// <summary>What the step does, as the report prints it ("reader: write(f, buf+0x800, 8192)").</summary>
    string Describe { get; }

    /// <summary>Run it.</summary>
    StepResult Execute(ScenarioRun run);
}
