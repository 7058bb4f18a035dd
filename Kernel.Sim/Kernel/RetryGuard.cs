namespace KernelSim.Kernel;

/// <summary>
/// Bounded-retry livelock detector for modelled kernel retry loops (not a kernel function). A real kernel
/// loop that keeps retrying without progress spins forever; the model counts consecutive retries that made
/// no progress and, after <see cref="Limit"/> of them, unwinds with a <see cref="KernelLivelockException"/>
/// ("no progress after N retries in f"), which <see cref="Machine.Run{T}(Process?, string, Func{T})"/> turns
/// into the "livelock" outcome instead of a hang.
/// </summary>
public struct RetryGuard
{
    /// <summary>Default bound: more than any legitimate run of no-progress retries in the modelled loops.</summary>
    public const int DefaultLimit = 8;

    private readonly string _function;
    private int _stalls;

    /// <summary>A guard for the retry loop of <paramref name="function"/>.</summary>
    public RetryGuard(string function, int limit = DefaultLimit)
    {
        _function = function;
        Limit = limit;
        _stalls = 0;
    }

    /// <summary>Consecutive no-progress retries that trigger the livelock.</summary>
    public int Limit { get; }

    /// <summary>Retries without progress so far.</summary>
    public readonly int Stalls => _stalls;

    /// <summary>Record one pass of the loop: progress resets the count, a stall may end the task as livelocked.</summary>
    public void Pass(bool progressed)
    {
        if (progressed)
        {
            _stalls = 0;
            return;
        }
        if (++_stalls >= Limit)
            throw new KernelLivelockException($"no progress after {Limit} retries in {_function}");
    }
}
