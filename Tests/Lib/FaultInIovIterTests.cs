using KernelSim.Lib;
using KernelSim.Uapi;

namespace KernelSim.Tests.Lib;

/// <summary>fault_in_iov_iter_readable / _writeable (FI2) and the pre-5.16 iov_iter_fault_in_readable (FI3).</summary>
public class FaultInIovIterTests
{
    private static readonly ulong[] We7 = [10, 0, 30];

    /// <summary>WE13: IOVEC {10, 0, 30}, the 30-byte segment entirely unmapped: 100 → 90, 40 → 30.</summary>
    [TestCaseSource(typeof(IovIterCopyTests), nameof(IovIterCopyTests.UserTypes))]
    public void FaultInIovIterReadable_We13_BytesBeyondCountCountAsNotFaulted(IterType t)
    {
        var c = new IterCase(t, source: true, We7, holeSeg: 2, holeOff: 0, hole: Hole.Unmapped);
        Assert.That(c.Run(() => c.Ops.FaultInIovIterReadable(c.Iter, 100)), Is.EqualTo(90UL));
        Assert.That(c.Run(() => c.Ops.FaultInIovIterReadable(c.Iter, 40)), Is.EqualTo(30UL));
        Assert.That(c.Run(() => c.Ops.FaultInIovIterReadable(c.Iter, 5)), Is.Zero);
        c.AssertState(count: 40, seg: 0, off: 0, nrSegs: 3, "not modified");
    }

    [TestCaseSource(typeof(IovIterCopyTests), nameof(IovIterCopyTests.KernelTypes))]
    public void FaultInIovIter_KernelIterators_Zero(IterType t)
    {
        var c = new IterCase(t, source: true, We7);
        Assert.That(c.Run(() => c.Ops.FaultInIovIterReadable(c.Iter, 100)), Is.Zero);
        Assert.That(c.Run(() => c.Ops.FaultInIovIterWriteable(c.Iter, 100)), Is.Zero);
    }

    [Test]
    public void FaultInIovIterReadable_FromCurrentPosition()
    {
        var c = new IterCase(IterType.ITER_IOVEC, source: true, We7, holeSeg: 2, holeOff: 12, hole: Hole.Unmapped);
        c.Run(() => { c.Ops.Advance(c.Iter, 15); return 0; });
        // from seg 2 offset 5: 7 bytes before the hole page, 18 after
        Assert.That(c.Run(() => c.Ops.FaultInIovIterReadable(c.Iter, 25)), Is.EqualTo(18UL));
    }

    /// <summary>A read-only page 22 bytes into a 40-byte buffer: fault_in_safe_writeable's 5.16–6.15 bug reports success.</summary>
    [TestCase("6.12", IterType.ITER_UBUF, 60UL)]
    [TestCase("6.16", IterType.ITER_UBUF, 78UL)]
    [TestCase("6.12", IterType.ITER_IOVEC, 60UL)]
    [TestCase("6.16", IterType.ITER_IOVEC, 78UL)]
    public void FaultInIovIterWriteable_ReadOnlyPageMidBuffer_SafeWriteableBug(string kernel, IterType t, ulong expected)
    {
        var c = new IterCase(t, source: false, [40], kernel: kernel, holeSeg: 0, holeOff: 22, hole: Hole.ReadOnly);
        Assert.That(c.Run(() => c.Ops.FaultInIovIterWriteable(c.Iter, 100)), Is.EqualTo(expected));
        Assert.That(c.Bytes(), Is.All.EqualTo((byte?)IterCase.DestFill), "non-destructive");
    }

    [TestCase("6.12")]
    [TestCase("6.16")]
    public void FaultInIovIterWriteable_FirstPageReadOnly_NothingFaulted(string kernel)
    {
        var c = new IterCase(IterType.ITER_UBUF, source: false, [40], kernel: kernel, holeSeg: 0, holeOff: 0, hole: Hole.ReadOnly);
        Assert.That(c.Run(() => c.Ops.FaultInIovIterWriteable(c.Iter, 40)), Is.EqualTo(40UL));
    }

    [TestCaseSource(typeof(IovIterCopyTests), nameof(IovIterCopyTests.UserTypes))]
    public void IovIterFaultInReadable_5_10_HoleGivesEfaultElseZero(IterType t)
    {
        var c = new IterCase(t, source: true, We7, kernel: "5.10", holeSeg: 2, holeOff: 12, hole: Hole.Unmapped);
        Assert.That(c.Run(() => c.Ops.IovIterFaultInReadable(c.Iter, 40)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(c.Run(() => c.Ops.IovIterFaultInReadable(c.Iter, 22)), Is.Zero);
        var k = new IterCase(IterType.ITER_KVEC, source: true, We7, kernel: "5.10");
        Assert.That(k.Run(() => k.Ops.IovIterFaultInReadable(k.Iter, 40)), Is.Zero);
    }
}
