using KernelSim.Lib;

namespace KernelSim.Tests.Campaigns;

/// <summary>The campaign generator: xoshiro256** seeded by SplitMix64, pinned so a seed can never silently change.</summary>
public class SimRandomTests
{
    [Test]
    public void SimRandom_Seed0_FirstFourOutputsPinned()
    {
        var r = new SimRandom(0);
        Assert.That(new[] { r.NextUInt64(), r.NextUInt64(), r.NextUInt64(), r.NextUInt64() },
            Is.EqualTo(new[] { 0x99ec5f36cb75f2b4UL, 0xbf6e1f784956452aUL, 0x1a5f849d4933e6e0UL, 0x6aa594f1262d2d2cUL }));
    }

    [Test]
    public void SimRandom_Seed42_FirstFourOutputsPinned()
    {
        var r = new SimRandom(42);
        Assert.That(new[] { r.NextUInt64(), r.NextUInt64(), r.NextUInt64(), r.NextUInt64() },
            Is.EqualTo(new[] { 0x15780b2e0c2ec716UL, 0x6104d9866d113a7eUL, 0xae17533239e499a1UL, 0xecb8ad4703b360a1UL }));
    }

    /// <summary>NextBytes (campaign seed patterns) is NextUInt64's output, little endian, and leaves the state after it.</summary>
    [TestCase(0UL, 0)]
    [TestCase(1UL, 1)]
    [TestCase(42UL, 7)]
    [TestCase(0xD0D0UL ^ 123456789UL, 65536)]
    [TestCase(ulong.MaxValue, 4099)]
    public void NextBytes_IsNextUInt64sOutput_LittleEndian_AndContinuesTheSequence(ulong seed, int len)
    {
        var rng = new SimRandom(seed);
        var expected = new byte[len];
        for (var i = 0; i < len; i += 8)
        {
            var v = rng.NextUInt64();
            for (var k = 0; k < 8 && i + k < len; k++) expected[i + k] = (byte)(v >> (8 * k));
        }
        var got = new byte[len];
        var filled = new SimRandom(seed);
        filled.NextBytes(got);
        Assert.That(got, Is.EqualTo(expected));
        Assert.That(filled.NextUInt64(), Is.EqualTo(rng.NextUInt64()));
    }

    /// <summary>Two streams drawn together (the seed's region and buffer patterns) give each one's own bytes and end state.</summary>
    [TestCase(7UL, 11UL, 65536, 65536)]
    [TestCase(7UL, 11UL, 16, 16)]
    [TestCase(3UL, 3UL, 24, 24)]
    [TestCase(12UL, 13UL, 8, 8)]
    [TestCase(0xFFFF_FFFF_FFFF_FFFFUL, 0UL, 4104, 4104)]
    [TestCase(1UL, 2UL, 4099, 4099)]
    [TestCase(1UL, 2UL, 64, 128)]
    [TestCase(5UL, 9UL, 0, 0)]
    public void NextBytes_OfTwoStreams_EqualsEachStreamAlone(ulong seedA, ulong seedB, int lenA, int lenB)
    {
        var (gotA, gotB) = (new byte[lenA], new byte[lenB]);
        var (a, b) = (new SimRandom(seedA), new SimRandom(seedB));
        SimRandom.NextBytes(a, gotA, b, gotB);
        var (wantA, wantB) = (new byte[lenA], new byte[lenB]);
        var (refA, refB) = (new SimRandom(seedA), new SimRandom(seedB));
        refA.NextBytes(wantA);
        refB.NextBytes(wantB);
        Assert.That(gotA, Is.EqualTo(wantA));
        Assert.That(gotB, Is.EqualTo(wantB));
        Assert.That((a.NextUInt64(), b.NextUInt64()), Is.EqualTo((refA.NextUInt64(), refB.NextUInt64())));
    }

    [Test]
    public void SplitMix64_FromZero_FirstOutputIsTheReferenceValue()
    {
        ulong x = 0;
        Assert.That(SimRandom.SplitMix64(ref x), Is.EqualTo(0xe220a8397b1dcdafUL));
        Assert.That(x, Is.EqualTo(0x9E3779B97F4A7C15UL));
    }

    [Test]
    public void Below_StaysInRange_AndWeightedNeverPicksAZeroWeight()
    {
        var r = new SimRandom(7);
        for (var i = 0; i < 1000; i++)
        {
            Assert.That(r.Below(10), Is.LessThan(10UL));
            Assert.That(r.Weighted([0, 3, 0, 1]), Is.AnyOf(1, 3));
        }
        Assert.That(r.Below(0), Is.Zero);
        Assert.That(r.Range(5, 5), Is.EqualTo(5));
    }
}
