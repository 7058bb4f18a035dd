namespace KernelSim.Trace;

/// <summary>
/// The kernel's tracer: each modelled function can appear as a frame and each trap, fixup or signal as
/// an event. Free when off: <see cref="Fn"/> returns an empty scope and records nothing.
/// </summary>
public sealed class Tracer
{
    private readonly List<TraceRecord> _records = [];
    private readonly Stack<(string Name, string Layer)> _stack = new();
    private long _seq;

#if KERNELSIM_NOTRACE
    /// <summary>Always false: this build has no tracing (-p:KernelSimNoTrace=true, for measuring what tracing-off costs).</summary>
    public bool Enabled { get => false; set { } }
#else
    /// <summary>Whether records are kept.</summary>
    public bool Enabled { get; set; }
#endif

    /// <summary>Everything recorded so far.</summary>
    public IReadOnlyList<TraceRecord> Records => _records;

    /// <summary>Enter a traced kernel function; dispose the result when it returns.</summary>
#if KERNELSIM_NOTRACE
    public Scope Fn(string name, string layer = "kernel") => default;
#else
    public Scope Fn(string name, string layer = "kernel") => Enabled ? Enter(name, layer) : default; // small enough to inline when off
#endif

    private Scope Enter(string name, string layer)
    {
        _records.Add(new TraceRecord(_seq++, TraceKind.Enter, _stack.Count, name, layer, null));
        _stack.Push((name, layer));
        return new Scope(this);
    }

    /// <summary>Record an event (trap, fixup, signal, …) in the current frame.</summary>
    public void Event(string category, string text)
    {
        if (!Enabled) return;
        var layer = _stack.Count > 0 ? _stack.Peek().Layer : "kernel";
        _records.Add(new TraceRecord(_seq++, TraceKind.Event, _stack.Count, category, layer, text));
    }

    /// <summary>Drop all records (the stack of open frames is kept).</summary>
    public void Clear() => _records.Clear();

    private void Exit()
    {
        if (_stack.Count == 0) return;
        var (name, layer) = _stack.Pop();
        _records.Add(new TraceRecord(_seq++, TraceKind.Exit, _stack.Count, name, layer, null));
    }

    /// <summary>Unwind every open frame (used when a simulated panic unwinds the stack).</summary>
    internal void UnwindAll()
    {
        while (_stack.Count > 0) Exit();
    }

    /// <summary>An open traced frame.</summary>
    public readonly struct Scope(Tracer? tracer) : IDisposable
    {
        /// <inheritdoc/>
#if KERNELSIM_NOTRACE
        public void Dispose() => _ = tracer;
#else
        public void Dispose() => tracer?.Exit();
#endif
    }
}
