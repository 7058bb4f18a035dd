using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// <see cref="ByteModel.MaybeCopyRange"/> (vectorised where both models know every byte) held to its byte-by-byte
/// definition: <see cref="ByteModel.Maybe"/> of each known source byte, <see cref="ByteModel.Forget(ulong)"/> of the others
/// and of bytes past the source.
/// </summary>
public class ByteModelRangeTests
{
    private const int Len = 4096;

    /// <summary>A model of random bytes with runs of one-of-two and unknown bytes (none when <paramref name="plain"/>).</summary>
    private static ByteModel RandomModel(Random r, bool plain)
    {
        var bytes = new byte[Len];
        r.NextBytes(bytes);
        var m = new ByteModel(bytes);
        if (plain) return m;
        for (var runs = r.Next(0, 6); runs > 0; runs--)
        {
            var at = (ulong)r.Next(Len);
            var len = (ulong)r.Next(1, 200);
            if (r.Next(2) == 0) m.Forget(at, len);
            else
                for (var i = at; i < at + len; i++) m.Maybe(i, (byte)r.Next(256));
        }
        return m;
    }

    [Test]
    public void MaybeCopyRange_EqualsTheByteByByteDefinition([Range(0, 299)] int seed)
    {
        var r = new Random(seed);
        var dst = RandomModel(r, plain: r.Next(3) == 0);
        var src = RandomModel(r, plain: r.Next(3) == 0);
        // Some bytes equal to the source, so that known bytes stay known as well as becoming one of two.
        for (var k = r.Next(0, 3); k > 0; k--)
        {
            var i = (ulong)r.Next(Len);
            if (src.TryGet(i, out var b)) dst.Set(i, b);
        }
        var reference = dst.Clone();
        ulong at = (ulong)r.Next(Len), j = (ulong)r.Next(Len + 64), len = (ulong)r.Next(0, 2 * Len);

        dst.MaybeCopyRange(at, src, j, len);
        for (ulong k = 0; k < len && at + k < Len; k++)
        {
            // A source byte that is one of two, unknown, or past the source makes the byte unknown.
            if (j + k < Len && src.TryGet(j + k, out var b)) reference.Maybe(at + k, b);
            else reference.Forget(at + k);
        }

        Assert.That(dst.SameAs(reference), Is.True, $"at {at}, j {j}, len {len}");
    }

    [Test]
    public void MaybeCopyRange_KnownBytes_DifferingBecomeOneOfTwo_EqualStayKnown()
    {
        var a = new byte[Len];
        var b = new byte[Len];
        for (var i = 0; i < Len; i++) (a[i], b[i]) = ((byte)i, (byte)(i % 3 == 0 ? i : i + 1));
        var dst = new ByteModel(a);

        dst.MaybeCopyRange(0, new ByteModel(b), 0, Len);

        Assert.Multiple(() =>
        {
            Assert.That(dst.TryGet(3, out var v3), Is.True, "equal to the source: still known");
            Assert.That(v3, Is.EqualTo(3));
            Assert.That(dst.TryGet(4, out _), Is.False, "differs: one of two");
            Assert.That(dst.Allows(4, 4) && dst.Allows(4, 5) && !dst.Allows(4, 6), Is.True);
            Assert.That(dst.Expected(100), Is.EqualTo("0x64 or 0x65"));
        });
    }
}
