using KernelSim.Fs.Dax;

namespace KernelSim.Tests.FsDax;

/// <summary>
/// <see cref="ExtentTree.Lookup"/> remembers the extent it found last (a read looks up the same extent page after
/// page); every change to the tree must forget it, so a lookup right after a change sees the new map.
/// </summary>
public class ExtentTreeTests
{
    private static ExtentTree TreeWithOneExtent(bool unwritten = false)
    {
        var t = new ExtentTree();
        t.Insert(new Extent(0, 100, 10, unwritten));
        Assert.That(t.Lookup(5, out _), Is.EqualTo(new Extent(0, 100, 10, unwritten)), "remembered now");
        return t;
    }

    [Test]
    public void Remove_ThenLookup_SeesTheHole()
    {
        var t = TreeWithOneExtent();
        var freed = new List<(long, long)>();
        t.Remove(4, 3, freed);
        Assert.That(freed, Is.EqualTo(new[] { (104L, 3L) }));
        Assert.That(t.Lookup(5, out var hole), Is.Null);
        Assert.That(hole, Is.EqualTo(2), "blocks 5 and 6 up to the extent at 7");
        Assert.That(t.Lookup(3, out _), Is.EqualTo(new Extent(0, 100, 4, false)));
        Assert.That(t.Lookup(8, out _), Is.EqualTo(new Extent(7, 107, 3, false)));
    }

    [Test]
    public void MarkWritten_ThenLookup_SeesTheConvertedPart()
    {
        var t = TreeWithOneExtent(unwritten: true);
        t.MarkWritten(4, 2);
        Assert.That(t.Lookup(5, out _), Is.EqualTo(new Extent(4, 104, 2, false)));
        Assert.That(t.Lookup(3, out _), Is.EqualTo(new Extent(0, 100, 4, true)));
        Assert.That(t.Lookup(6, out _), Is.EqualTo(new Extent(6, 106, 4, true)));
    }

    [Test]
    public void Insert_MergingANeighbour_ThenLookup_SeesTheMergedExtent()
    {
        var t = TreeWithOneExtent();
        t.Insert(new Extent(10, 110, 5, false));
        Assert.That(t.Lookup(5, out _), Is.EqualTo(new Extent(0, 100, 15, false)));
        Assert.That(t.Extents, Has.Count.EqualTo(1));
    }
}
