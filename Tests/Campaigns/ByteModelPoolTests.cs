using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// <see cref="ByteModel.Rent"/> after <see cref="ByteModel.Release"/>: a reused model resets only the bytes its last
/// run changed, so each way of changing a model must be seen. Every case changes one range with one method, gives the
/// model back, rents it again and holds it to a model made fresh from the pattern.
/// </summary>
public class ByteModelPoolTests
{
    private const int Len = (int)CampaignPlan.Region;

    /// <summary>One way of changing a model (<paramref name="other"/>: a model of the complement of its bytes, to copy from).</summary>
    internal delegate void Change(ByteModel m, ByteModel other);

    private static readonly (string Name, Change Change)[] Changes =
    [
        ("Set", (m, _) => m.Set(5000, Not(m, 5000))),
        ("CopyFrom", (m, o) => m.CopyFrom(6000, o, 10)),
        ("CopyFrom past the source", (m, o) => m.CopyFrom(6001, o, (ulong)Len + 3)),
        ("Maybe", (m, _) => m.Maybe(7000, Not(m, 7000))),
        ("Forget one", (m, _) => m.Forget(8000)),
        ("Forget a range", (m, _) => m.Forget(9000, 300)),
        ("SetRange", (m, _) => m.SetRange(10_000, new[] { Not(m, 10_000), Not(m, 10_001), Not(m, 10_002) })),
        ("Fill", (m, _) => m.Fill(11_000, 200, 0x77)),
        ("MaybeFill", (m, _) => m.MaybeFill(12_000, 200, 0x66)),
        ("CopyRange", (m, o) => m.CopyRange(13_000, o, 100, 500)),
        ("CopyRange past the source", (m, o) => m.CopyRange(14_000, o, (ulong)Len - 10, 50)),
        ("MaybeCopyRange", (m, o) => m.MaybeCopyRange(15_000, o, 200, 400)),
        ("the last byte", (m, _) => m.Set((ulong)Len - 1, Not(m, (ulong)Len - 1))),
        ("the first byte", (m, _) => m.Forget(0)),
    ];

    /// <summary>The complement of the model's known byte <paramref name="i"/>.</summary>
    private static byte Not(ByteModel m, ulong i) => m.TryGet(i, out var b) ? (byte)~b : throw new InvalidOperationException("not known");

    /// <summary>A model of the complement of the (seed, salt) pattern.</summary>
    private static ByteModel Complement(ulong seed, ulong salt) => new(ByteModel.Pattern(seed, salt, Len).Select(b => (byte)~b).ToArray());

    private static IEnumerable<TestCaseData> Cases() => Changes.Select((c, i) => new TestCaseData(i).SetName($"{{m}}({c.Name})"));

    /// <summary>Rent models until this thread's pool is empty (the pool keeps at most four).</summary>
    private static void DrainPool()
    {
        for (var i = 0; i < 5; i++) ByteModel.Rent(0xD1A1, (ulong)i, 512);
        for (var i = 0; i < 5; i++) ByteModel.Rent(0xD1A1, (ulong)i, Len);
    }

    [TestCaseSource(nameof(Cases))]
    public void Rent_SamePattern_AfterRelease_EqualsAFreshModel(int change)
    {
        ulong seed = 0x5EED_0000UL + (ulong)change, salt = 0xD0D0;
        DrainPool();
        var m = ByteModel.Rent(seed, salt, Len);
        Changes[change].Change(m, Complement(seed, salt));
        var fresh = new ByteModel(ByteModel.Pattern(seed, salt, Len));
        Assert.That(m.SameAs(fresh), Is.False, "the change must change the model, or the test cannot fail");
        m.Release();

        var again = ByteModel.Rent(seed, salt, Len);

        Assert.That(again, Is.SameAs(m), "the released model is the one reused");
        Assert.That(again.SameAs(fresh), Is.True);
    }

    [TestCaseSource(nameof(Cases))]
    public void Rent_OtherPattern_AfterRelease_EqualsAFreshModel(int change)
    {
        ulong seed = 0x6EED_0000UL + (ulong)change;
        DrainPool();
        var m = ByteModel.Rent(seed, 0xD0D0, Len);
        Changes[change].Change(m, Complement(seed, 0xD0D0));
        m.Release();

        var again = ByteModel.Rent(seed + 1, 0xB0B0, Len);

        Assert.That(again, Is.SameAs(m), "the released model is the one reused");
        Assert.That(again.SameAs(new ByteModel(ByteModel.Pattern(seed + 1, 0xB0B0, Len))), Is.True);
    }

    [Test]
    public void Rent_PrefersTheModelOfTheSamePattern()
    {
        DrainPool();
        var a = ByteModel.Rent(0x7EED, 0xD0D0, Len);
        var b = ByteModel.Rent(0x7EED, 0xB0B0, Len);
        a.Set(1, 0);
        b.Set(2, 0);
        a.Release();
        b.Release();

        // A stack would hand b out first; the model that held the asked pattern is taken instead.
        Assert.That(ByteModel.Rent(0x7EED, 0xD0D0, Len), Is.SameAs(a));
        Assert.That(ByteModel.Rent(0x7EED, 0xB0B0, Len), Is.SameAs(b));
    }
}
