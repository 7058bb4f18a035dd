using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Lib;

/// <summary>import_iovec / import_ubuf (D23) and bad input.</summary>
public class IovIterImportTests
{
    private static (Machine M, Process P, UserPtr Vec) Setup(string kernel, params (ulong Base, ulong Len)[] segs)
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn();
        var vec = p.MapAnonymous(4 * 4096);
        var bytes = new byte[segs.Length * 16];
        for (var k = 0; k < segs.Length; k++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(k * 16), segs[k].Base);
            BitConverter.TryWriteBytes(bytes.AsSpan(k * 16 + 8), segs[k].Len);
        }
        if (bytes.Length > 0) p.Store(vec, bytes);
        return (m, p, vec);
    }

    private static (long Ret, IovIter Iter) Import(Machine m, Process p, UserPtr vec, long nr, bool source = false)
    {
        IovIter it = null!;
        var r = m.Run(p, "t", () => { var x = m.IovIter.ImportIovec(vec, nr, source, out var i); it = i; return x; });
        Assert.That(r.Returned, Is.True);
        return (r.Value, it);
    }

    [Test]
    public void ImportIovec_TwoSegments_IovecWithTotal()
    {
        var (m, p, vec) = Setup("6.12", (0x10000, 10), (0x20000, 30));
        var (ret, i) = Import(m, p, vec, 2);
        Assert.That(ret, Is.EqualTo(40));
        Assert.That((i.Type, i.Count, i.NrSegs, i.DataSource), Is.EqualTo((IterType.ITER_IOVEC, 40UL, 2UL, false)));
        Assert.That(i.IovecSegments.ToArray(), Is.EqualTo(new[] { new Iovec(new UserPtr(0x10000), 10), new Iovec(new UserPtr(0x20000), 30) }));
    }

    [TestCase("6.12", IterType.ITER_UBUF)]
    [TestCase("5.15", IterType.ITER_IOVEC)]
    public void ImportIovec_OneSegment_UbufFrom6_0(string kernel, IterType type)
    {
        var (m, p, vec) = Setup(kernel, (0x10000, 10));
        var (ret, i) = Import(m, p, vec, 1, source: true);
        Assert.That(ret, Is.EqualTo(10));
        Assert.That((i.Type, i.Count, i.DataSource), Is.EqualTo((type, 10UL, true)));
    }

    [Test]
    public void ImportIovec_ZeroSegments_EmptyAndZero()
    {
        var (m, p, vec) = Setup("6.12");
        var (ret, i) = Import(m, p, vec, 0);
        Assert.That(ret, Is.Zero);
        Assert.That((i.Count, i.NrSegs), Is.EqualTo((0UL, 0UL)));
    }

    [TestCase(1025L)]
    [TestCase(-1L)]
    [TestCase((1L << 32) + 1025)]
    public void ImportIovec_TooManySegments_Einval(long nr)
    {
        var (m, p, vec) = Setup("6.12", (0x10000, 10), (0x20000, 30));
        Assert.That(Import(m, p, vec, nr).Ret, Is.EqualTo(-Errno.EINVAL));
    }

    [Test]
    public void ImportIovec_NrSegsIsUnsignedInt_HighBitsTruncated()
    {
        var (m, p, vec) = Setup("6.12", (0x10000, 10), (0x20000, 30));
        var (ret, i) = Import(m, p, vec, (1L << 32) + 1);
        Assert.That((ret, i.Type), Is.EqualTo((10L, IterType.ITER_UBUF)));
    }

    [TestCase("6.12", 1)]
    [TestCase("6.12", 2)]
    [TestCase("5.15", 1)]
    public void ImportIovec_NegativeLength_Einval(string kernel, int nr)
    {
        var (m, p, vec) = nr == 1 ? Setup(kernel, (0x10000, unchecked((ulong)-5L))) : Setup(kernel, (0x10000, 10), (0x20000, 1UL << 63));
        Assert.That(Import(m, p, vec, nr).Ret, Is.EqualTo(-Errno.EINVAL));
    }

    [TestCase(0xffff_8880_0000_0000UL, 10UL)]          // kernel address
    [TestCase(0x7fff_ffff_f000UL, 0x2000UL)]          // runs past USER_PTR_MAX
    [TestCase(0x7fff_0000_0000UL, 0x7fff_ffff_ffff_0000UL)] // huge positive length
    public void ImportIovec_BadSegmentRange_Efault(ulong b, ulong len)
    {
        var (m, p, vec) = Setup("6.12", (0x10000, 10), (b, len));
        Assert.That(Import(m, p, vec, 2).Ret, Is.EqualTo(-Errno.EFAULT));
    }

    [Test]
    public void ImportIovec_ArrayUnmappedOrInKernel_Efault()
    {
        var (m, p, vec) = Setup("6.12", (0x10000, 10), (0x20000, 30));
        Assert.That(Import(m, p, new UserPtr(0x5000_0000), 2).Ret, Is.EqualTo(-Errno.EFAULT));
        Assert.That(Import(m, p, new UserPtr(PageDefs.PAGE_OFFSET), 2).Ret, Is.EqualTo(-Errno.EFAULT));
        Assert.That(Import(m, p, new UserPtr(0x5000_0000), 1).Ret, Is.EqualTo(-Errno.EFAULT));
        // the array's second entry runs into an unmapped page
        Assert.That(Import(m, p, vec + (4 * 4096 - 16UL), 2).Ret, Is.EqualTo(-Errno.EFAULT));
    }

    [Test]
    public void ImportIovec_TotalCappedAtMaxRwCount_CrossingSegmentShortened()
    {
        var (m, p, vec) = Setup("6.12", (0x10000, 0x7fff_0000), (0x1_0000_0000, 0x20000), (0x2_0000_0000, 5));
        var (ret, i) = Import(m, p, vec, 3);
        Assert.That(ret, Is.EqualTo(0x7ffff000));
        Assert.That(i.IovecSegments[1].Len, Is.EqualTo(0xf000UL));
        Assert.That(i.IovecSegments[2].Len, Is.Zero);
    }

    [TestCase("6.12", 0x7ffff000L)]
    [TestCase("5.15", -Errno.EFAULT)]
    public void ImportIovec_SingleHugeSegment_UbufCapsBeforeAccessOk(string kernel, long expected)
    {
        var (m, p, vec) = Setup(kernel, (0x10000, 0x7fff_ffff_0000));
        Assert.That(Import(m, p, vec, 1).Ret, Is.EqualTo(expected));
    }

    [Test]
    public void ImportUbuf_CapsAndChecks()
    {
        var m = Sim.Boot();
        Assert.That(m.IovIter.ImportUbuf(false, new UserPtr(0x10000), ulong.MaxValue, out var i), Is.Zero);
        Assert.That((i.Type, i.Count), Is.EqualTo((IterType.ITER_UBUF, 0x7ffff000UL)));
        Assert.That(m.IovIter.ImportUbuf(false, new UserPtr(PageDefs.PAGE_OFFSET), 10, out _), Is.EqualTo(-Errno.EFAULT));
        Assert.That(m.IovIter.ImportUbuf(false, new UserPtr(ulong.MaxValue - 4), 10, out _), Is.EqualTo(-Errno.EFAULT));
        var old = Sim.Boot("5.15");
        Assert.That(old.IovIter.ImportUbuf(true, new UserPtr(0x10000), 10, out var j), Is.Zero);
        Assert.That((j.Type, j.NrSegs, j.Count), Is.EqualTo((IterType.ITER_IOVEC, 1UL, 10UL)));
    }
}
