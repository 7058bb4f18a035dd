using KernelSim.Fs.Dax;

namespace KernelSim.Tests.FsDax;

/// <summary><see cref="RecentLog{T}"/>: the last entries in order, whether its array is still growing or already a full ring.</summary>
public class RecentLogTests
{
    [Test]
    public void FewerEntriesThanTheCapacity_AllKeptInOrder()
    {
        var log = new RecentLog<int>(256);
        for (var i = 0; i < 5; i++) log.Add(i);
        Assert.That(log, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
        Assert.That(log[4], Is.EqualTo(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = log[5]);
    }

    [Test]
    public void MoreEntriesThanTheCapacity_TheOldestAreDropped()
    {
        var log = new RecentLog<int>(256);
        for (var i = 0; i < 300; i++) log.Add(i);
        Assert.That(log.Count, Is.EqualTo(256));
        Assert.That(log[0], Is.EqualTo(44));
        Assert.That(log[255], Is.EqualTo(299));
        Assert.That(log, Is.EqualTo(Enumerable.Range(44, 256)));
    }

    [Test]
    public void ClearedAfterWrapping_StartsAgainInOrder()
    {
        var log = new RecentLog<int>(6);
        for (var i = 0; i < 9; i++) log.Add(i);
        log.Clear();
        for (var i = 0; i < 7; i++) log.Add(100 + i);
        Assert.That(log, Is.EqualTo(new[] { 101, 102, 103, 104, 105, 106 }));
    }

    [Test]
    public void AddSlot_FilledInPlace_KeepsTheSameOrderAsAdd()
    {
        // The iomap log fills its entries in place; the ring must look exactly as with Add, growing and once full.
        var byAdd = new RecentLog<(int A, long B)>(6);
        var bySlot = new RecentLog<(int A, long B)>(6);
        for (var i = 0; i < 9; i++)
        {
            byAdd.Add((i, 10L * i));
            ref var e = ref bySlot.AddSlot();
            e.A = i;
            e.B = 10L * i;
            Assert.That(bySlot, Is.EqualTo(byAdd), $"after {i + 1} entries");
        }
        Assert.That(bySlot[0], Is.EqualTo((3, 30L)));
        Assert.That(bySlot[5], Is.EqualTo((8, 80L)));
    }
}
