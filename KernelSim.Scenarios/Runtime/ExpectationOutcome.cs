using KernelSim.Scenarios.Expectations;

namespace KernelSim.Scenarios.Runtime;

/// <summary>An expectation and, when it does not hold, why.</summary>
public sealed record ExpectationOutcome(IExpectation Expectation, string? Failure);
