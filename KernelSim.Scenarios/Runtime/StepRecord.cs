using KernelSim.Scenarios.Expectations;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Steps;

namespace KernelSim.Scenarios.Runtime;

/// <summary>What one step did: its result, what changed on the machine, its checked expectations and its trace range.</summary>
public sealed record StepRecord(StepSpec Spec, StepResult Result, IReadOnlyList<string> Details, IReadOnlyList<ExpectationOutcome> Checks, int TraceFrom, int TraceTo);
