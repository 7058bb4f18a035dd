using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Lib;

/// <summary>
/// ITER_XARRAY and ITER_FOLIOQ beyond the KUnit copies (D24–D26, D20–D22): construction per release, advance /
/// revert across folios and folio_queue segments, npages, alignment, single_seg_count, get_pages2 /
/// get_pages_alloc2, a machine-check-safe copy that stops at poison, and holes in the xarray.
/// </summary>
public class XarrayFolioqIterTests
{
    private static (Machine M, AddressSpace Mapping) Xarray(int pages, string kernel = "6.12", CpuModel? cpu = null)
    {
        var m = Sim.Boot(kernel, cpu);
        var mapping = new AddressSpace(m.Phys, new SimpleWriteAops());
        for (var k = 0; k < pages; k++) mapping.GrabFolio((ulong)k);
        return (m, mapping);
    }

    /// <summary>A folio_queue of <paramref name="pages"/> order-0 folios (31 per segment); the frames in order.</summary>
    private static (Machine M, FolioQueue Head, ulong[] Pfns) Folioq(int pages, string kernel = "6.12", CpuModel? cpu = null)
    {
        var m = Sim.Boot(kernel, cpu);
        var head = new FolioQueue();
        var fq = head;
        var pfns = new ulong[pages];
        for (var k = 0; k < pages; k++)
        {
            if (fq.Full) fq = fq.AddSegment();
            fq.Append(pfns[k] = (ulong)m.Phys.AllocPage());
        }
        return (m, head, pfns);
    }

    [TestCase("6.11", -Errno.ENOSYS)]
    [TestCase("6.12", 0)]
    public void IovIterFolioQueue_ExistsFrom612(string kernel, int expected)
    {
        var (m, head, _) = Folioq(1, kernel);
        Assert.That(m.IovIter.IovIterFolioQueue(false, head, 0, 0, 4096, out var i), Is.EqualTo(expected));
        Assert.That(i.Type, Is.EqualTo(expected == 0 ? IterType.ITER_FOLIOQ : IterType.ITER_IOVEC));
        Assert.That(i.Count, Is.EqualTo(expected == 0 ? 4096UL : 0UL));
    }

    [TestCase("5.12", -Errno.ENOSYS)]
    [TestCase("5.13", 0)]
    public void IovIterXarray_ExistsFrom513(string kernel, int expected)
    {
        var (m, mapping) = Xarray(1, kernel);
        Assert.That(m.IovIter.IovIterXarray(false, mapping, 0, 4096, out var i), Is.EqualTo(expected));
        Assert.That(i.Count, Is.EqualTo(expected == 0 ? 4096UL : 0UL));
    }

    [Test]
    public void Folioq_AdvanceAcrossASegment_RevertBack_StateExact()
    {
        var (m, head, _) = Folioq(40);
        Assert.That(m.IovIter.IovIterFolioQueue(true, head, 0, 0x10, 40 * 4096 - 0x10, out var i), Is.Zero);
        m.IovIter.Advance(i, 31 * 4096);
        Assert.That((i.Folioq == head.Next, i.FolioqSlot, i.IovOffset, i.Count), Is.EqualTo((true, 0, 0x10UL, 9 * 4096 - 0x10UL)),
            "31 folios on from (slot 0, 0x10): slot 0 of the second segment, same offset");
        Assert.That(m.IovIter.SingleSegCount(i), Is.EqualTo(4096UL), "FOLIOQ: min(folio size, count)");
        Assert.That(m.IovIter.Npages(i, 100), Is.EqualTo(9));
        Assert.That(m.IovIter.Alignment(i), Is.EqualTo(0x10UL | (9 * 4096 - 0x10)));
        m.IovIter.Revert(i, 0x20);
        Assert.That((i.Folioq == head, i.FolioqSlot, i.IovOffset, i.Count), Is.EqualTo((true, 30, 0xff0UL, 9 * 4096 + 0x10UL)),
            "back 0x20 from offset 0x10 of the second segment's first folio: 0xff0 into slot 30 of the first");
    }

    [Test]
    public void Xarray_AdvanceRevert_NpagesAlignment_UseTheFilePosition()
    {
        var (m, mapping) = Xarray(4);
        Assert.That(m.IovIter.IovIterXarray(false, mapping, 0x1f00, 0x1200, out var i), Is.Zero);
        Assert.That(m.IovIter.Npages(i, 8), Is.EqualTo(3), "0xf00 + 0x1200 spans three pages");
        Assert.That(m.IovIter.Alignment(i), Is.EqualTo(0x1f00UL | 0x1200UL));
        m.IovIter.Advance(i, 0x300);
        Assert.That((i.IovOffset, i.Count), Is.EqualTo((0x300UL, 0xf00UL)));
        Assert.That(m.IovIter.Npages(i, 8), Is.EqualTo(2), "position 0x2200: 0x200 + 0xf00 crosses into a second page");
        m.IovIter.Revert(i, 0x100);
        Assert.That((i.IovOffset, i.Count), Is.EqualTo((0x200UL, 0x1000UL)));
        var r = m.Run(() => { m.IovIter.Revert(i, 0x201); return 0; });
        Assert.That(r.Returned, Is.False, "going before xarray_start is a BUG()");
        Assert.That(m.State.Dmesg, Has.Some.Contains("iov_iter_revert before the start of an ITER_XARRAY"));
    }

