using KernelSim.Cli.Scenarios.Expectations;
using KernelSim.Cli.Scenarios.Model;
using KernelSim.Cli.Scenarios.Steps;

namespace KernelSim.Cli.Scenarios.Runtime;

/// <summary>What one step did: its result, what changed on the machine, its checked expectations and its trace range.</summary>
internal sealed record StepRecord(StepSpec Spec, StepResult Result, IReadOnlyList<string> Details, IReadOnlyList<ExpectationOutcome> Checks, int TraceFrom, int TraceTo);
