using System.Runtime.Intrinsics;

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
    public ulong NextUInt64() => Step(ref _s0, ref _s1, ref _s2, ref _s3);

    /// <summary>
    /// The next outputs of <see cref="NextUInt64"/>, little endian, into <paramref name="into"/> (the last output cut to
    /// what fits; it is consumed whole). The state is kept in locals for the loop: campaign seed patterns are 16 K outputs.
    /// </summary>
    public void NextBytes(Span<byte> into)
    {
        ulong s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        for (var i = 0; i < into.Length; i += 8)
        {
            var result = Step(ref s0, ref s1, ref s2, ref s3);
            if (i + 8 <= into.Length) System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(into[i..], result);
            else
                for (var k = 0; i + k < into.Length; k++) into[i + k] = (byte)(result >> (8 * k));
        }
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    /// <summary>
    /// <paramref name="a"/>.NextBytes(<paramref name="intoA"/>) and <paramref name="b"/>.NextBytes(<paramref name="intoB"/>)
    /// (the same bytes and end states), the two independent streams stepped in one loop: each step waits on its own
    /// state, so two at a time take little longer than one. Lengths that are not equal multiples of 8 go one after the other.
    /// </summary>
    public static void NextBytes(SimRandom a, Span<byte> intoA, SimRandom b, Span<byte> intoB)
    {
        if (intoA.Length != intoB.Length || intoA.Length % 8 != 0 || ReferenceEquals(a, b))
        {
            a.NextBytes(intoA);
            b.NextBytes(intoB);
            return;
        }
        if (System.Runtime.Intrinsics.X86.Sse2.IsSupported)
        {
            NextBytesVector(a, intoA, b, intoB);
            return;
        }
        ulong a0 = a._s0, a1 = a._s1, a2 = a._s2, a3 = a._s3;
        ulong b0 = b._s0, b1 = b._s1, b2 = b._s2, b3 = b._s3;
        for (var i = 0; i < intoA.Length; i += 8)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(intoA[i..], Step(ref a0, ref a1, ref a2, ref a3));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(intoB[i..], Step(ref b0, ref b1, ref b2, ref b3));
        }
        (a._s0, a._s1, a._s2, a._s3) = (a0, a1, a2, a3);
        (b._s0, b._s1, b._s2, b._s3) = (b0, b1, b2, b3);
    }

    /// <summary>
    /// The two-stream <see cref="NextBytes(SimRandom, Span{byte}, SimRandom, Span{byte})"/> with each state word of both
    /// streams in one 128-bit vector (lane 0: <paramref name="a"/>, lane 1: <paramref name="b"/>): one vector step is both
    /// streams' step, the multiplications by 5 and 9 are a shift and an add. Two steps' outputs are unpacked into 16 bytes
    /// of each stream. Equal lengths, a multiple of 8.
    /// </summary>
    private static void NextBytesVector(SimRandom a, Span<byte> intoA, SimRandom b, Span<byte> intoB)
    {
        var v0 = Vector128.Create(a._s0, b._s0);
        var v1 = Vector128.Create(a._s1, b._s1);
        var v2 = Vector128.Create(a._s2, b._s2);
        var v3 = Vector128.Create(a._s3, b._s3);
        var i = 0;
        for (; i + 16 <= intoA.Length; i += 16)
        {
            var r0 = VectorStep(ref v0, ref v1, ref v2, ref v3);
            var r1 = VectorStep(ref v0, ref v1, ref v2, ref v3);
            System.Runtime.Intrinsics.X86.Sse2.UnpackLow(r0, r1).AsByte().CopyTo(intoA[i..]);
            System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(r0, r1).AsByte().CopyTo(intoB[i..]);
        }
        if (i < intoA.Length)
        {
            var r = VectorStep(ref v0, ref v1, ref v2, ref v3);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(intoA[i..], r.GetElement(0));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(intoB[i..], r.GetElement(1));
        }
        (a._s0, a._s1, a._s2, a._s3) = (v0.GetElement(0), v1.GetElement(0), v2.GetElement(0), v3.GetElement(0));
        (b._s0, b._s1, b._s2, b._s3) = (v0.GetElement(1), v1.GetElement(1), v2.GetElement(1), v3.GetElement(1));
    }

    /// <summary><see cref="Step"/> of both lanes.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> VectorStep(ref Vector128<ulong> s0, ref Vector128<ulong> s1, ref Vector128<ulong> s2, ref Vector128<ulong> s3)
    {
        var x = RotL((s1 << 2) + s1, 7);
        var result = (x << 3) + x;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = RotL(s3, 45);
        return result;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> RotL(Vector128<ulong> x, [System.Diagnostics.CodeAnalysis.ConstantExpected] byte k) =>
        System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported
            ? System.Runtime.Intrinsics.X86.Avx512F.VL.RotateLeft(x, k)
            : (x << k) | Vector128.ShiftRightLogical(x, 64 - k);

    /// <summary>One xoshiro256** step: the output of state (s0..s3), which it advances.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong Step(ref ulong s0, ref ulong s1, ref ulong s2, ref ulong s3)
    {
        var result = unchecked(RotL(s1 * 5, 7) * 9);
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = RotL(s3, 45);
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
