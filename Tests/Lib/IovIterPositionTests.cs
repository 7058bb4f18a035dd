using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Lib;

/// <summary>iov_iter_advance / revert / truncate / reexpand / single_seg_count / npages / alignment / save-restore (D16–D21).</summary>
public class IovIterPositionTests
{
    public static readonly IterType[] SegTypes = [IterType.ITER_IOVEC, IterType.ITER_KVEC, IterType.ITER_BVEC];
    private static readonly ulong[] We7 = [10, 0, 30];

    private static void Do(IterCase c, Action<IovIterOps> a) => c.Run(() => { a(c.Ops); return 0; });

    /// <summary>WE8: advance(10) over {10, 0, 30}: 5.14+ skips the empty segment, ≤5.13 stops on it.</summary>
    [TestCaseSource(nameof(SegTypes))]
    public void Advance_We8_ExactSegment_SkipsEmptyOn5_14(IterType t)
    {
        var c = new IterCase(t, source: false, We7, kernel: "6.12");
        Do(c, o => o.Advance(c.Iter, 10));
        c.AssertState(count: 30, seg: 2, off: 0, nrSegs: 1);
        var old = new IterCase(t, source: false, We7, kernel: "5.10");
        Do(old, o => o.Advance(old.Iter, 10));
        old.AssertState(count: 30, seg: 1, off: 0, nrSegs: 2);
    }

    [TestCase("6.12")]
    [TestCase("5.10")]
    public void Advance_InsideSegmentAndClampedToCount(string kernel)
    {
        foreach (var t in new[] { IterType.ITER_UBUF, IterType.ITER_IOVEC, IterType.ITER_KVEC, IterType.ITER_BVEC })
        {
            var c = new IterCase(t, source: false, We7, kernel: kernel);
            Do(c, o => o.Advance(c.Iter, 15));
            c.AssertState(count: 25, seg: 2, off: 5, nrSegs: 1, $"{t} 15");
            Do(c, o => o.Advance(c.Iter, 100));
            c.AssertState(count: 0, seg: 3, off: 0, nrSegs: 0, $"{t} clamp");
        }
    }

    [Test]
    public void Advance_Discard_SubtractsCount()
    {
        var m = Sim.Boot();
        var i = IovIter.Discard(40);
        m.Run(() => { m.IovIter.Advance(i, 15); return 0; });
        Assert.That(i.Count, Is.EqualTo(25UL));
    }

    /// <summary>Research example: iovecs [100, 200, 300] at seg 2 offset 50, revert 120 → seg 1 offset 130.</summary>
    [TestCaseSource(nameof(SegTypes))]
    public void Revert_120FromSeg2Offset50_LandsInSeg1At130(IterType t)
    {
        var c = new IterCase(t, source: false, [100, 200, 300]);
        Do(c, o => o.Advance(c.Iter, 350));
        c.AssertState(count: 250, seg: 2, off: 50, nrSegs: 1);
        Do(c, o => o.Revert(c.Iter, 120));
        c.AssertState(count: 370, seg: 1, off: 130, nrSegs: 2);
        Do(c, o => o.Revert(c.Iter, 130));
        c.AssertState(count: 500, seg: 1, off: 0, nrSegs: 2, "unroll equal to iov_offset stays in the segment");
        Do(c, o => o.Revert(c.Iter, 100));
        c.AssertState(count: 600, seg: 0, off: 0, nrSegs: 3);
    }

    [TestCaseSource(nameof(SegTypes))]
    public void Revert_PassesOverZeroLengthSegment(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        Do(c, o => o.Advance(c.Iter, 15));
        Do(c, o => o.Revert(c.Iter, 10));
        c.AssertState(count: 35, seg: 0, off: 5, nrSegs: 3);
    }

    [TestCaseSource(nameof(SegTypes))]
    public void Revert_ExactlyToSegmentStart_LandsAtOffsetZero(IterType t)
    {
        var c = new IterCase(t, source: false, [100, 200, 300]);
        Do(c, o => o.Advance(c.Iter, 300));
        c.AssertState(count: 300, seg: 2, off: 0, nrSegs: 1);
        Do(c, o => o.Revert(c.Iter, 200));
        c.AssertState(count: 500, seg: 1, off: 0, nrSegs: 2);
    }

    [Test]
    public void Revert_MoreThanMaxRwCount_WarnsAndIgnores()
    {
        var c = new IterCase(IterType.ITER_KVEC, source: false, We7);
        Do(c, o => o.Advance(c.Iter, 15));
        Do(c, o => o.Revert(c.Iter, 0x7ffff001));
        c.AssertState(count: 25, seg: 2, off: 5, nrSegs: 1);
        Assert.That(c.M.State.Dmesg, Has.Some.Contains("iov_iter_revert"));
        Do(c, o => o.Revert(c.Iter, 0));
        c.AssertState(count: 25, seg: 2, off: 5, nrSegs: 1);
    }

