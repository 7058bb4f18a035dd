namespace KernelSim.Kernel;

/// <summary>
/// The machine's monotonic clock (ktime_get / jiffies, in ns since boot), read by timeouts such as FUSE's
/// attribute and entry validity. Simulated time moves only when a test or scenario advances it.
/// </summary>
public interface IClockSource
{
    /// <summary>Now, in nanoseconds since boot.</summary>
    ulong NowNs { get; }

    /// <summary>Let simulated time pass.</summary>
    void Advance(TimeSpan t);
}

/// <summary>The default <see cref="IClockSource"/>: starts at 1 ns and moves only by <see cref="Advance"/>.</summary>
public sealed class SimClock : IClockSource
{
    /// <inheritdoc/>
    public ulong NowNs { get; private set; } = 1;

    /// <inheritdoc/>
    public void Advance(TimeSpan t) => NowNs += (ulong)Math.Max(0, t.Ticks) * 100UL;
}
