using KernelSim.Scenarios.Model;
using KernelSim.Kernel;

namespace KernelSim.Scenarios.Runtime;

/// <summary>The outcome of running one scenario.</summary>
public sealed class ScenarioResult(Scenario scenario, Machine machine)
{
    public Scenario Scenario { get; } = scenario;
    public Machine Machine { get; } = machine;

    /// <summary>Lines describing the setup (actors, mappings, mounts).</summary>
    public List<string> Setup { get; } = [];

    /// <summary>Setup problems (a mapping that could not be created): each fails the scenario.</summary>
    public List<string> SetupErrors { get; } = [];

    public List<StepRecord> Steps { get; } = [];

    /// <summary>Every expectation of every step, in file order, with its result.</summary>
    public IReadOnlyList<ExpectationResult> Expectations =>
        Steps.SelectMany(st => st.Checks.Select(c => new ExpectationResult(Scenario.Name, st.Spec.Index, st.Spec.Step.Describe, c.Expectation.Key,
            c.Expectation.Describe, c.Failure == null, c.Failure, $"{Scenario.File}:{c.Expectation.Mark.Line}:{c.Expectation.Mark.Column}"))).ToList();

    public int ExpectationCount => Steps.Sum(s => s.Checks.Count);

    public int FailureCount => SetupErrors.Count + Steps.Sum(s => s.Checks.Count(c => c.Failure != null) + (s.Result.Outcome?.StartsWith("error:", StringComparison.Ordinal) == true ? 1 : 0));

    public bool Passed => FailureCount == 0;
}
