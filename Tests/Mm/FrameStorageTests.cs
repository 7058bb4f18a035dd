using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelSim.Mm;

namespace KernelSim.Tests.Mm;

/// <summary>
/// Frame storage (<see cref="PhysicalMemory"/>): chunks of <see cref="PhysicalMemory.ChunkPages"/> frames whose pages are
/// zeroed on first access rather than when the chunk is allocated; whatever the order of reads and writes, never-written bytes read as zero.
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
        const ulong chunkBase = (ulong)PhysicalMemory.ChunkPages << 12; // the second chunk
        const int last = PhysicalMemory.ChunkPages - 1;
        phys.PokeBytes(new PhysAddr(chunkBase + last * 4096 + 7), [0x9C]);
        var all = new byte[PhysicalMemory.ChunkPages * 4096];
        phys.PeekBytes(new PhysAddr(chunkBase), all);
        var expected = new byte[PhysicalMemory.ChunkPages * 4096];
        expected[last * 4096 + 7] = 0x9C;
        Assert.That(all, Is.EqualTo(expected));
    }

    [Test]
    public void RunAcrossWrittenAndUnwrittenPages_UnwrittenPartIsZero()
    {
        var phys = Dram();
        // Frames 1..3: one storage chunk (a run never reaches past its chunk).
        phys.PokeBytes(new PhysAddr(1 * 4096 + 4090), [1, 2, 3, 4, 5, 6]);
        var run = phys.ReadRun(1, 4088, 4096 + 16).ToArray();
        Assert.That(run[..2], Is.EqualTo(new byte[2]));
        Assert.That(run[2..8], Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(run[8..], Is.EqualTo(new byte[4096 + 8]), "frame 2 was never written");
        var w = phys.WriteRun(2, 100, 10);
        Assert.That(w.ToArray(), Is.EqualTo(new byte[10]), "a first write sees a zeroed page around it");
        w.Fill(0xFF);
        var page = new byte[4096];
        phys.PeekBytes(new PhysAddr(2 * 4096), page);
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

    [Test]
    public void CopyRunFromANeverReachedPage_OverAWrittenWholePage_ItReadsZeroAndAPartialWriteKeepsTheRestZero()
    {
        var phys = Dram();
        phys.WriteRun(5, 0, 4096).Fill(0x77);
        phys.PokeBytes(new PhysAddr(8 * 4096), [0x42]); // chunk of frame 9 exists; frame 9 itself was never reached
        phys.CopyRun(9, 0, 5, 0, 4096);
        Assert.That(phys.ReadRun(5, 0, 4096).ToArray(), Is.All.Zero);
        phys.WriteRun(5, 10, 1)[0] = 0x55;
        var page = phys.ReadRun(5, 0, 4096).ToArray();
        Assert.That(page[10], Is.EqualTo(0x55));
        Assert.That(page.Count(b => b != 0), Is.EqualTo(1), "the bytes the copy of zeros dropped do not come back");
        Assert.That(phys.ReadRun(9, 0, 4096).ToArray(), Is.All.Zero);
    }

    [Test]
    public void CopyRunFromANeverReachedPage_IntoUntouchedMemory_GivesStructPagesAndZeros()
    {
        var phys = Dram();
        phys.CopyRun(200, 0, 40, 0, 2 * 4096); // frames 40 and 41: no storage chunk yet
        Assert.That(phys.Peek(40), Is.Not.Null);
        Assert.That(phys.Peek(41), Is.Not.Null);
        Assert.That(phys.Peek(42), Is.Null);
        Assert.That(phys.ReadRun(40, 0, 2 * 4096).ToArray(), Is.All.Zero);
        phys.WriteRun(41, 4000, 4)[..4].Fill(0x31);
        Assert.That(phys.ReadRun(41, 0, 4096).ToArray().Count(b => b != 0), Is.EqualTo(4));
    }

    [Test]
    public void CopyRunFromZerosToPartOfAPage_CopiesAndKeepsTheRestOfThePage()
    {
        var phys = Dram();
        phys.WriteRun(6, 0, 4096).Fill(0x66);
        phys.CopyRun(9, 0, 6, 100, 200);
        var page = phys.ReadRun(6, 0, 4096).ToArray();
        Assert.That(page[..100], Is.All.EqualTo(0x66));
        Assert.That(page[100..300], Is.All.Zero);
        Assert.That(page[300..], Is.All.EqualTo(0x66));
    }

    [Test]
    public void CopyRunFromAWrittenPage_CopiesItsBytes()
    {
        var phys = Dram();
        phys.WriteRun(9, 0, 4096).Fill(0x19);
        phys.CopyRun(9, 0, 13, 0, 4096);
        Assert.That(phys.ReadRun(13, 0, 4096).ToArray(), Is.All.EqualTo(0x19));
    }

    [Test]
    public void APageFarInAChunkWrittenAfterANearOne_TheNearOneKeepsItsBytes()
    {
        var phys = Dram();
        phys.WriteRun(1, 0, 4096).Fill(0x11); // the chunk's array covers its first pages only
        phys.WriteRun(3, 4000, 96).Fill(0x33);
        phys.WriteRun(PhysicalMemory.ChunkPages - 1, 0, 4096).Fill(0xFF); // the array grows to the whole chunk
        var all = new byte[PhysicalMemory.ChunkPages * 4096];
        phys.PeekBytes(new PhysAddr(0), all);
        Assert.That(all[4096..8192], Is.All.EqualTo(0x11));
        Assert.That(all[(3 * 4096 + 4000)..(4 * 4096)], Is.All.EqualTo(0x33));
        Assert.That(all[^4096..], Is.All.EqualTo(0xFF));
        Assert.That(all.Count(b => b != 0), Is.EqualTo(4096 + 96 + 4096), "every other byte reads zero");
    }

    /// <summary>The host address of a span over pinned memory (safe code: its distance from a pinned probe byte).</summary>
    private static long HostAddress(ReadOnlySpan<byte> s)
    {
        var probe = GC.AllocateArray<byte>(1, pinned: true);
        var offset = Unsafe.ByteOffset(ref probe[0], ref MemoryMarshal.GetReference(s));
        return (long)Marshal.UnsafeAddrOfPinnedArrayElement(probe, 0) + offset;
    }

    [Test]
    public void BusyChunks_MoveToTheirStorageGroup_PageAlignedAndSideBySide_WithTheirBytes_AndThePoolKeepsTheGroup()
    {
        var pool = new FramePool();
        var phys = Dram();
        Assert.That(phys.UsePool(pool), Is.True);
        var page = new byte[4096];
        for (var i = 0; i < page.Length; i++) page[i] = (byte)(i * 7 + 1);
        var chunk1 = (ulong)PhysicalMemory.ChunkBytes;
        phys.PokeBytes(new PhysAddr(chunk1 + 3 * 4096), page); // chunk 1: a whole chunk's plain array (page 3 and on)
        phys.PokeBytes(new PhysAddr(5 * 4096 + 10), [0x5A]); // chunk 0, page 5
        for (var n = 1; n < PhysicalMemory.RehomeAfter; n++) phys.CopyRun(16 + 3, 0, 16 + 9, 0, 4096); // chunk 1 to chunk 1
        Assert.That(pool.Bytes, Is.Zero, "nothing released yet");
        phys.CopyRun(16 + 3, 0, 16 + 9, 0, 4096); // the RehomeAfter-th: the chunk moves
        Assert.That(HostAddress(phys.ReadRun(16 + 3, 0, 4096)) & 4095, Is.Zero, "page-aligned now");
        Assert.That(HostAddress(phys.ReadRun(16 + 9, 0, 4096)) & 4095, Is.Zero);
        Assert.That(phys.ReadRun(16 + 3, 0, 4096).ToArray(), Is.EqualTo(page), "the bytes moved with it");
        Assert.That(phys.ReadRun(16 + 9, 0, 4096).ToArray(), Is.EqualTo(page));
        Assert.That(phys.ReadRun(16 + 4, 0, 4096).ToArray(), Is.All.Zero, "a page never reached reads zeros");

        var chunk2 = 2 * (ulong)PhysicalMemory.ChunkBytes;
        phys.PokeBytes(new PhysAddr(chunk2 + 4096 + 1), [0x77]); // chunk 2: a small array (pages 0 to 2)
        for (var n = 1; n < PhysicalMemory.RehomeAfter; n++) phys.WriteRun(32 + 2, 0, 8)[0] = (byte)n;
        Assert.That(HostAddress(phys.ReadRun(32 + 1, 0, 4096)) - HostAddress(phys.ReadRun(16 + 3, 0, 4096)), Is.EqualTo((32 + 1 - 16 - 3) * 4096),
            "a busy small chunk moves too, into the same group's array, right after chunk 1");
        Assert.That(phys.ReadRun(32 + 1, 0, 2).ToArray(), Is.EqualTo(new byte[] { 0, 0x77 }));
        Assert.That(phys.ReadRun(32 + 2, 0, 1).ToArray(), Is.EqualTo(new byte[] { PhysicalMemory.RehomeAfter - 1 }));
        Assert.That(phys.ReadRun(32 + 9, 0, 4096).ToArray(), Is.All.Zero, "past the small array: zeros");
        phys.Release();
        const long group = StorageArray.GroupBytes + StorageArray.Room;
        Assert.That(pool.Bytes, Is.EqualTo(2L * PhysicalMemory.ChunkBytes + PhysicalMemory.SmallBytes + group),
            "the plain arrays of chunks 0 and 1 (chunk 0 grew to a whole one), chunk 2's small one and the group's array, once");

        var next = Dram();
        Assert.That(next.UsePool(pool), Is.True);
        next.PokeBytes(new PhysAddr(7 * 4096), [1]); // a whole chunk's plain array from the pool
        Assert.That(pool.Bytes, Is.EqualTo(PhysicalMemory.ChunkBytes + PhysicalMemory.SmallBytes + group));
        for (var n = 1; n < PhysicalMemory.RehomeAfter; n++) next.WriteRun(7, 0, 1)[0] = 1;
        Assert.That(pool.Bytes, Is.EqualTo(PhysicalMemory.ChunkBytes + PhysicalMemory.SmallBytes), "the busy chunk took the pool's group array");
        Assert.That(HostAddress(next.ReadRun(7, 0, 4096)) & 4095, Is.Zero);
        Assert.That(next.ReadRun(7, 0, 1).ToArray(), Is.EqualTo(new byte[] { 1 }));
        Assert.That(next.ReadRun(3, 0, 4096).ToArray(), Is.All.Zero, "no byte of the released memory shows through");
        Assert.That(next.ReadRun(16 + 3, 0, 4096).ToArray(), Is.All.Zero);
    }

    /// <summary>
    /// Frames 0..63 (chunks 0–3, all in storage group 0) written with a pattern: with <paramref name="busy"/>, each chunk
    /// then written <see cref="PhysicalMemory.RehomeAfter"/> more times with its own bytes, so it moved into the group's
    /// array; without, the same bytes in plain arrays.
    /// </summary>
    private static PhysicalMemory Patterned(bool busy, int unreachedPage = -1)
    {
        var phys = Dram();
        var page = new byte[4096];
        for (var pfn = 0UL; pfn < 64; pfn++)
        {
            if ((int)pfn == unreachedPage) continue;
            for (var i = 0; i < page.Length; i++) page[i] = (byte)(i * 13 + (int)pfn * 29 + 1);
            phys.PokeBytes(new PhysAddr(pfn * 4096), page);
        }
        if (busy)
            for (var chunk = 0UL; chunk < 4; chunk++)
                for (var n = 0; n < PhysicalMemory.RehomeAfter; n++)
                {
                    var pfn = chunk * PhysicalMemory.ChunkPages + 1;
                    var b = phys.ReadRun(pfn, 0, 1)[0];
                    phys.WriteRun(pfn, 0, 1)[0] = b;
                }
        return phys;
    }

    private static byte[] Frames0To63(PhysicalMemory phys)
    {
        var all = new byte[64 * 4096];
        phys.PeekBytes(new PhysAddr(0), all);
        return all;
    }

    [TestCase(3UL, 100, 40UL, 2000, 65536 + 8192, TestName = "CopyRun across chunks in one group: source from chunk 0, destination from chunk 2")]
    [TestCase(40UL, 0, 2UL, 4095, 65536 + 4097, TestName = "CopyRun across chunks in one group: destination before the source")]
    [TestCase(14UL, 0, 15UL, 0, 3 * 4096, TestName = "CopyRun across chunks in one group: overlapping, destination a page after the source")]
    [TestCase(17UL, 0, 15UL, 8, 5 * 4096, TestName = "CopyRun across chunks in one group: overlapping, destination before the source")]
    public void CopyRunAcrossChunks_LeavesTheBytesThePerChunkCopiesLeave(ulong sp, int so, ulong dp, int dof, int len)
    {
        var grouped = Patterned(busy: true);
        var plain = Patterned(busy: false);
        Assert.That(HostAddress(grouped.ReadRun(16, 0, 4096)) - HostAddress(grouped.ReadRun(15, 0, 4096)), Is.EqualTo(4096),
            "frames 15 and 16 (chunks 0 and 1) are neighbours in the group's array");
        Assert.That(Frames0To63(grouped), Is.EqualTo(Frames0To63(plain)));
        grouped.CopyRun(sp, so, dp, dof, len);
        plain.CopyRun(sp, so, dp, dof, len);
        var after = Frames0To63(plain);
        Assert.That(Frames0To63(grouped), Is.EqualTo(after));
        if (sp + 8 < dp) // no overlap: the destination holds the source's bytes as they were
        {
            var before = Frames0To63(Patterned(busy: false));
            Assert.That(after.AsSpan((int)dp * 4096 + dof, len).ToArray(), Is.EqualTo(before.AsSpan((int)sp * 4096 + so, len).ToArray()));
        }
    }

    [Test]
    public void CopyRunAcrossChunks_FromAPageNoAccessReached_CopiesZerosThere()
    {
        var grouped = Patterned(busy: true, unreachedPage: 18);
        var plain = Patterned(busy: false, unreachedPage: 18);
        grouped.CopyRun(12, 0, 36, 0, 10 * 4096); // frames 12..21 (chunks 0 and 1) to 36..45 (chunk 2)
        plain.CopyRun(12, 0, 36, 0, 10 * 4096);
        var after = Frames0To63(grouped);
        Assert.That(after, Is.EqualTo(Frames0To63(plain)));
        Assert.That(after.AsSpan(42 * 4096, 4096).ToArray(), Is.All.Zero, "frame 18 was never written: frame 42 reads zeros");
    }
}
