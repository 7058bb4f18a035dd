namespace KernelSim.Drivers.Virtiofs;

/// <summary>A simulated monotonic clock (jiffies-like, in ns) for attribute and entry timeouts; only tests move it.</summary>
public sealed class SimClock
{
    /// <summary>Now, in nanoseconds since boot.</summary>
    public ulong NowNs { get; private set; } = 1;

    /// <summary>Let simulated time pass.</summary>
    public void Advance(TimeSpan t) => NowNs += (ulong)Math.Max(0, t.Ticks) * 100UL;
}
