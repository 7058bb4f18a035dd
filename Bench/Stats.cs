namespace KernelSim.Bench;

/// <summary>Summaries of repeated timings for the interleaved runs (--traceoff-alternate, --scaling-alternate).</summary>
internal static class Stats
{
    /// <summary>The lower quartile, median and upper quartile of <paramref name="values"/> (nearest rank).</summary>
    public static (double Lower, double Median, double Upper) Quartiles(double[] values)
    {
        var s = values.Order().ToArray();
        double At(double q) => s[(int)Math.Round(q * (s.Length - 1))];
        return (At(0.25), At(0.5), At(0.75));
    }
}
