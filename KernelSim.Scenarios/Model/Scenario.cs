namespace KernelSim.Scenarios.Model;

/// <summary>One scenario: a YAML document of a scenario file.</summary>
/// <param name="File">The file as named on the command line (or "walkthrough:NAME").</param>
/// <param name="Document">1-based document number inside the file.</param>
/// <param name="Name">scenario: name.</param>
/// <param name="Title">One-line title.</param>
/// <param name="Story">Narration printed before the steps by walkthroughs.</param>
/// <param name="Machine">The machine.</param>
/// <param name="Actors">Processes in creation order.</param>
/// <param name="Steps">Steps in order.</param>
public sealed record Scenario(string File, int Document, string Name, string? Title, string? Story, MachineSpec Machine, IReadOnlyList<ActorSpec> Actors, IReadOnlyList<StepSpec> Steps);
