using KernelSim.Mm;

namespace KernelSim.Tests.Mm;

/// <summary>
/// <see cref="PhysicalMemory.PokeBytesShared"/>: the pages every machine of an image writes alike are shared copy-on-write;
/// each memory reads exactly what <see cref="PhysicalMemory.PokeBytes"/> would have left, and a write by one is never seen
/// by another or by a later one.
/// </summary>
public class SharedPagesTests
{
    private const ulong PmemBase = 1UL << 30;
    private static readonly PhysAddr Block = new(PmemBase + 4096); // page 1 of the range's first storage chunk

    private static PhysicalMemory Machine()
    {
        var phys = new PhysicalMemory();
        phys.Register(new PhysAddr(0), 1UL << 20, MemoryKind.Dram, "dram");
        phys.Register(new PhysAddr(PmemBase), 1UL << 20, MemoryKind.Pmem, "pmem");
        return phys;
    }

    private static byte[] Page(byte seed)
    {
        var b = new byte[4096];
        for (var i = 0; i < 96; i++) b[i] = (byte)(seed + i);
        b[^1] = seed;
        return b;
    }

    private static byte[] Read(PhysicalMemory phys, PhysAddr pa, int len)
    {
        var b = new byte[len];
        phys.PeekBytes(pa, b);
        return b;
    }

    [Test]
    public void TheSameWriteOnASecondMemory_IsShared_AndReadsAsAfterPokeBytes()
    {
        var a = Machine();
        var first = a.PokeBytesShared(Block, Page(7), null);
        var b = Machine();
        Assert.That(b.PokeBytesShared(Block, Page(7), first), Is.SameAs(first), "the same bytes at the same place: shared");
        foreach (var m in new[] { a, b })
        {
            Assert.That(Read(m, Block, 4096), Is.EqualTo(Page(7)));
            Assert.That(Read(m, new PhysAddr(PmemBase), 4096), Is.All.Zero, "page 0 of the chunk was never written");
            Assert.That(m.Peek(Block.Pfn), Is.Not.Null, "the written frame has its struct page");
            Assert.That(m.Peek(Block.Pfn - 1), Is.Null);
        }
    }

    [Test]
    public void AWriteToASharedPage_OnlyTheWriterSeesIt()
    {
        var a = Machine();
        var shared = a.PokeBytesShared(Block, Page(7), null);
        var b = Machine();
        b.PokeBytesShared(Block, Page(7), shared);
        b.PokeBytes(new PhysAddr(Block.Value + 100), [0xEE, 0xEF]);
        a.PokeBytes(new PhysAddr(Block.Value + 4000), [0x11]);
        var c = Machine();
        Assert.That(c.PokeBytesShared(Block, Page(7), shared), Is.SameAs(shared));

        var expectB = Page(7);
        expectB[100] = 0xEE;
        expectB[101] = 0xEF;
        var expectA = Page(7);
        expectA[4000] = 0x11;
        Assert.That(Read(b, Block, 4096), Is.EqualTo(expectB));
        Assert.That(Read(a, Block, 4096), Is.EqualTo(expectA));
        Assert.That(Read(c, Block, 4096), Is.EqualTo(Page(7)), "a later memory starts from the shared bytes, not from a's or b's");
    }

    [Test]
    public void ZeroingAnUnreachedPageBesideASharedOne_LeavesTheSharedBytesToOthers()
    {
        var a = Machine();
        var shared = a.PokeBytesShared(Block, Page(7), null);
        var b = Machine();
        b.PokeBytesShared(Block, Page(7), shared);
        // A run across page 0 (never reached) and page 1 zeroes page 0 in b's storage; a write to page 2 grows it.
        var run = b.ReadRun(PmemBase >> 12, 4000, 200).ToArray();
        Assert.That(run[..96], Is.All.Zero);
        Assert.That(run[96..], Is.EqualTo(Page(7)[..104]));
        b.PokeBytes(new PhysAddr(PmemBase + 2 * 4096 + 5), [0x55]);
        Assert.That(Read(b, new PhysAddr(PmemBase), 3 * 4096).Count(x => x != 0), Is.EqualTo(Page(7).Count(x => x != 0) + 1));
        var c = Machine();
        c.PokeBytesShared(Block, Page(7), shared);
        Assert.That(Read(c, new PhysAddr(PmemBase), 3 * 4096), Is.EqualTo(new byte[4096].Concat(Page(7)).Concat(new byte[4096]).ToArray()));
    }

    [Test]
    public void DifferentBytesOrPlace_NotShared_EachReadsItsOwn()
    {
        var a = Machine();
        var shared = a.PokeBytesShared(Block, Page(7), null);
        var b = Machine();
        var other = b.PokeBytesShared(Block, Page(8), shared);
        Assert.That(other, Is.Not.SameAs(shared));
        var c = Machine();
        var moved = c.PokeBytesShared(new PhysAddr(Block.Value + 4096), Page(7), shared);
        Assert.That(moved, Is.Not.SameAs(shared));
        Assert.That(Read(a, Block, 4096), Is.EqualTo(Page(7)));
        Assert.That(Read(b, Block, 4096), Is.EqualTo(Page(8)));
        Assert.That(Read(c, new PhysAddr(Block.Value + 4096), 4096), Is.EqualTo(Page(7)));
        Assert.That(Read(c, Block, 4096), Is.All.Zero);
    }

    [Test]
    public void InDramOrIntoAChunkAlreadyReached_ItIsPokeBytes()
    {
        var a = Machine();
        var dram = a.PokeBytesShared(new PhysAddr(4096), Page(3), null);
        var b = Machine();
        b.PokeBytesShared(new PhysAddr(4096), Page(3), dram);
        b.WriteRun(1, 0, 4096).Fill(0); // b's DRAM page is its own: zeroing it leaves a's
        Assert.That(Read(a, new PhysAddr(4096), 4096), Is.EqualTo(Page(3)));

        var c = Machine();
        c.PokeBytes(new PhysAddr(PmemBase + 8), [9]);
        var shared = a.PokeBytesShared(Block, Page(7), null);
        c.PokeBytesShared(Block, Page(7), shared);
        c.PokeBytes(new PhysAddr(Block.Value), [1]);
        Assert.That(Read(a, Block, 4096), Is.EqualTo(Page(7)));
        Assert.That(Read(c, new PhysAddr(PmemBase), 16)[8], Is.EqualTo(9));
    }
}