    [Test]
    public void Revert_UbufBeforeStart_IsBugOops()
    {
        var c = new IterCase(IterType.ITER_UBUF, source: false, We7);
        c.Run(() => { c.Ops.Advance(c.Iter, 10); return 0; });
        var r = c.M.Run(c.P, "t", () => { c.Ops.Revert(c.Iter, 11); return 0; });
        Assert.That(r.Returned, Is.False);
        Assert.That(r.Outcome, Does.StartWith("oops: kernel BUG"));
    }

    [TestCaseSource(typeof(IovIterCopyTests), nameof(IovIterCopyTests.AllTypes))]
    public void TruncateReexpand_ClampAndRestoreCount(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        c.Ops.Truncate(c.Iter, 100);
        Assert.That(c.Iter.Count, Is.EqualTo(40UL));
        c.Ops.Truncate(c.Iter, 20);
        Assert.That(c.Iter.Count, Is.EqualTo(20UL));
        var src = Sim.KernelBuffer(c.M, 64);
        Assert.That(c.Run(() => c.Ops.CopyToIter(src, 40, c.Iter)), Is.EqualTo(20UL));
        c.Ops.Reexpand(c.Iter, 20);
        c.AssertState(count: 20, seg: 2, off: 10, nrSegs: 1);
    }

    [TestCaseSource(nameof(SegTypes))]
    public void SingleSegCount_FollowsCurrentSegment(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        Assert.That(c.Ops.SingleSegCount(c.Iter), Is.EqualTo(10UL));
        var src = Sim.KernelBuffer(c.M, 64);
        c.Run(() => c.Ops.CopyToIter(src, 10, c.Iter));
        Assert.That(c.Ops.SingleSegCount(c.Iter), Is.Zero, "current segment is the empty one, nr_segs 2");
        Do(c, o => o.Advance(c.Iter, 5));
        Assert.That(c.Ops.SingleSegCount(c.Iter), Is.EqualTo(25UL), "last segment: count");
    }

    [Test]
    public void SingleSegCount_Ubuf_IsCount()
    {
        var c = new IterCase(IterType.ITER_UBUF, source: false, We7);
        Assert.That(c.Ops.SingleSegCount(c.Iter), Is.EqualTo(40UL));
    }

    [Test]
    public void Npages_Ubuf0x10064Count10000_Is3AndCapped()
    {
        var ops = Sim.Boot().IovIter;
        var i = IovIter.Ubuf(false, new UserPtr(0x10064), 10000);
        Assert.That(ops.Npages(i, 16), Is.EqualTo(3));
        Assert.That(ops.Npages(i, 2), Is.EqualTo(2));
        Assert.That(ops.Npages(IovIter.Ubuf(false, new UserPtr(0x10064), 0), 16), Is.Zero);
    }

    [Test]
    public void Npages_IovecSkipsEmpty_BvecCountsEmpty()
    {
        var ops = Sim.Boot().IovIter;
        var iov = IovIter.Iovec(false, [new Iovec(new UserPtr(0x10ff0), 32), new Iovec(new UserPtr(0x20100), 0), new Iovec(new UserPtr(0x30000), 4097)], 4129);
        Assert.That(ops.Npages(iov, 16), Is.EqualTo(2 + 0 + 2));
        Assert.That(ops.Npages(iov, 3), Is.EqualTo(3));
        var bv = IovIter.Bvec(false, [new BioVec(1, 0xff0, 32), new BioVec(9, 0x100, 0), new BioVec(20, 0, 4097)], 4129);
        Assert.That(ops.Npages(bv, 16), Is.EqualTo(2 + 1 + 2));
    }

    [Test]
    public void Alignment_Iovec_OrOfStartsAndLengths()
    {
        var ops = Sim.Boot().IovIter;
        var i = IovIter.Iovec(false, [new Iovec(new UserPtr(0x1000), 512), new Iovec(new UserPtr(0x9999), 0), new Iovec(new UserPtr(0x2200), 100)], 612);
        Assert.That(ops.Alignment(i), Is.EqualTo(0x3264UL));
        Assert.That(ops.Alignment(i) & 511, Is.Not.Zero);
        // last length clipped to count: 612 → 600 makes the last length 88
        ops.Truncate(i, 600);
        Assert.That(ops.Alignment(i), Is.EqualTo(0x1000UL | 512 | 0x2200 | 88));
        Assert.That(ops.Alignment(IovIter.Ubuf(false, new UserPtr(0x10000), 0)), Is.Zero);
        Assert.That(ops.Alignment(IovIter.Ubuf(false, new UserPtr(0x10000), 512)), Is.EqualTo(0x10200UL));
        Assert.That(ops.Alignment(IovIter.Bvec(false, [new BioVec(1, 0x200, 0), new BioVec(2, 0x400, 512)], 512)), Is.EqualTo(0x600UL));
    }

    [TestCaseSource(nameof(SegTypes))]
    public void SaveRestore_UndoesCopy(IterType t)
    {
        var c = new IterCase(t, source: false, We7);
        var st = c.Iter.SaveState();
        var src = Sim.KernelBuffer(c.M, 64);
        c.Run(() => c.Ops.CopyToIter(src, 15, c.Iter));
        c.Iter.Restore(st);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3);
    }
}
