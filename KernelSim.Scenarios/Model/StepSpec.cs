using KernelSim.Scenarios.Expectations;
using KernelSim.Scenarios.Steps;
using YamlDotNet.Core;

namespace KernelSim.Scenarios.Model;

/// <summary>One step of a scenario: what runs, what must be observed afterwards, and its narration.</summary>
/// <param name="Index">1-based position.</param>
/// <param name="Name">The step name ("write", "load", …).</param>
/// <param name="Mark">Where it starts in the file.</param>
/// <param name="Say">Narration printed before the step in walkthroughs.</param>
/// <param name="Diagram">Include this step's trace in the walkthrough's sequence diagram.</param>
/// <param name="Step">The parsed step.</param>
/// <param name="Expect">Its expectations in file order.</param>
public sealed record StepSpec(int Index, string Name, Mark Mark, string? Say, bool Diagram, IScenarioStep Step, IReadOnlyList<IExpectation> Expect);
