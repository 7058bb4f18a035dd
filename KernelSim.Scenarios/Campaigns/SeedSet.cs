namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The seeds of a run: first..last (inclusive), shard <see cref="ShardIndex"/> of <see cref="ShardCount"/>
/// (the seeds whose index, seed − first, is ShardIndex modulo ShardCount). Computed, never materialised: a
/// range of 10⁸ seeds costs nothing until its seeds run.
/// </summary>
public readonly record struct SeedSet(ulong First, ulong Last, int ShardIndex = 0, int ShardCount = 1)
{
    /// <summary>How many seeds the set holds.</summary>
    public ulong Count => (ulong)ShardIndex > Last - First ? 0 : (Last - First - (ulong)ShardIndex) / (ulong)ShardCount + 1;

    /// <summary>The k-th seed of the set (k &lt; <see cref="Count"/>).</summary>
    public ulong At(ulong k) => First + (ulong)ShardIndex + k * (ulong)ShardCount;

    public bool Contains(ulong seed) => seed >= First && seed <= Last && (seed - First) % (ulong)ShardCount == (ulong)ShardIndex;

    /// <summary>The seeds from the k-th on, in order.</summary>
    public IEnumerable<ulong> From(ulong k)
    {
        for (var i = k; i < Count; i++) yield return At(i);
    }

    /// <summary>"1..200" or "1..200, shard 2/4".</summary>
    public override string ToString() => ShardCount == 1 ? $"{First}..{Last}" : $"{First}..{Last}, shard {ShardIndex}/{ShardCount}";
}
