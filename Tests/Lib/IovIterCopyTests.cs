using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Trace;

namespace KernelSim.Tests.Lib;

/// <summary>
/// copy_to_iter / copy_from_iter / _copy_mc_to_iter / iov_iter_zero / copy_page_*_iter /
/// copy_folio_from_iter_atomic over UBUF, IOVEC, KVEC and BVEC (D4–D15, WE7–WE10). The segment
/// shape is {10, 0, 30} (WE7); UBUF is one 40-byte buffer.
/// </summary>
public class IovIterCopyTests
{
    public static readonly IterType[] AllTypes = [IterType.ITER_UBUF, IterType.ITER_IOVEC, IterType.ITER_KVEC, IterType.ITER_BVEC];
    public static readonly IterType[] UserTypes = [IterType.ITER_UBUF, IterType.ITER_IOVEC];
    public static readonly IterType[] KernelTypes = [IterType.ITER_KVEC, IterType.ITER_BVEC];
    private static readonly ulong[] We7 = [10, 0, 30];

    private static byte?[] Expect(int len, int copied, Func<ulong, byte> pattern, byte? rest)
    {
        var e = new byte?[len];
        for (var i = 0; i < len; i++) e[i] = i < copied ? pattern((ulong)i) : rest;
        return e;
    }

    private static int Count(Tracer t, string fn)
    {
        var n = 0;
        foreach (var r in t.Records) if (r.Kind == TraceKind.Enter && r.Name == fn) n++;
        return n;
    }

    // ---- copy_to_iter ------------------------------------------------------------------------------------

