using KernelSim.Lib;
using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Tests.Campaigns;

/// <summary>A seed's patterns are drawn by a copy of xoshiro256** with its state in locals: it must be SimRandom's output.</summary>
public class SeedPatternTests
{
    [TestCase(0UL, 0)]
    [TestCase(1UL, 1)]
    [TestCase(42UL, 7)]
    [TestCase(0xD0D0UL ^ 123456789UL, 65536)]
    [TestCase(ulong.MaxValue, 4099)]
    public void Xoshiro_IsSimRandomsOutput_LittleEndian(ulong seed, int len)
    {
        var rng = new SimRandom(seed);
        var expected = new byte[len];
        for (var i = 0; i < len; i += 8)
        {
            var v = rng.NextUInt64();
            for (var k = 0; k < 8 && i + k < len; k++) expected[i + k] = (byte)(v >> (8 * k));
        }
        var got = new byte[len];
        ByteModel.Xoshiro(seed, got);
        Assert.That(got, Is.EqualTo(expected));
    }
}
