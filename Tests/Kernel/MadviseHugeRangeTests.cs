using KernelSim.Uapi;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Kernel;

/// <summary>
/// madvise over a huge range that is mostly unmapped (found by the campaign's hostile workload: the gap was
/// walked page by page, 2^51 iterations). madvise_walk_vmas skips a gap to the next VMA and reports -ENOMEM.
/// </summary>
public class MadviseHugeRangeTests
{
    [TestCase(Mman.MADV_DONTNEED)]
    [TestCase(Mman.MADV_NORMAL)]
    public void Madvise_LengthNear2Pow63OverOneMapping_ReturnsENOMEM_AndAppliesToTheMapping(int advice)
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("app");
        var buf = p.MapAnonymous(8192);
        Assert.That(p.Store(buf, [1, 2, 3]).Completed(3), Is.True);
        Assert.That(p.Madvise(buf.Value, 0x7fff_ffff_ffff_ffffUL, advice), Is.EqualTo(-Errno.ENOMEM));
        Assert.That(p.Mm.PfnAt(buf.Value) == null, Is.EqualTo(advice == Mman.MADV_DONTNEED), "MADV_DONTNEED dropped the private page before the gap");
    }

    [Test]
    public void Madvise_GapBetweenTwoMappings_StillReachesTheSecond()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("app");
        var a = p.MapAnonymous(3 * 4096);
        Assert.That(p.Store(a, new byte[3 * 4096]).Completed(3 * 4096), Is.True);
        Assert.That(p.Munmap(a.Value + 4096, 4096), Is.Zero);
        Assert.That(p.Madvise(a.Value, 3 * 4096, Mman.MADV_DONTNEED), Is.EqualTo(-Errno.ENOMEM));
        Assert.That(p.Mm.PfnAt(a.Value), Is.Null);
        Assert.That(p.Mm.PfnAt(a.Value + 2 * 4096), Is.Null, "the VMA after the gap was advised too");
    }
}
