namespace KernelSim.Trace;

/// <summary>One process of a Chrome trace: a name (the scenario or machine) and its records.</summary>
/// <param name="Name">Shown as the process name in Perfetto.</param>
/// <param name="Records">The machine's trace records.</param>
public sealed record ChromeTraceProcess(string Name, IReadOnlyList<TraceRecord> Records);
