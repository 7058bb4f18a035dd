using KernelSim.Block;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>block/badblocks.c semantics.</summary>
public class BadblocksTests
{
    [Test]
    public void SetMergesAdjacentAndOverlapping_CheckReportsFirstOverlap()
    {
        var bb = new Badblocks();
        Assert.That(bb.Set(8, 1, true), Is.EqualTo(0));
        Assert.That(bb.Set(9, 3, true), Is.EqualTo(0));
        Assert.That(bb.Set(100, 4, true), Is.EqualTo(0));
        Assert.That(bb.Show(), Is.EqualTo("8 4\n100 4\n"));
        Assert.That(bb.Check(0, 8), Is.EqualTo(0));
        Assert.That(bb.Check(0, 200, out var first, out var n), Is.EqualTo(1));
        Assert.That((first, n), Is.EqualTo((8L, 4)));
        Assert.That(bb.Check(11, 1), Is.EqualTo(1));
        Assert.That(bb.Check(12, 88), Is.EqualTo(0));
        Assert.That(bb.Set(50, 1, false), Is.EqualTo(0));
        Assert.That(bb.Check(0, 200), Is.EqualTo(-1), "an unacknowledged entry makes it -1");
        Assert.That(bb.Show(unack: true), Is.EqualTo("50 1\n"));
    }

    [Test]
    public void LongRange_SplitsInto512SectorEntries_ClearSplitsEntry()
    {
        var bb = new Badblocks();
        Assert.That(bb.Set(0, 1100, true), Is.EqualTo(0));
        Assert.That(bb.Show(), Is.EqualTo("0 512\n512 512\n1024 76\n"));
        Assert.That(bb.Clear(10, 2), Is.EqualTo(0));
        Assert.That(bb.Show(), Is.EqualTo("0 10\n12 500\n512 512\n1024 76\n"));
        Assert.That(bb.Clear(0, 2000), Is.EqualTo(0));
        Assert.That(bb.Count, Is.EqualTo(0));
    }

    [Test]
    public void TableCap512_SetFailsStoreEnospc_ClearSplitEnospc()
    {
        var bb = new Badblocks();
        for (var i = 0; i < Badblocks.MAX_BADBLOCKS; i++) Assert.That(bb.Set(i * 10L, 1, true), Is.EqualTo(0));
        Assert.That(bb.Count, Is.EqualTo(512));
        Assert.That(bb.Set(100000, 1, true), Is.EqualTo(1));
        Assert.That(bb.Store("200000 1\n"), Is.EqualTo(-Errno.ENOSPC));
        Assert.That(bb.Set(1, 1, true), Is.EqualTo(0), "merging with an entry needs no slot");
        Assert.That(bb.Count, Is.EqualTo(512));
        Assert.That(bb.Set(2, 0, true), Is.EqualTo(0));
        var big = new Badblocks();
        big.Set(0, 100, true);
        for (var i = 1; i < 512; i++) big.Set(1000 + i * 10L, 1, true);
        Assert.That(big.Clear(10, 5), Is.EqualTo(-Errno.ENOSPC));
        Assert.That(big.Entries[0], Is.EqualTo(new BadblockEntry(0, 100, true)));
    }

    [TestCase("8 1\n", 4)]
    [TestCase("8 1", 3)]
    [TestCase("  8   1\n", 8)]
    [TestCase("", -Errno.EINVAL)]
    [TestCase("garbage", -Errno.EINVAL)]
    [TestCase("8", -Errno.EINVAL)]
    [TestCase("8 0", -Errno.EINVAL)]
    [TestCase("8 -3", -Errno.EINVAL)]
    [TestCase("8 1x", -Errno.EINVAL)]
    [TestCase("8 1 ", -Errno.EINVAL)]
    [TestCase("8 x", -Errno.EINVAL)]
    public void Store_ParsesLikeSscanf(string text, long expected)
    {
        var bb = new Badblocks();
        Assert.That(bb.Store(text), Is.EqualTo(expected));
        Assert.That(bb.Count, Is.EqualTo(expected > 0 ? 1 : 0));
    }

    [Test]
    public void DiskWithoutTable_StoreEnxio_ShowEmpty()
    {
        var m = Infrastructure.Sim.Boot();
        var d = new BlockDevice(m, "null0", 8, new Moq.Mock<IBlockDeviceOps>().Object);
        Assert.That(d.BadblocksStore("1 1"), Is.EqualTo(-Errno.ENXIO));
        Assert.That(d.BadblocksShow(), Is.EqualTo(""));
    }

    [Test]
    public void BlkStatusErrnoTable()
    {
        Assert.That(BlkErrors.BlkStatusToErrno(BlkStatus.BLK_STS_IOERR), Is.EqualTo(-Errno.EIO));
        Assert.That(BlkErrors.BlkStatusToErrno(BlkStatus.BLK_STS_NOTSUPP), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(BlkErrors.BlkStatusToErrno(BlkStatus.BLK_STS_MEDIUM), Is.EqualTo(-Errno.ENODATA));
        Assert.That(BlkErrors.BlkStatusToErrno(BlkStatus.BLK_STS_OK), Is.EqualTo(0));
        Assert.That(BlkErrors.ErrnoToBlkStatus(-Errno.ENOSPC), Is.EqualTo(BlkStatus.BLK_STS_NOSPC));
        Assert.That(BlkErrors.ErrnoToBlkStatus(-Errno.EFAULT), Is.EqualTo(BlkStatus.BLK_STS_IOERR));
    }
}
