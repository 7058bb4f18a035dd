using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Tests.Lib;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>mm/gup.c fault_in_* (FI1, FI3, WE11, WE12), sub-page permissions, get_user_pages_fast and iov_iter_get_pages2 (D22).</summary>
public class GupTests
{
    /// <summary>0x10000..0x13000 mapped read-write and touched with 0xAA, then <paramref name="hole"/> applied to the page 0x12000.</summary>
    private static (Machine M, Process P) Layout(string kernel, Hole hole = Hole.Unmapped, ulong holePage = 0x12000)
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn();
        Assert.That(p.Mmap(0x10000, 0x3000, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED), Is.EqualTo(0x10000));
        p.Fill(new UserPtr(0x10000), 0x3000, _ => 0xAA);
        if (hole == Hole.Unmapped) Assert.That(p.Munmap(holePage, 0x1000), Is.Zero);
        if (hole == Hole.ReadOnly) Assert.That(p.Mprotect(holePage, 0x1000, Mman.PROT_READ), Is.Zero);
        return (m, p);
    }

    private static T Run<T>(Machine m, Process p, Func<T> f)
    {
        var r = m.Run(p, "t", f);
        Assert.That(r.Returned, Is.True, () => r.Outcome ?? "");
        return r.Value;
    }

    /// <summary>WE11: fault_in_readable(0x10064, 10000) with 0x12000 unmapped → 1908.</summary>
    [Test]
    public void FaultInReadable_We11_HoleAtThirdPage_Returns1908()
    {
        var (m, p) = Layout("6.12");
        Assert.That(Run(m, p, () => m.Gup.FaultInReadable(new UserPtr(0x10064), 10000)), Is.EqualTo(1908UL));
        Assert.That(Run(m, p, () => m.Gup.FaultInReadable(new UserPtr(0x10064), 8092)), Is.Zero);
        Assert.That(Run(m, p, () => m.Gup.FaultInReadable(new UserPtr(0x12010), 100)), Is.EqualTo(100UL));
        Assert.That(Run(m, p, () => m.Gup.FaultInReadable(new UserPtr(0x12010), 0)), Is.Zero);
    }

    [Test]
    public void FaultInWriteable_We11_Returns1908AndStoresZeroAtProbes()
    {
        var (m, p) = Layout("6.12");
        Assert.That(Run(m, p, () => m.Gup.FaultInWriteable(new UserPtr(0x10064), 10000)), Is.EqualTo(1908UL));
        Assert.That(p.Peek(new UserPtr(0x10063), 3), Is.EqualTo(new byte?[] { 0xAA, 0, 0xAA }));
        Assert.That(p.Peek(new UserPtr(0x10fff), 3), Is.EqualTo(new byte?[] { 0xAA, 0, 0xAA }));
    }

    [Test]
    public void FaultInWriteable_ReadOnlyPage_StopsThere()
    {
        var (m, p) = Layout("6.12", Hole.ReadOnly, 0x11000);
        Assert.That(Run(m, p, () => m.Gup.FaultInWriteable(new UserPtr(0x10064), 10000)), Is.EqualTo(10000UL - (0x11000 - 0x10064)));
        Assert.That(Run(m, p, () => m.Gup.FaultInReadable(new UserPtr(0x10064), 10000)), Is.Zero);
    }

    /// <summary>WE11, fault_in_safe_writeable: 5.16–6.15 reports 0 for a failure after the first page; fixed → 1908.</summary>
    [TestCase("6.12", 0UL)]
    [TestCase("5.16", 0UL)]
    [TestCase("6.16", 1908UL)]
    public void FaultInSafeWriteable_We11_ReturnValueBug(string kernel, ulong expected)
    {
        var (m, p) = Layout(kernel);
        Assert.That(Run(m, p, () => m.Gup.FaultInSafeWriteable(new UserPtr(0x10064), 10000)), Is.EqualTo(expected));
        Assert.That(p.Peek(new UserPtr(0x10064), 1)[0], Is.EqualTo((byte?)0xAA), "non-destructive");
        // First page failing gives size on both sides.
        Assert.That(Run(m, p, () => m.Gup.FaultInSafeWriteable(new UserPtr(0x12064), 100)), Is.EqualTo(100UL));
        Assert.That(Run(m, p, () => m.Gup.FaultInSafeWriteable(new UserPtr(0x10064), 100)), Is.Zero);
    }

    [Test]
    public void FaultInSafeWriteable_NotResident_FaultsInWritable()
    {
        var m = Sim.Boot("6.16");
        var p = m.Spawn();
        var u = p.MapAnonymous(0x2000);
        Assert.That(Run(m, p, () => m.Gup.FaultInSafeWriteable(u + 5UL, 0x1800)), Is.Zero);
        Assert.That(p.Mm.ResidentPages, Is.EqualTo(2));
    }

    [Test]
    public void FaultIn_BadRanges_NothingFaultedIn()
    {
        var (m, p) = Layout("6.12");
        Assert.That(Run(m, p, () => m.Gup.FaultInReadable(new UserPtr(PageDefs.PAGE_OFFSET), 10)), Is.EqualTo(10UL));
        Assert.That(Run(m, p, () => m.Gup.FaultInWriteable(new UserPtr(0x10064), ulong.MaxValue)), Is.EqualTo(ulong.MaxValue));
        Assert.That(Run(m, p, () => m.Gup.FaultInSafeWriteable(new UserPtr(PageDefs.PAGE_OFFSET), 10)), Is.EqualTo(10UL));
    }

    /// <summary>WE12: fault_in_pages_readable(0x10064, 10000) probes 0x12064 → −EFAULT; variant 0x10F00..0x110FF.</summary>
    [Test]
    public void FaultInPagesReadable_We12_ProbesSameInPageOffset()
    {
        var (m, p) = Layout("5.10");
        Assert.That(Run(m, p, () => m.Gup.FaultInPagesReadable(new UserPtr(0x10064), 10000)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(Run(m, p, () => m.Gup.FaultInPagesReadable(new UserPtr(0x10064), 8092)), Is.Zero, "probes 0x10064, 0x11064; end 0x11fff");
        Assert.That(Run(m, p, () => m.Gup.FaultInPagesReadable(new UserPtr(0x10F00), 0x200)), Is.Zero);
        var (m2, p2) = Layout("5.10", Hole.Unmapped, 0x11000);
        Assert.That(Run(m2, p2, () => m2.Gup.FaultInPagesReadable(new UserPtr(0x10F00), 0x200)), Is.EqualTo(-Errno.EFAULT), "spill probe at end 0x110FF");
        Assert.That(Run(m2, p2, () => m2.Gup.FaultInPagesReadable(new UserPtr(0x10F00), 0x100)), Is.Zero);
        Assert.That(Run(m2, p2, () => m2.Gup.FaultInPagesReadable(new UserPtr(0x10F00), 0)), Is.Zero);
    }

    /// <summary>Catalin's case with the old test: write(a + 4095, 2) → the old pre-fault fails (WE15).</summary>
    [Test]
    public void FaultInPagesWriteable_SpillIntoUnmappedPage_EfaultAfterStoringFirstProbe()
    {
        var (m, p) = Layout("5.10", Hole.Unmapped, 0x11000);
        Assert.That(Run(m, p, () => m.Gup.FaultInPagesWriteable(new UserPtr(0x10FFF), 2)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(p.Peek(new UserPtr(0x10FFF), 1)[0], Is.EqualTo((byte?)0));
        Assert.That(Run(m, p, () => m.Gup.FaultInReadable(new UserPtr(0x10FFF), 2)), Is.EqualTo(1UL), "5.16+ form: 1 byte not faulted in");
    }

    // ---- sub-page permissions -------------------------------------------------------------------------------

    [Test]
    public void FaultInSubpageWriteable_DeniedGranuleAt0x10070_Returns88()
    {
        var (m, p) = Layout("6.12");
        Assert.That(Run(m, p, () => m.Gup.FaultInSubpageWriteable(new UserPtr(0x10064), 100)), Is.Zero, "no sub-page permissions: generic probe");
        p.Mm.SetSubpageProtection(new UserPtr(0x10070), 16, accessible: false);
        Assert.That(Run(m, p, () => m.Gup.FaultInWriteable(new UserPtr(0x10064), 100)), Is.Zero, "page probe passes");
        Assert.That(Run(m, p, () => m.Gup.FaultInSubpageWriteable(new UserPtr(0x10064), 100)), Is.EqualTo(88UL));
        // The CPU honours the granule: a kernel copy stops at it, and so does a user store.
        var src = Sim.KernelBuffer(m, 128);
        Assert.That(Run(m, p, () => m.Copy.CopyToUser(new UserPtr(0x10064), src, 100)), Is.EqualTo(88UL));
        Assert.That(p.Peek(new UserPtr(0x10070), 1)[0], Is.EqualTo((byte?)0xAA));
        p.SetSignalHandler(Sig.SIGSEGV, SignalDisposition.Catch);
        var st = p.Store(new UserPtr(0x1006f), new byte[] { 1, 2 });
        Assert.That(st.Done, Is.EqualTo(1UL));
        Assert.That(st.Signal?.Signo, Is.EqualTo(Sig.SIGSEGV));
        // Accessible again.
        p.Mm.SetSubpageProtection(new UserPtr(0x10070), 16, accessible: true);
        Assert.That(Run(m, p, () => m.Gup.FaultInSubpageWriteable(new UserPtr(0x10064), 100)), Is.Zero);
    }

    [Test]
    public void FaultInSubpageWriteable_FirstGranuleDenied_NothingFaulted()
    {
        var (m, p) = Layout("6.12");
        p.Mm.SetSubpageProtection(new UserPtr(0x10060), 1, accessible: false);
        Assert.That(Run(m, p, () => m.Gup.FaultInSubpageWriteable(new UserPtr(0x10064), 100)), Is.EqualTo(100UL));
    }

    // ---- get_user_pages_fast / iov_iter_get_pages2 -------------------------------------------------------------

    [Test]
    public void GetUserPagesFast_PartialAndFirstFailing()
    {
        var (m, p) = Layout("6.12");
        var pages = new ulong[4];
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(new UserPtr(0x10000), 4, true, false, pages)), Is.EqualTo(2));
        Assert.That(pages[0], Is.EqualTo(p.Mm.PfnAt(0x10000)));
        Assert.That(m.Gup.PinCount(pages[1]), Is.EqualTo(1));
        m.Gup.UnpinUserPage(pages[1]);
        Assert.That(m.Gup.PinCount(pages[1]), Is.Zero);
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(new UserPtr(0x12000), 1, false, false, pages)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(new UserPtr(PageDefs.TASK_SIZE_MAX), 1, false, false, pages)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(new UserPtr(ulong.MaxValue & PageDefs.PAGE_MASK), 2, false, false, pages)), Is.EqualTo(-Errno.EOVERFLOW));
    }

    [Test]
    public void GetUserPagesFast_WriteOnReadOnly_Efault_NofaultOnNotResident_Efault()
    {
        var (m, p) = Layout("6.12", Hole.ReadOnly, 0x10000);
        var pages = new ulong[1];
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(new UserPtr(0x10000), 1, true, false, pages)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(new UserPtr(0x10000), 1, false, false, pages)), Is.EqualTo(1));
        var fresh = p.MapAnonymous(4096);
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(fresh, 1, false, true, pages)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(fresh, 1, false, false, pages)), Is.EqualTo(1));
    }

    /// <summary>Research example: UBUF 0x10064 count 10000, 0x12000 unmapped → 8092 (start 100), then −EFAULT.</summary>
    [TestCase("6.12", true)]
    [TestCase("5.15", false)]
    public void GetPages2_Ubuf_8092ThenEfault(string kernel, bool advances)
    {
        var (m, p) = Layout(kernel);
        var i = IovIter.Ubuf(false, new UserPtr(0x10064), 10000);
        ulong[] pages = [];
        ulong start = 0;
        Assert.That(Run(m, p, () => m.IovIter.GetPages2(i, ulong.MaxValue, 16, out pages, out start)), Is.EqualTo(8092));
        Assert.That((pages.Length, start), Is.EqualTo((2, 100UL)));
        Assert.That(pages[1], Is.EqualTo(p.Mm.PfnAt(0x11000)));
        Assert.That((i.Count, i.IovOffset), Is.EqualTo(advances ? (1908UL, 8092UL) : (10000UL, 0UL)));
        if (!advances) return;
        Assert.That(Run(m, p, () => m.IovIter.GetPages2(i, ulong.MaxValue, 16, out pages, out start)), Is.EqualTo(-Errno.EFAULT));
        Assert.That((i.Count, i.IovOffset), Is.EqualTo((1908UL, 8092UL)));
    }

    [Test]
    public void GetPages2_Iovec_FirstNonEmptySegmentOnly_MaxpagesCap()
    {
        var (m, p) = Layout("6.12", Hole.None);
        var i = IovIter.Iovec(false, [new Iovec(new UserPtr(0x10000), 0), new Iovec(new UserPtr(0x10100), 0x1000), new Iovec(new UserPtr(0x12000), 100)], 0x1064);
        Assert.That(Run(m, p, () => m.IovIter.GetPages2(i, ulong.MaxValue, 1, out var pg, out var st)), Is.EqualTo(0xf00));
        Assert.That((i.SegIndex, i.IovOffset, i.NrSegs, i.Count), Is.EqualTo((1, 0xf00UL, 2UL, 0x164UL)));
        Assert.That(Run(m, p, () => m.IovIter.GetPages2(i, ulong.MaxValue, 16, out var pg, out var st)), Is.EqualTo(0x100));
        Assert.That((i.SegIndex, i.IovOffset, i.NrSegs, i.Count), Is.EqualTo((2, 0UL, 1UL, 100UL)));
        Assert.That(Run(m, p, () => m.IovIter.GetPages2(i, 0, 16, out var pg, out var st)), Is.Zero);
        Assert.That(Run(m, p, () => m.IovIter.GetPages2(i, 10, 0, out var pg, out var st)), Is.Zero);
    }

    [Test]
    public void GetPages2_DestinationOnReadOnlyPage_Efault_SourceSucceeds()
    {
        var (m, p) = Layout("6.12", Hole.ReadOnly, 0x10000);
        var dst = IovIter.Ubuf(false, new UserPtr(0x10010), 100);
        Assert.That(Run(m, p, () => m.IovIter.GetPages2(dst, 100, 4, out _, out _)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(dst.Count, Is.EqualTo(100UL));
        var src = IovIter.Ubuf(true, new UserPtr(0x10010), 100);
        Assert.That(Run(m, p, () => m.IovIter.GetPages2(src, 100, 4, out _, out _)), Is.EqualTo(100));
    }

    [Test]
    public void GetPages2_BvecCurrentBvec_KvecAndDiscardEfault()
    {
        var m = Sim.Boot();
        var buf = Sim.KernelBuffer(m, 3 * 4096);
        var pfn = Sim.Pa(m, buf).Pfn;
        var i = IovIter.Bvec(false, [new BioVec(pfn, 0x800, 0x1000), new BioVec(pfn + 2, 0, 10)], 0x100a);
        ulong[] pages = [];
        ulong start = 0;
        Assert.That(m.Run(() => m.IovIter.GetPages2(i, ulong.MaxValue, 8, out pages, out start)).Value, Is.EqualTo(0x1000));
        Assert.That(pages, Is.EqualTo(new[] { pfn, pfn + 1 }));
        Assert.That(start, Is.EqualTo(0x800UL));
        Assert.That((i.SegIndex, i.IovOffset, i.NrSegs, i.Count), Is.EqualTo((1, 0UL, 1UL, 10UL)));
        Assert.That(m.Gup.PinCount(pfn + 1), Is.EqualTo(1));
        var k = IovIter.Kvec(false, [new Kvec(buf, 10)], 10);
        Assert.That(m.Run(() => m.IovIter.GetPages2(k, 10, 8, out _, out _)).Value, Is.EqualTo(-Errno.EFAULT));
        Assert.That(m.Run(() => m.IovIter.GetPages2(IovIter.Discard(10), 10, 8, out _, out _)).Value, Is.EqualTo(-Errno.EFAULT));
    }
}
