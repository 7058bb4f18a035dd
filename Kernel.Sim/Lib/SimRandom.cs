namespace KernelSim.Lib;

/// <summary>
/// The project's own deterministic generator: xoshiro256** 1.0 (Blackman and Vigna, 2018) with its state
/// seeded by SplitMix64 from one 64-bit seed. The algorithm is written out here and never delegated to
/// <see cref="System.Random"/>, so a seed draws the same sequence on every .NET version and platform forever
/// (the campaign tests pin the first outputs). Not a kernel structure: simulator infrastructure used by
/// fault-injection campaigns.
/// </summary>
public sealed class SimRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Seed the state with four SplitMix64 outputs of <paramref name="seed"/>.</summary>
    public SimRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>One SplitMix64 step (Steele, Lea, Flood 2014): advances <paramref name="x"/> and returns the mixed value.</summary>
    public static ulong SplitMix64(ref ulong x)
    {
        x = unchecked(x + 0x9E3779B97F4A7C15UL);
        var z = x;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>The next 64-bit output of xoshiro256**.</summary>
    public ulong NextUInt64()
    {
        var result = unchecked(RotL(_s1 * 5, 7) * 9);
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotL(_s3, 45);
        return result;
    }

    /// <summary>A uniform value in [0, <paramref name="bound"/>) by rejection (no modulo bias); 0 when bound is 0.</summary>
    public ulong Below(ulong bound)
    {
        if (bound <= 1) return 0;
        var limit = ulong.MaxValue - ulong.MaxValue % bound;
        while (true)
        {
            var v = NextUInt64();
            if (v < limit) return v % bound;
        }
    }

    /// <summary>A uniform int in [<paramref name="min"/>, <paramref name="max"/>] (inclusive).</summary>
    public int Range(int min, int max) => max <= min ? min : min + (int)Below((ulong)((long)max - min + 1));

    /// <summary>True with probability <paramref name="num"/>/<paramref name="den"/>.</summary>
    public bool Chance(ulong num, ulong den) => Below(den) < num;

    /// <summary>An index into <paramref name="weights"/> drawn with probability proportional to its weight (weights ≥ 0, not all 0).</summary>
    public int Weighted(ReadOnlySpan<int> weights)
    {
        ulong total = 0;
        foreach (var w in weights) total += (ulong)Math.Max(w, 0);
        if (total == 0) return 0;
        var r = Below(total);
        for (var i = 0; i < weights.Length; i++)
        {
            var w = (ulong)Math.Max(weights[i], 0);
            if (r < w) return i;
            r -= w;
        }
        return weights.Length - 1;
    }

    private static ulong RotL(ulong x, int k) => (x << k) | (x >> (64 - k));
}
