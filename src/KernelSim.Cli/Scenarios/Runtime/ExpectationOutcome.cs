using KernelSim.Cli.Scenarios.Expectations;

namespace KernelSim.Cli.Scenarios.Runtime;

/// <summary>An expectation and, when it does not hold, why.</summary>
internal sealed record ExpectationOutcome(IExpectation Expectation, string? Failure);