    [Test]
    public void GetPages2_Xarray_StopsAtAHole_Folioq_TakesReferences()
    {
        var (m, mapping) = Xarray(4);
        mapping.GrabFolio(5);
        Assert.That(m.IovIter.IovIterXarray(false, mapping, 0x2800, 0x4000, out var i), Is.Zero);
        var len = m.IovIter.GetPagesAlloc2(i, 0x4000, out var pages, out var start);
        Assert.That((len, start, pages.Length), Is.EqualTo((0x1800L, 0x800UL, 2)), "pages 2 and 3; page 4 is a hole");
        Assert.That(pages, Is.EqualTo(new[] { mapping.Find(2)!.Pfn, mapping.Find(3)!.Pfn }));
        Assert.That(m.Gup.PinCount(pages[0]), Is.EqualTo(1), "get_pages takes a reference");
        Assert.That((i.IovOffset, i.Count), Is.EqualTo((0x1800UL, 0x2800UL)));
        Assert.That(m.IovIter.GetPages2(i, 0x4000, 4, out pages, out _), Is.Zero, "the hole: nothing");

        var (m2, head, pfns) = Folioq(3);
        Assert.That(m2.IovIter.IovIterFolioQueue(false, head, 0, 0x100, 0x2000, out var f), Is.Zero);
        Assert.That(m2.IovIter.GetPages2(f, 0x2000, 2, out pages, out start), Is.EqualTo(0x1f00L));
        Assert.That((pages, start), Is.EqualTo((new[] { pfns[0], pfns[1] }, 0x100UL)));
        Assert.That((f.FolioqSlot, f.IovOffset, f.Count), Is.EqualTo((1, 0x1000UL, 0x100UL)), "stops at the end of folio 1, not past it");
        Assert.That(m2.Gup.PinCount(pfns[1]), Is.EqualTo(1));
    }

    [Test]
    public void CopyToIter_Xarray_HoleIsSkipped_OffsetFromTheRunningPosition()
    {
        var (m, mapping) = Xarray(1);
        mapping.GrabFolio(2); // index 1 is a hole
        Assert.That(m.IovIter.IovIterXarray(false, mapping, 0xf00, 0x200, out var i), Is.Zero);
        var src = Sim.KernelBuffer(m, 0x200);
        Assert.That(m.IovIter.CopyToIter(src, 0x200, i), Is.EqualTo(0x200UL));
        var page2 = new byte[0x200];
        m.Phys.PeekBytes(PhysAddr.FromPfn(mapping.Find(2)!.Pfn), page2);
        Assert.That(page2[..0x100], Is.EqualTo(Sim.ReadKernel(m, src + 0x100UL, 0x100)),
            "the second half lands at offset 0 of the next cached folio (index 2)");
        Assert.That((i.IovOffset, i.Count), Is.EqualTo((0x200UL, 0UL)));
    }

    /// <summary>
    /// WE10 with the page-cache iterators: 8192 bytes from a source poisoned at 5000 (line 4992) on an ERMS CPU;
    /// _copy_mc_to_iter stops at the line and the iterator moves by exactly the bytes copied.
    /// </summary>
    [TestCase(IterType.ITER_XARRAY)]
    [TestCase(IterType.ITER_FOLIOQ)]
    public void CopyMcToIter_PoisonedSource_ShortCopy_AdvancedByBytesCopied(IterType type)
    {
        Machine m;
        IovIter i;
        FolioQueue? head = null;
        if (type == IterType.ITER_XARRAY)
        {
            (m, var mapping) = Xarray(2, cpu: CpuModel.FastString);
            Assert.That(m.IovIter.IovIterXarray(false, mapping, 0, 8192, out i), Is.Zero);
        }
        else
        {
            (m, head, _) = Folioq(2, cpu: CpuModel.FastString);
            Assert.That(m.IovIter.IovIterFolioQueue(false, head, 0, 0, 8192, out i), Is.Zero);
        }
        var src = Sim.KernelBuffer(m, 8192);
        Assert.That(m.InjectPoison(Sim.Pa(m, src) + 5000), Is.Zero);
        var r = m.Run(() => m.IovIter.CopyMcToIter(src, 8192, i));
        Assert.That(r.Returned, Is.True, r.Outcome);
        Assert.That(r.Value, Is.EqualTo(4992UL));
        Assert.That(i.Count, Is.EqualTo(3200UL));
        if (type == IterType.ITER_XARRAY) Assert.That(i.IovOffset, Is.EqualTo(4992UL));
        else Assert.That((i.FolioqSlot, i.IovOffset), Is.EqualTo((1, 896UL)));
        Assert.That(m.State.Alive, Is.True);
    }

