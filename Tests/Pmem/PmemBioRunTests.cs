using KernelSim.Mm;
using KernelSim.Trace;
using KernelSim.Uapi;
using static KernelSim.Tests.Pmem.PmemScenario;

namespace KernelSim.Tests.Pmem;

/// <summary>
/// pmem_submit_bio moves a clean multi-page bvec with one copy when tracing is off, page by page when it is on: the
/// two must give the same result, bytes and faults.
/// </summary>
public class PmemBioRunTests
{
    private const int Page = 4096;

    /// <summary>A PmemScenario whose 4-page buffer is physically contiguous (so the O_DIRECT bio holds one bvec).</summary>
    private static (PmemScenario S, ulong Pfn0) Contiguous(bool traced)
    {
        var s = new PmemScenario();
        s.M.Tracer.Enabled = traced;
        var pfn0 = s.P.Mm.PfnAt(s.U.Value)!.Value;
        for (var k = 1UL; k < 4; k++) Assert.That(s.P.Mm.PfnAt(s.U.Value + k * Page), Is.EqualTo(pfn0 + k), "one bvec");
        return (s, pfn0);
    }

    private static int Count(Tracer t, string fn) => t.Records.Count(r => r.Kind == TraceKind.Enter && r.Name == fn);

    [TestCase(false)]
    [TestCase(true)]
    public void ODirectRead_CleanBvec_AllBytes_OnePmemDoReadPerPageWhenTraced(bool traced)
    {
        var (s, _) = Contiguous(traced);
        var fd = s.Open(Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(s.P.Pread64(fd, s.U + 512, 3 * Page, B + 512), Is.EqualTo(3 * Page));
        Assert.That(s.UserBytes(0, 512), Is.EqualTo(Enumerable.Repeat((byte)0xee, 512).ToArray()), "head untouched");
        Assert.That(s.UserBytes(512, 3 * Page), Is.EqualTo(PatternBytes(B + 512, 3 * Page)));
        Assert.That(s.UserBytes(512 + 3 * Page, Page - 512), Is.EqualTo(Enumerable.Repeat((byte)0xee, Page - 512).ToArray()), "tail untouched");
        Assert.That(Count(s.M.Tracer, "pmem_do_read"), Is.EqualTo(traced ? 4 : 0), "4 single-page segments (3 pages from offset 512)");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ODirectRead_DestinationDirectMapPageNotPresent_EioAfterTheFirstTwoPages(bool traced)
    {
        var (s, pfn0) = Contiguous(traced);
        Assert.That(s.M.KernelMap.SetMemoryNp(KernelPtr.FromPhys(PhysAddr.FromPfn(pfn0 + 2)), 1), Is.Zero);
        var fd = s.Open(Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(s.P.Pread64(fd, s.U, 4 * Page, B), Is.EqualTo(-Errno.EIO), "copy_mc_to_kernel's #PF fixup fails the bio");
        Assert.That(s.UserBytes(0, 2 * Page), Is.EqualTo(PatternBytes(B, 2 * Page)), "pages before the hole were copied");
        Assert.That(s.UserBytes(2 * Page, 2 * Page), Is.EqualTo(Enumerable.Repeat((byte)0xee, 2 * Page).ToArray()), "nothing from the hole on");
        Assert.That(s.M.Gup.PinCount(pfn0), Is.Zero, "pins dropped");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ODirectRead_BadSectorInTheBvec_SegmentsBeforeItCopied_Eio(bool traced)
    {
        var (s, _) = Contiguous(traced);
        s.Dev.Bb.Set((B + 2 * Page) / 512 + 3, 1, true);
        var fd = s.Open(Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(s.P.Pread64(fd, s.U, 4 * Page, B), Is.EqualTo(-Errno.EIO));
        Assert.That(s.UserBytes(0, 2 * Page), Is.EqualTo(PatternBytes(B, 2 * Page)), "segments before the bad one");
        Assert.That(s.UserBytes(2 * Page, 2 * Page), Is.EqualTo(Enumerable.Repeat((byte)0xee, 2 * Page).ToArray()), "is_bad_pmem: no media read");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ODirectRead_258PagesFromOffset512_TwoBios_AllBytes_NoPinLeft(bool traced)
    {
        var s = new PmemScenario(pages: 300);
        s.M.Tracer.Enabled = traced;
        var fd = s.Open(Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        const int len = 258 * Page; // 259 pages from offset 512: BIO_MAX_VECS pinned pages in the first bio, 3 in the second
        Assert.That(s.P.Pread64(fd, s.U + 512, len, B + 512), Is.EqualTo(len));
        Assert.That(s.UserBytes(0, 512), Is.EqualTo(Enumerable.Repeat((byte)0xee, 512).ToArray()), "head untouched");
        Assert.That(s.UserBytes(512, len), Is.EqualTo(PatternBytes(B + 512, len)));
        Assert.That(s.UserBytes(512 + len, Page - 512), Is.EqualTo(Enumerable.Repeat((byte)0xee, Page - 512).ToArray()), "tail untouched");
        for (var k = 0UL; k < 259; k++) Assert.That(s.M.Gup.PinCount(s.P.Mm.PfnAt(s.U.Value + k * Page)!.Value), Is.Zero, $"page {k}");
        if (traced) Assert.That(Count(s.M.Tracer, "submit_bio"), Is.EqualTo(2));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ODirectRead_PageDroppedInTheMiddle_FaultedInByTheWalk_AllBytes(bool traced)
    {
        var s = new PmemScenario(pages: 8);
        s.M.Tracer.Enabled = traced;
        Assert.That(s.P.Madvise(s.U.Value + 3 * Page, Page, Mman.MADV_DONTNEED), Is.Zero);
        var fd = s.Open(Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(s.P.Pread64(fd, s.U, 8 * Page, B), Is.EqualTo(8 * Page));
        Assert.That(s.UserBytes(0, 8 * Page), Is.EqualTo(PatternBytes(B, 8 * Page)));
        for (var k = 0UL; k < 8; k++) Assert.That(s.M.Gup.PinCount(s.P.Mm.PfnAt(s.U.Value + k * Page)!.Value), Is.Zero, $"page {k}");
    }
}