    [TestCaseSource(nameof(AllTypes))]
    public void CopyToIter_MoreThanCount_CopiesAllAndEndsPastLastSegment(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 50, c.Iter)), Is.EqualTo(40UL));
        c.AssertState(count: 0, seg: 3, off: 0, nrSegs: 0);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 40, IterCase.KernelPattern, null)));
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyToIter_EndsExactlyAtSegmentEnd_PointsAtFollowingEmptySegment(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 10, c.Iter)), Is.EqualTo(10UL));
        c.AssertState(count: 30, seg: 1, off: 0, nrSegs: 2, "WE8: the pointer rests on the empty segment");
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 10, IterCase.KernelPattern, IterCase.DestFill)));
        // A later copy skips the empty segment.
        Assert.That(c.Run(() => c.Ops.CopyToIter(src + 10UL, 30, c.Iter)), Is.EqualTo(30UL));
        c.AssertState(count: 0, seg: 3, off: 0, nrSegs: 0);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 40, IterCase.KernelPattern, null)));
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyToIter_StopsInsideSegment_OffsetInThatSegment(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 15, c.Iter)), Is.EqualTo(15UL));
        c.AssertState(count: 25, seg: 2, off: 5, nrSegs: 1);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 15, IterCase.KernelPattern, IterCase.DestFill)));
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyToIter_ZeroBytes_ReturnsZeroIteratorUntouched(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 0, c.Iter)), Is.Zero);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
    }

    /// <summary>WE7: IOVEC {10, 0, 30}, the third segment runs into an unmapped page after 12 bytes.</summary>
    [TestCaseSource(nameof(UserTypes))]
    public void CopyToIter_We7_SecondUserPageUnmapped_Returns22(IterType t)
    {
        var c = new IterCase(t, source: false, We7, holeSeg: 2, holeOff: 12, hole: Hole.Unmapped);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 40, c.Iter)), Is.EqualTo(22UL));
        c.AssertState(count: 18, seg: 2, off: 12, nrSegs: 1);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 22, IterCase.KernelPattern, null)));
        // iov_iter_revert(i, 22) restores the start.
        c.Run(() => { c.Ops.Revert(c.Iter, 22); return 0; });
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
    }

    [TestCaseSource(nameof(UserTypes))]
    public void CopyToIter_ReadOnlyPageMidSegment_StopsAtThePage(IterType t)
    {
        var c = new IterCase(t, source: false, We7, holeSeg: 2, holeOff: 12, hole: Hole.ReadOnly);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 40, c.Iter)), Is.EqualTo(22UL));
        c.AssertState(count: 18, seg: 2, off: 12, nrSegs: 1);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 22, IterCase.KernelPattern, IterCase.DestFill)));
    }

    [TestCaseSource(nameof(UserTypes))]
    public void CopyToIter_UnmappedInFirstSegment_Returns4(IterType t)
    {
        var c = new IterCase(t, source: false, We7, holeSeg: 0, holeOff: 4, hole: Hole.Unmapped);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 40, c.Iter)), Is.EqualTo(4UL));
        c.AssertState(count: 36, seg: 0, off: 4, nrSegs: 3);
    }

    [Test]
    public void CopyToIter_IovecWithKernelAddress_AccessOkFailsWholeSegment()
    {
        var m = Sim.Boot();
        var p = m.Spawn();
        var u = p.MapAnonymous(4096);
        var src = Sim.KernelBuffer(m, 64);
        var i = IovIter.Iovec(false, [new Iovec(u, 10), new Iovec(new UserPtr(PageDefs.PAGE_OFFSET), 30)], 40);
        var r = m.Run(p, "t", () => m.IovIter.CopyToIter(src, 40, i));
        Assert.That(r.Value, Is.EqualTo(10UL));
        Assert.That((i.Count, i.SegIndex, i.IovOffset, i.NrSegs), Is.EqualTo((30UL, 1, 0UL, 1UL)));
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyToIter_SourceIterator_DirectionCheck6_1_ReturnsZeroUntouched(IterType t)
    {
        var c = new IterCase(t, source: true, We7);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 40, c.Iter)), Is.Zero);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 40, IterCase.SrcPattern, null)));
        Assert.That(c.M.State.Dmesg, Has.Some.Contains("WARNING: at lib/iov_iter.c _copy_to_iter"));
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyToIter_SourceIterator_BeforeDirectionCheck_Copies(IterType t)
    {
        var c = new IterCase(t, source: true, We7, kernel: "5.15");
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 40, c.Iter)), Is.EqualTo(40UL));
        c.AssertState(count: 0, seg: 3, off: 0, nrSegs: 0);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 40, IterCase.KernelPattern, null)));
    }

    [Test]
    public void CopyToIter_Discard_DropsAndCounts()
    {
        var m = Sim.Boot();
        var src = Sim.KernelBuffer(m, 64);
        var i = IovIter.Discard(40);
        Assert.That(m.Run(() => m.IovIter.CopyToIter(src, 64, i)).Value, Is.EqualTo(40UL));
        Assert.That(i.Count, Is.Zero);
    }

    [Test]
    public void CopyToIter_MoreThanIntMax_CheckCopySizeReturnsZero()
    {
        var c = new IterCase(IterType.ITER_KVEC, source: false, We7);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, (ulong)int.MaxValue + 1, c.Iter)), Is.Zero);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
    }

    // ---- copy_from_iter ------------------------------------------------------------------------------------

    [TestCaseSource(nameof(AllTypes))]
    public void CopyFromIter_StopsInsideSegment_CopiesPrefix(IterType t)
    {
        var c = new IterCase(t, source: true, We7);
        var dst = Sim.KernelFilled(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyFromIter(dst, 15, c.Iter)), Is.EqualTo(15UL));
        c.AssertState(count: 25, seg: 2, off: 5, nrSegs: 1);
        Assert.That(c.Run(() => c.Ops.CopyFromIter(dst + 15UL, 64, c.Iter)), Is.EqualTo(25UL));
        c.AssertState(count: 0, seg: 3, off: 0, nrSegs: 0);
        var got = Sim.ReadKernel(c.M, dst, 64);
        for (var k = 0; k < 64; k++) Assert.That(got[k], Is.EqualTo(k < 40 ? IterCase.SrcPattern((ulong)k) : (byte)0xff), $"byte {k}");
    }

    [TestCaseSource(nameof(UserTypes))]
    public void CopyFromIter_UnmappedMidSegment_Returns22NoZeroFill(IterType t)
    {
        var c = new IterCase(t, source: true, We7, holeSeg: 2, holeOff: 12, hole: Hole.Unmapped);
        var dst = Sim.KernelFilled(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyFromIter(dst, 40, c.Iter)), Is.EqualTo(22UL));
        c.AssertState(count: 18, seg: 2, off: 12, nrSegs: 1);
        var got = Sim.ReadKernel(c.M, dst, 64);
        for (var k = 0; k < 64; k++) Assert.That(got[k], Is.EqualTo(k < 22 ? IterCase.SrcPattern((ulong)k) : (byte)0xff), $"byte {k}");
    }

    [TestCaseSource(nameof(UserTypes))]
    public void CopyFromIter_ReadOnlyPage_IsReadable(IterType t)
    {
        var c = new IterCase(t, source: true, We7, holeSeg: 2, holeOff: 12, hole: Hole.ReadOnly);
        var dst = Sim.KernelFilled(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyFromIter(dst, 40, c.Iter)), Is.EqualTo(40UL));
        c.AssertState(count: 0, seg: 3, off: 0, nrSegs: 0);
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyFromIter_DestinationIterator_DirectionCheck_ReturnsZero(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        var dst = Sim.KernelFilled(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyFromIter(dst, 40, c.Iter)), Is.Zero);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
        Assert.That(Sim.ReadKernel(c.M, dst, 64), Is.All.EqualTo((byte)0xff));
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyFromIterFull_Complete_True_Short_RevertsAndFalse(IterType t)
    {
        var c = new IterCase(t, source: true, We7);
        var dst = Sim.KernelFilled(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyFromIterFull(dst, 15, c.Iter)), Is.True);
        c.AssertState(count: 25, seg: 2, off: 5, nrSegs: 1);
        // 30 requested, 25 available: copied 25, reverted.
        Assert.That(c.Run(() => c.Ops.CopyFromIterFull(dst, 30, c.Iter)), Is.False);
        c.AssertState(count: 25, seg: 2, off: 5, nrSegs: 1);
    }

    [TestCaseSource(nameof(UserTypes))]
    public void CopyToIterFull_UnmappedPage_RevertsAndFalse(IterType t)
    {
        var c = new IterCase(t, source: false, We7, holeSeg: 2, holeOff: 12, hole: Hole.Unmapped);
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIterFull(src, 40, c.Iter)), Is.False);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyFromIterNocacheAndFlushcache_AllMapped_CopyEverything(IterType t)
    {
        foreach (var flush in new[] { false, true })
        {
            var c = new IterCase(t, source: true, We7);
            var dst = Sim.KernelFilled(c.M, 64);
            var n = c.Run(() => flush ? c.Ops.CopyFromIterFlushcache(dst, 40, c.Iter) : c.Ops.CopyFromIterNocache(dst, 40, c.Iter));
            Assert.That(n, Is.EqualTo(40UL));
            c.AssertState(count: 0, seg: 3, off: 0, nrSegs: 0);
            var got = Sim.ReadKernel(c.M, dst, 40);
            for (var k = 0; k < 40; k++) Assert.That(got[k], Is.EqualTo(IterCase.SrcPattern((ulong)k)));
        }
    }

    /// <summary>WE17: __copy_user_nocache gives 12 where 13 bytes were accessible (100 bytes at P−13).</summary>
    [TestCaseSource(nameof(UserTypes))]
    public void CopyFromIterFlushcache_We17_UnmappedAfter13_Copies12(IterType t)
    {
        var c = new IterCase(t, source: true, [100], holeSeg: 0, holeOff: 13, hole: Hole.Unmapped);
        var dst = Sim.KernelFilled(c.M, 128);
        Assert.That(c.Run(() => c.Ops.CopyFromIterFlushcache(dst, 100, c.Iter)), Is.EqualTo(12UL));
        c.AssertState(count: 88, seg: 0, off: 12, nrSegs: 1);
        var c2 = new IterCase(t, source: true, [100], holeSeg: 0, holeOff: 13, hole: Hole.Unmapped);
        var dst2 = Sim.KernelFilled(c2.M, 128);
        Assert.That(c2.Run(() => c2.Ops.CopyFromIter(dst2, 100, c2.Iter)), Is.EqualTo(13UL));
    }

    // ---- _copy_mc_to_iter -----------------------------------------------------------------------------------

    /// <summary>Source = 40 bytes at buf+40 with the line [buf+64, buf+128) poisoned → 24 bytes copied, for every CPU with recovery.</summary>
    [TestCaseSource(nameof(McCases))]
    public void CopyMcToIter_PoisonAfter24_AdvancesBy24(IterType t, string cpu)
    {
        CpuModel.TryGet(cpu, out var model);
        var c = new IterCase(t, source: false, We7, cpu: model);
        var buf = Sim.KernelBuffer(c.M, 256);
        c.M.InjectPoison(Sim.Pa(c.M, buf) + 64);
        Assert.That(c.Run(() => c.Ops.CopyMcToIter(buf + 40UL, 40, c.Iter)), Is.EqualTo(24UL));
        c.AssertState(count: 16, seg: 2, off: 14, nrSegs: 1);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 24, k => IterCase.KernelPattern(k + 40), IterCase.DestFill)));
        Assert.That(c.M.State.Alive, Is.True);
        Assert.That(c.M.Mce.Log, Has.Count.EqualTo(1));
    }

    public static IEnumerable<TestCaseData> McCases()
    {
        foreach (var t in AllTypes)
            foreach (var cpu in new[] { "erms", "fragile" })
                yield return new TestCaseData(t, cpu);
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyMcToIter_PoisonAfter24_5_10_KvecBvecNotAdvanced(IterType t)
    {
        var c = new IterCase(t, source: false, We7, kernel: "5.10", cpu: CpuModel.Fragile);
        var buf = Sim.KernelBuffer(c.M, 256);
        c.M.InjectPoison(Sim.Pa(c.M, buf) + 64);
        Assert.That(c.Run(() => c.Ops.CopyMcToIter(buf + 40UL, 40, c.Iter)), Is.EqualTo(24UL));
        if (t is IterType.ITER_KVEC or IterType.ITER_BVEC) c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3, "4.18–5.13 kvec/bvec: untouched");
        else c.AssertState(count: 16, seg: 2, off: 14, nrSegs: 1);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 24, k => IterCase.KernelPattern(k + 40), IterCase.DestFill)));
    }

    [TestCaseSource(nameof(KernelTypes))]
    public void CopyMcToIter_NoPoison_5_10_KvecBvecAdvanceNormally(IterType t)
    {
        var c = new IterCase(t, source: false, We7, kernel: "5.10", cpu: CpuModel.Fragile);
        var buf = Sim.KernelBuffer(c.M, 256);
        Assert.That(c.Run(() => c.Ops.CopyMcToIter(buf, 15, c.Iter)), Is.EqualTo(15UL));
        c.AssertState(count: 25, seg: 2, off: 5, nrSegs: 1);
    }

    /// <summary>WE9: KVEC {100, 0, 300}, poisoned line [src+256, src+320), fragile copy.</summary>
    [TestCase("6.12", 144UL, 2, 156UL, 1UL)]
    [TestCase("5.10", 400UL, 0, 0UL, 3UL)]
    public void CopyMcToIter_We9_Kvec100_0_300_Returns256(string kernel, ulong count, int seg, ulong off, ulong nr)
    {
        var c = new IterCase(IterType.ITER_KVEC, source: false, [100, 0, 300], kernel: kernel, cpu: CpuModel.Fragile);
        var src = Sim.KernelBuffer(c.M, 512);
        c.M.InjectPoison(Sim.Pa(c.M, src) + 256);
        Assert.That(c.Run(() => c.Ops.CopyMcToIter(src, 400, c.Iter)), Is.EqualTo(256UL));
        c.AssertState(count, seg, off, nr);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(400, 256, IterCase.KernelPattern, IterCase.DestFill)));
    }

    /// <summary>WE10: one BVEC of two pages, source poisoned at offset 5000 → 4992.</summary>
    [TestCase("6.12", "erms", 3200UL, 4992UL)]
    [TestCase("6.12", "fragile", 3200UL, 4992UL)]
    [TestCase("5.10", "fragile", 8192UL, 0UL)]
    public void CopyMcToIter_We10_TwoPageBvec_Returns4992(string kernel, string cpu, ulong count, ulong off)
    {
        CpuModel.TryGet(cpu, out var model);
        var m = Sim.Boot(kernel, model);
        var src = Sim.KernelBuffer(m, 8192);
        var dst = Sim.KernelFilled(m, 8192, 0xee);
        m.InjectPoison(Sim.Pa(m, src) + 5000);
        var i = IovIter.Bvec(false, [new BioVec(Sim.Pa(m, dst).Pfn, 0, 8192)], 8192);
        Assert.That(m.Run(() => m.IovIter.CopyMcToIter(src, 8192, i)).Value, Is.EqualTo(4992UL));
        Assert.That((i.Count, i.IovOffset, i.NrSegs, i.SegIndex), Is.EqualTo((count, off, 1UL, 0)));
        var got = Sim.ReadKernel(m, dst, 8192);
        var want = Sim.ReadKernel(m, src, 4992);
        Assert.That(got[..4992], Is.EqualTo(want));
        Assert.That(got[4992..], Is.All.EqualTo((byte)0xee));
    }

    // ---- iov_iter_zero ----------------------------------------------------------------------------------------

    [TestCaseSource(nameof(AllTypes))]
    public void IovIterZero_15Bytes_ZeroesPrefix(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        Assert.That(c.Run(() => c.Ops.IovIterZero(15, c.Iter)), Is.EqualTo(15UL));
        c.AssertState(count: 25, seg: 2, off: 5, nrSegs: 1);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 15, _ => 0, IterCase.DestFill)));
    }

    [TestCaseSource(nameof(UserTypes))]
    public void IovIterZero_UnmappedMidSegment_Returns22(IterType t)
    {
        var c = new IterCase(t, source: false, We7, holeSeg: 2, holeOff: 12, hole: Hole.Unmapped);
        Assert.That(c.Run(() => c.Ops.IovIterZero(40, c.Iter)), Is.EqualTo(22UL));
        c.AssertState(count: 18, seg: 2, off: 12, nrSegs: 1);
    }

    // ---- copy_page_to_iter / copy_page_from_iter ----------------------------------------------------------------

    [TestCaseSource(nameof(AllTypes))]
    public void CopyPageToIter_AllMapped_CopiesFromPageOffset(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        var page = Sim.KernelBuffer(c.M, 4096);
        var pfn = Sim.Pa(c.M, page).Pfn;
        Assert.That(c.Run(() => c.Ops.CopyPageToIter(pfn, 100, 40, c.Iter)), Is.EqualTo(40UL));
        c.AssertState(count: 0, seg: 3, off: 0, nrSegs: 0);
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 40, k => IterCase.KernelPattern(k + 100), null)));
    }

    [Test]
    public void CopyPageToIter_ShortNonZeroCopy_RetriesOnceThenStops()
    {
        var c = new IterCase(IterType.ITER_UBUF, source: false, [4096], holeSeg: 0, holeOff: 3996, hole: Hole.Unmapped);
        var page = Sim.KernelBuffer(c.M, 4096);
        c.M.Tracer.Enabled = true;
        Assert.That(c.Run(() => c.Ops.CopyPageToIter(Sim.Pa(c.M, page).Pfn, 0, 4096, c.Iter)), Is.EqualTo(3996UL));
        Assert.That(Count(c.M.Tracer, "_copy_to_iter"), Is.EqualTo(2), "first call 3996, second 0");
        c.AssertState(count: 100, seg: 0, off: 3996, nrSegs: 1);
    }

    [Test]
    public void CopyPageToIter_CrossesOrderZeroPage_WarnsAndReturnsZero()
    {
        var c = new IterCase(IterType.ITER_KVEC, source: false, We7);
        var page = Sim.KernelBuffer(c.M, 8192);
        var pfn = Sim.Pa(c.M, page).Pfn;
        Assert.That(c.Run(() => c.Ops.CopyPageToIter(pfn, 4090, 40, c.Iter)), Is.Zero);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
        Assert.That(c.M.State.Dmesg, Has.Some.Contains("page_copy_sane"));
        // Within an order-1 page the same copy crosses into the second subpage.
        Assert.That(c.Run(() => c.Ops.CopyPageToIter(pfn, 4090, 40, c.Iter, pageSize: 8192)), Is.EqualTo(40UL));
        Assert.That(c.Bytes(), Is.EqualTo(Expect(40, 40, k => IterCase.KernelPattern(k + 4090), null)));
    }

    [TestCaseSource(nameof(UserTypes))]
    public void CopyPageFromIter_NotResidentUserPages_FaultsThemIn(IterType t)
    {
        var c = new IterCase(t, source: true, We7, fill: false);
        var page = Sim.KernelFilled(c.M, 4096);
        Assert.That(c.Run(() => c.Ops.CopyPageFromIter(Sim.Pa(c.M, page).Pfn, 0, 40, c.Iter)), Is.EqualTo(40UL));
        Assert.That(Sim.ReadKernel(c.M, page, 40), Is.All.EqualTo((byte)0));
    }

    // ---- copy_folio_from_iter_atomic ------------------------------------------------------------------------------

    [TestCaseSource(nameof(AllTypes))]
    public void CopyFolioFromIterAtomic_AllResident_CopiesAndAdvances(IterType t)
    {
        var c = new IterCase(t, source: true, We7);
        var page = Sim.KernelFilled(c.M, 4096);
        Assert.That(c.Run(() => c.Ops.CopyFolioFromIterAtomic(Sim.Pa(c.M, page).Pfn, 8, 40, c.Iter)), Is.EqualTo(40UL));
        c.AssertState(count: 0, seg: 3, off: 0, nrSegs: 0);
        var got = Sim.ReadKernel(c.M, page, 64);
        for (var k = 0; k < 64; k++) Assert.That(got[k], Is.EqualTo(k >= 8 && k < 48 ? IterCase.SrcPattern((ulong)k - 8) : (byte)0xff));
        Assert.That(c.M.Cpu.PagefaultDisabled, Is.Zero);
    }

    [TestCase("6.15", 2)]
    [TestCase("6.12", 1)]
    public void CopyFolioFromIterAtomic_UnmappedAfter13_Returns13(string kernel, int calls)
    {
        var c = new IterCase(IterType.ITER_UBUF, source: true, [100], kernel: kernel, holeSeg: 0, holeOff: 13, hole: Hole.Unmapped);
        var page = Sim.KernelFilled(c.M, 4096);
        c.M.Tracer.Enabled = true;
        Assert.That(c.Run(() => c.Ops.CopyFolioFromIterAtomic(Sim.Pa(c.M, page).Pfn, 0, 100, c.Iter)), Is.EqualTo(13UL));
        Assert.That(Count(c.M.Tracer, "__copy_from_iter"), Is.EqualTo(calls));
        c.AssertState(count: 87, seg: 0, off: 13, nrSegs: 1);
    }

    [Test]
    public void CopyFolioFromIterAtomic_5_10_CopyFromUserAtomicDoesNotAdvance()
    {
        var c = new IterCase(IterType.ITER_IOVEC, source: true, We7, kernel: "5.10", holeSeg: 2, holeOff: 12, hole: Hole.Unmapped);
        var page = Sim.KernelFilled(c.M, 4096);
        Assert.That(c.Run(() => c.Ops.CopyFolioFromIterAtomic(Sim.Pa(c.M, page).Pfn, 0, 40, c.Iter)), Is.EqualTo(22UL));
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
        var got = Sim.ReadKernel(c.M, page, 40);
        for (var k = 0; k < 40; k++) Assert.That(got[k], Is.EqualTo(k < 22 ? IterCase.SrcPattern((ulong)k) : (byte)0xff));
    }

    [TestCaseSource(nameof(UserTypes))]
    public void CopyFolioFromIterAtomic_MappedButNotResident_PagefaultDisabledCopiesNothing(IterType t)
    {
        var c = new IterCase(t, source: true, We7, fill: false);
        var page = Sim.KernelFilled(c.M, 4096);
        Assert.That(c.Run(() => c.Ops.CopyFolioFromIterAtomic(Sim.Pa(c.M, page).Pfn, 0, 40, c.Iter)), Is.Zero);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
        Assert.That(Sim.ReadKernel(c.M, page, 40), Is.All.EqualTo((byte)0xff));
    }

    [TestCaseSource(nameof(AllTypes))]
    public void CopyFolioFromIterAtomic_DestinationIterator_ReturnsZero(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        var page = Sim.KernelFilled(c.M, 4096);
        Assert.That(c.Run(() => c.Ops.CopyFolioFromIterAtomic(Sim.Pa(c.M, page).Pfn, 0, 40, c.Iter)), Is.Zero);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
    }
}
