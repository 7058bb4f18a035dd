namespace KernelSim.Trace;

/// <summary>Kind of a trace record.</summary>
public enum TraceKind
{
    /// <summary>A modelled kernel function was entered.</summary>
    Enter,
    /// <summary>The function last entered returned.</summary>
    Exit,
    /// <summary>A trap, fixup, signal, badblocks change or other event.</summary>
    Event,
}

/// <summary>One record of a trace: deterministic, no wall-clock time.</summary>
/// <param name="Seq">Sequence number (the simulated clock).</param>
/// <param name="Kind">Enter, exit or event.</param>
/// <param name="Depth">Call depth at the record.</param>
/// <param name="Name">Function name (Enter/Exit) or event category (Event).</param>
/// <param name="Layer">The layer the function belongs to (for per-layer lifelines), e.g. "mm", "x86", "iov_iter".</param>
/// <param name="Text">Event text; null for Enter/Exit.</param>
public readonly record struct TraceRecord(long Seq, TraceKind Kind, int Depth, string Name, string Layer, string? Text);
