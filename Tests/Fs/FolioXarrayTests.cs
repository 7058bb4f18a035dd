using KernelSim.Fs;

namespace KernelSim.Tests.Fs;

/// <summary>mapping-&gt;i_pages as a 64-way radix tree: loads, stores, erases, xa_find and ordered walks at sparse indices.</summary>
public class FolioXarrayTests
{
    private static readonly ulong[] Sparse = [0, 1, 63, 64, 4095, 4096, 262_143, 1UL << 40, (1UL << 52) - 1, ulong.MaxValue];

    private static (FolioXarray X, Dictionary<ulong, Folio> Folios) Filled()
    {
        var x = new FolioXarray();
        var folios = new Dictionary<ulong, Folio>();
        foreach (var i in Sparse.Reverse())
        {
            var f = new Folio(i, i & 0xffff);
            folios[i] = f;
            x.Store(i, f);
        }
        return (x, folios);
    }

    [Test]
    public void Load_ReturnsWhatWasStored_AndNullInHoles()
    {
        var (x, folios) = Filled();
        Assert.That(x.Count, Is.EqualTo(Sparse.Length));
        foreach (var i in Sparse) Assert.That(x.Load(i), Is.SameAs(folios[i]), $"index {i}");
        foreach (var hole in new ulong[] { 2, 62, 65, 4094, 4097, 1UL << 39, (1UL << 40) + 1, ulong.MaxValue - 1 })
            Assert.That(x.Load(hole), Is.Null, $"hole {hole}");
    }

    [Test]
    public void Values_WalkInIndexOrder()
    {
        var (x, _) = Filled();
        Assert.That(x.Values.Select(f => f.Index), Is.EqualTo(Sparse));
    }

    [Test]
    public void FindFrom_ReturnsTheFirstFolioAtOrAfterTheIndex()
    {
        var (x, folios) = Filled();
        Assert.That(x.FindFrom(0), Is.SameAs(folios[0]));
        Assert.That(x.FindFrom(2), Is.SameAs(folios[63]));
        Assert.That(x.FindFrom(65), Is.SameAs(folios[4095]));
        Assert.That(x.FindFrom(4097), Is.SameAs(folios[262_143]));
        Assert.That(x.FindFrom(262_144), Is.SameAs(folios[1UL << 40]));
        Assert.That(x.FindFrom(1UL << 52), Is.SameAs(folios[ulong.MaxValue]));
        Assert.That(new FolioXarray().FindFrom(0), Is.Null);
    }

    [Test]
    public void Store_ReplacesWithoutCountingTwice()
    {
        var (x, _) = Filled();
        var g = new Folio(64, 7);
        x.Store(64, g);
        Assert.That(x.Count, Is.EqualTo(Sparse.Length));
        Assert.That(x.Load(64), Is.SameAs(g));
    }

    [Test]
    public void Erase_RemovesOnlyThatIndex_AndEmptiesTheTree()
    {
        var (x, folios) = Filled();
        Assert.That(x.Load(64), Is.SameAs(folios[64]), "the cursor sits in the leaf of 64");
        Assert.That(x.Erase(64, out var gone), Is.True);
        Assert.That(gone, Is.SameAs(folios[64]));
        Assert.That(x.Load(64), Is.Null);
        Assert.That(x.Erase(64, out gone), Is.False);
        Assert.That(gone, Is.Null);
        Assert.That(x.Erase(2, out _), Is.False, "a hole");
        Assert.That(x.Count, Is.EqualTo(Sparse.Length - 1));
        foreach (var i in Sparse.Where(i => i != 64)) Assert.That(x.Erase(i, out gone) && ReferenceEquals(gone, folios[i]), Is.True, $"index {i}");
        Assert.That(x.Count, Is.EqualTo(0));
        Assert.That(x.Values, Is.Empty);
        foreach (var i in Sparse) Assert.That(x.Load(i), Is.Null, $"index {i} after erasing everything");
        var f = new Folio(5, 5);
        x.Store(5, f);
        Assert.That(x.Load(5), Is.SameAs(f));
        Assert.That(x.Count, Is.EqualTo(1));
    }

    [Test]
    public void Load_AfterTheCursorLeafWasFreed_DoesNotSeeTheOldLeaf()
    {
        var x = new FolioXarray();
        var a = new Folio(100, 1);
        x.Store(100, a);
        Assert.That(x.Load(100), Is.SameAs(a));
        x.Erase(100, out _);
        var b = new Folio(101, 2);
        x.Store(101, b);
        Assert.That(x.Load(100), Is.Null);
        Assert.That(x.Load(101), Is.SameAs(b));
    }
}
