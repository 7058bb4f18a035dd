namespace KernelSim.Scenarios.Rendering;

/// <summary>--trace: which trace sink a run prints.</summary>
public enum TraceFormat
{
    None,
    /// <summary>ftrace function_graph text after each step.</summary>
    Text,
    /// <summary>Chrome trace-event JSON (Perfetto) of all scenarios, one process each.</summary>
    Chrome,
    /// <summary>A Mermaid sequence diagram per scenario.</summary>
    Mermaid,
}
