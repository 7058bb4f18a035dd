using KernelSim.Mm;

namespace KernelSim.Tests.Mm;

/// <summary>
/// Frame storage (<see cref="PhysicalMemory"/>): 64 KiB chunks of 16 frames whose pages are zeroed on first access rather
/// than when the chunk is allocated; whatever the order of reads and writes, never-written bytes read as zero.
/// </summary>
public class FrameStorageTests
{
    private static PhysicalMemory Dram()
    {
        var phys = new PhysicalMemory();
        phys.Register(new PhysAddr(0), 1UL << 20, MemoryKind.Dram, "dram");
        return phys;
    }

    [Test]
    public void OneByteWrittenInAChunk_EveryOtherByteOfTheChunkReadsZero()
    {
        var phys = Dram();
        const ulong chunkBase = 16UL << 12; // the second chunk: frames 16..31
        phys.PokeBytes(new PhysAddr(chunkBase + 5 * 4096 + 7), [0x9C]);
        var all = new byte[16 * 4096];
        phys.PeekBytes(new PhysAddr(chunkBase), all);
        var expected = new byte[16 * 4096];
        expected[5 * 4096 + 7] = 0x9C;
        Assert.That(all, Is.EqualTo(expected));
    }

    [Test]
    public void RunAcrossWrittenAndUnwrittenPages_UnwrittenPartIsZero()
    {
        var phys = Dram();
        phys.PokeBytes(new PhysAddr(3 * 4096 + 4090), [1, 2, 3, 4, 5, 6]);
        var run = phys.ReadRun(3, 4088, 4096 + 16).ToArray();
        Assert.That(run[..2], Is.EqualTo(new byte[2]));
        Assert.That(run[2..8], Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(run[8..], Is.EqualTo(new byte[4096 + 8]), "frame 4 was never written");
        var w = phys.WriteRun(4, 100, 10);
        Assert.That(w.ToArray(), Is.EqualTo(new byte[10]), "a first write sees a zeroed page around it");
        w.Fill(0xFF);
        var page = new byte[4096];
        phys.PeekBytes(new PhysAddr(4 * 4096), page);
        Assert.That(page.Count(b => b == 0xFF), Is.EqualTo(10));
        Assert.That(page.Count(b => b != 0 && b != 0xFF), Is.Zero);
    }

    [Test]
    public void AllocPage_InAChunkNoAccessReachedYet_APartialWriteLeavesTheRestOfThePageZero()
    {
        var phys = Dram();
        phys.PokeBytes(new PhysAddr(0), [0x11]); // chunk 0 exists; its other pages were never reached
        Assert.That(phys.AllocPage(), Is.Zero);
        var second = phys.AllocPage();
        Assert.That(second, Is.EqualTo(1));
        phys.WriteRun(1, 8, 4).Fill(0xEE);
        var page = new byte[4096];
        phys.PeekBytes(new PhysAddr(4096), page);
        Assert.That(page.Count(b => b == 0xEE), Is.EqualTo(4));
        Assert.That(page.Count(b => b != 0 && b != 0xEE), Is.Zero, "the page was zeroed before the write");
        Assert.That(phys.Peek(1), Is.Not.Null, "the allocated page has its struct page");
    }

    [Test]
    public void AllocPage_AfterAPageWasWrittenAndFreed_ItReadsZero()
    {
        var phys = Dram();
        var pfn = (ulong)phys.AllocPage();
        phys.WriteRun(pfn, 0, 4096).Fill(0x77);
        phys.FreePage(pfn);
        Assert.That(phys.AllocPage(), Is.EqualTo((long)pfn));
        Assert.That(phys.ReadRun(pfn, 0, 4096).ToArray(), Is.All.Zero);
        phys.WriteRun(pfn, 4000, 1)[0] = 1;
        Assert.That(phys.ReadRun(pfn, 0, 4000).ToArray(), Is.All.Zero);
    }

    [Test]
    public void WriteRunOverPartOfTwoPagesAndAWholeOne_TheUncoveredBytesOfThePartialPagesReadZero()
    {
        var phys = Dram();
        phys.WriteRun(33, 100, 2 * 4096).Fill(0xAB); // page 33 from byte 100, page 34 whole, page 35 up to byte 100
        var run = phys.ReadRun(33, 0, 3 * 4096).ToArray();
        Assert.That(run[..100], Is.All.Zero);
        Assert.That(run[100..(2 * 4096 + 100)], Is.All.EqualTo(0xAB));
        Assert.That(run[(2 * 4096 + 100)..], Is.All.Zero);
        Assert.That(phys.Peek(33), Is.Not.Null);
        Assert.That(phys.Peek(35), Is.Not.Null);
        Assert.That(phys.Peek(36), Is.Null);
    }
}
