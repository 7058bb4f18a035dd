namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// Buffers a campaign worker reuses from seed to seed for what a final check reads and drops at once (a file's bytes): one
/// per thread, so a check makes no garbage. A span handed out is valid until the next call on the same thread.
/// </summary>
internal static class SeedScratch
{
    [ThreadStatic] private static byte[]? _file;

    /// <summary>This thread's file buffer, <paramref name="len"/> bytes long (its contents are stale: the caller fills all of it).</summary>
    public static Span<byte> File(long len)
    {
        var b = _file;
        if (b == null || b.Length < len) _file = b = new byte[Math.Max(len, (long)CampaignPlan.Region)];
        return b.AsSpan(0, (int)len);
    }
}