    [Test]
    public void ExtractPages_Discard_Efault_MaxpagesZero_Enomem()
    {
        var m = Sim.Boot();
        ulong[]? pages = null;
        Assert.That(m.IovIter.ExtractPages(IovIter.Discard(100), ref pages, 100, 4, out _), Is.EqualTo(-Errno.EFAULT));
        var (m2, mapping) = Xarray(1);
        Assert.That(m2.IovIter.IovIterXarray(false, mapping, 0, 4096, out var i), Is.Zero);
        Assert.That(m2.IovIter.ExtractPages(i, ref pages, 4096, 0, out _), Is.EqualTo(-Errno.ENOMEM));
        Assert.That(m2.State.Dmesg, Has.Some.Contains("want_pages_array"));
        Assert.That(m2.IovIter.ExtractPages(i, ref pages, 4096, 4, out var off0), Is.EqualTo(4096L));
        Assert.That((pages!.Length, pages[0], off0), Is.EqualTo((1, mapping.Find(0)!.Pfn, 0UL)), "a null list is allocated to want_pages_array's size");
    }

    [Test]
    public void ExtractPages_CallerArrayShorterThanTheCount_IsAnOverrunOops()
    {
        var m = Sim.Boot();
        var k = Sim.KernelBuffer(m, 0x2000);
        var i = IovIter.Kvec(false, [new Kvec(k + 0x800UL, 0x1000)], 0x1000);
        ulong[]? pages = new ulong[1];
        var r = m.Run(() => m.IovIter.ExtractPages(i, ref pages, 0x1000, 4, out _));
        Assert.That(r.Returned, Is.False, "two pages do not fit a one-entry list");
        Assert.That(m.State.Dmesg, Has.Some.Contains("slab-out-of-bounds in iov_iter_extract_pages"));
        Assert.That(i.Count, Is.EqualTo(0x1000UL), "nothing advanced");
    }

    /// <summary>The nocache, flushcache and zero forms use the same page steps (memcpy / memcpy_flushcache / memset).</summary>
    [TestCase(IterType.ITER_XARRAY)]
    [TestCase(IterType.ITER_FOLIOQ)]
    public void NocacheFlushcacheZero_MoveExactlyTheirBytes(IterType type)
    {
        IovIter Make(Machine mm, bool source, ulong off, ulong count, AddressSpace? map, FolioQueue? q)
        {
            IovIter it;
            var r = map != null ? mm.IovIter.IovIterXarray(source, map, (long)off, count, out it) : mm.IovIter.IovIterFolioQueue(source, q!, 0, off, count, out it);
            Assert.That(r, Is.Zero);
            return it;
        }
        Machine m;
        AddressSpace? mapping = null;
        FolioQueue? head = null;
        ulong[] pfns;
        if (type == IterType.ITER_XARRAY)
        {
            (m, mapping) = Xarray(2);
            pfns = [mapping.Find(0)!.Pfn, mapping.Find(1)!.Pfn];
        }
        else
        {
            (m, head, pfns) = Folioq(2);
        }
        var page = Enumerable.Range(0, 8192).Select(i => (byte)(i * 5 + 3)).ToArray();
        m.Phys.PokeBytes(PhysAddr.FromPfn(pfns[0]), page.AsSpan(0, 4096));
        m.Phys.PokeBytes(PhysAddr.FromPfn(pfns[1]), page.AsSpan(4096));
        var a = m.Kmalloc(0x1000)!.Value;
        var b = m.Kmalloc(0x1000)!.Value;
        Assert.That(m.IovIter.CopyFromIterNocache(a, 0x1000, Make(m, true, 0x800, 0x1000, mapping, head)), Is.EqualTo(0x1000UL));
        Assert.That(m.IovIter.CopyFromIterFlushcache(b, 0x1000, Make(m, true, 0x800, 0x1000, mapping, head)), Is.EqualTo(0x1000UL));
        Assert.That(Sim.ReadKernel(m, a, 0x1000), Is.EqualTo(page[0x800..0x1800]));
        Assert.That(Sim.ReadKernel(m, b, 0x1000), Is.EqualTo(page[0x800..0x1800]));
        var z = Make(m, false, 0xff0, 0x20, mapping, head);
        Assert.That(m.IovIter.IovIterZero(0x40, z), Is.EqualTo(0x20UL), "clamped to count");
        var got = new byte[0x40];
        m.Phys.PeekBytes(PhysAddr.FromPfn(pfns[0]) + 0xfe0, got.AsSpan(0, 0x20));
        m.Phys.PeekBytes(PhysAddr.FromPfn(pfns[1]), got.AsSpan(0x20));
        Assert.That(got[..0x10], Is.EqualTo(page[0xfe0..0xff0]), "before the range");
        Assert.That(got[0x10..0x30], Is.All.EqualTo((byte)0));
        Assert.That(got[0x30..], Is.EqualTo(page[0x1010..0x1020]), "after the range");
    }
}
