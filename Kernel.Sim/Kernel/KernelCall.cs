namespace KernelSim.Kernel;

/// <summary>
/// The result of running kernel code: its value if it returned, or what happened instead (a panic, an
/// oops that killed the task, a livelock, a processor shutdown).
/// </summary>
/// <typeparam name="T">The kernel function's return type.</typeparam>
/// <param name="Returned">True when the code returned normally.</param>
/// <param name="Value">The returned value (default when it did not return).</param>
/// <param name="Outcome">null when returned; otherwise "panic: …", "oops: …", "livelock: …" or "shutdown: …".</param>
public readonly record struct KernelCall<T>(bool Returned, T Value, string? Outcome);
