using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>
/// The software TLB in front of each page table (<see cref="PageTable"/>): every way a PTE changes must flush it, so an
/// access right after the change sees the new entry and never a translation cached before it. Each test first makes the
/// TLB hold the page (a user-mode store or load), then changes the PTE, then accesses it again.
/// </summary>
public class SoftwareTlbTests
{
    private static readonly byte[] Pattern = [0xA1, 0xB2, 0xC3, 0xD4];

    private static (Machine M, Process P, UserPtr U) Warm(string kernel = "6.12")
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn();
        var u = p.MapAnonymous(4096);
        Assert.That(p.Store(u, Pattern).Done, Is.EqualTo(4UL));
        var back = new byte[4];
        Assert.That(p.Load(u, back).Done, Is.EqualTo(4UL), "the page is in the TLB now");
        return (m, p, u);
    }

    [Test]
    public void Munmap_ThenLoad_Sigsegv_Maperr()
    {
        var (_, p, u) = Warm();
        Assert.That(p.Munmap(u.Value, 4096), Is.Zero);
        var r = p.Load(u, new byte[4]);
        Assert.That(r.Done, Is.Zero);
        Assert.That(p.KilledBy, Is.EqualTo(new SigInfo(Sig.SIGSEGV, Sig.SEGV_MAPERR, u.Value, 0, true)));
    }

    [Test]
    public void MprotectReadOnly_ThenStore_Sigsegv_Accerr_LoadStillWorks()
    {
        var (_, p, u) = Warm();
        Assert.That(p.Mprotect(u.Value, 4096, Mman.PROT_READ), Is.Zero);
        var back = new byte[4];
        Assert.That(p.Load(u, back).Done, Is.EqualTo(4UL));
        Assert.That(back, Is.EqualTo(Pattern));
        Assert.That(p.Store(u, [1]).Done, Is.Zero);
        Assert.That(p.KilledBy, Is.EqualTo(new SigInfo(Sig.SIGSEGV, Sig.SEGV_ACCERR, u.Value, 0, true)));
    }

    [Test]
    public void MprotectNone_ThenLoad_Sigsegv_Accerr()
    {
        var (_, p, u) = Warm();
        Assert.That(p.Mprotect(u.Value, 4096, Mman.PROT_NONE), Is.Zero);
        Assert.That(p.Load(u + 2, new byte[1]).Done, Is.Zero);
        Assert.That(p.KilledBy, Is.EqualTo(new SigInfo(Sig.SIGSEGV, Sig.SEGV_ACCERR, u.Value + 2, 0, true)));
    }

    [Test]
    public void MprotectReadOnly_ThenKernelCopyToUser_Faults()
    {
        var (m, p, u) = Warm();
        var k = m.Kmalloc(4096)!.Value;
        ulong CopyOut() => m.Run(p, "test", () => m.Copy.CopyToUser(u, k, 4)).Value;
        Assert.That(CopyOut(), Is.Zero, "copy_to_user through the TLB entry the store left");
        Assert.That(p.Store(u, Pattern).Done, Is.EqualTo(4UL));
        Assert.That(p.Mprotect(u.Value, 4096, Mman.PROT_READ), Is.Zero);
        Assert.That(CopyOut(), Is.EqualTo(4UL), "nothing copied: the PTE is read-only now");
        var back = new byte[4];
        Assert.That(p.Load(u, back).Done, Is.EqualTo(4UL));
        Assert.That(back, Is.EqualTo(Pattern), "nothing was written");
    }

    [Test]
    public void MadvDontneed_ThenLoad_ReadsAFreshZeroPage_NotTheFreedFrame()
    {
        var (m, p, u) = Warm();
        var before = p.Mm.PfnAt(u.Value)!.Value;
        Assert.That(p.Madvise(u.Value, 4096, Mman.MADV_DONTNEED), Is.Zero);
        var other = p.MapAnonymous(4096);
        Assert.That(p.Store(other, [0xEE, 0xEE, 0xEE, 0xEE]).Done, Is.EqualTo(4UL));
        Assert.That(p.Mm.PfnAt(other.Value), Is.EqualTo(before), "the freed frame went to the other mapping");
        var back = new byte[4];
        Assert.That(p.Load(u, back).Done, Is.EqualTo(4UL));
        Assert.That(back, Is.EqualTo(new byte[4]), "a new zeroed page, not the cached translation to the freed frame");
        Assert.That(m.State.Alive, Is.True);
    }

    [Test]
    public void MadvHwpoison_ThenLoad_Sigbus_ActionRequired()
    {
        var (_, p, u) = Warm("6.10"); // no early kill on 6.10: the signal comes at the next access (MF21)
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(p.Madvise(u.Value, 4096, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(p.Mm.IsHwPoisonEntry(u.Value), Is.True);
        Assert.That(p.SignalsReceived, Is.Empty);
        Assert.That(p.Load(u + 3, new byte[1]).Done, Is.Zero, "the hwpoison entry, not the cached translation");
        Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, u.Value + 3, 12, true)));
    }

    [Test]
    public void MadvSoftOffline_ThenStore_LandsInTheNewFrame()
    {
        var (m, p, u) = Warm();
        var oldPfn = p.Mm.PfnAt(u.Value)!.Value;
        Assert.That(p.Madvise(u.Value, 4096, Mman.MADV_SOFT_OFFLINE), Is.Zero);
        var newPfn = p.Mm.PfnAt(u.Value)!.Value;
        Assert.That(newPfn, Is.Not.EqualTo(oldPfn));
        Assert.That(p.Store(u, [0x5A]).Done, Is.EqualTo(1UL));
        var b = new byte[1];
        m.Phys.PeekBytes(PhysAddr.FromPfn(newPfn), b);
        Assert.That(b[0], Is.EqualTo(0x5A), "the store went through the remapped PTE");
        m.Phys.PeekBytes(PhysAddr.FromPfn(oldPfn), b);
        Assert.That(b[0], Is.EqualTo(Pattern[0]), "the offlined frame is untouched");
    }

    [Test]
    public void Fork_ThenParentStore_CopiesOnWrite_ChildKeepsTheOldBytes()
    {
        var (_, p, u) = Warm();
        Assert.That(p.Fork(out var child), Is.GreaterThan(0));
        Assert.That(p.Store(u, [0x11]).Done, Is.EqualTo(1UL), "the parent's PTE was write-protected by fork: a CoW fault");
        Assert.That(p.Mm.PfnAt(u.Value), Is.Not.EqualTo(child!.Mm.PfnAt(u.Value)));
        var back = new byte[1];
        Assert.That(child.Load(u, back).Done, Is.EqualTo(1UL));
        Assert.That(back[0], Is.EqualTo(Pattern[0]), "the child still sees the page as it was at fork");
    }

    [Test]
    public void MremapMove_OldAddressFaults_NewAddressHoldsTheBytes()
    {
        var (_, p, u) = Warm();
        var to = p.Mremap(u.Value, 4096, 4096, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, u.Value - 0x10_1000); // another TLB slot than u
        Assert.That(to, Is.EqualTo((long)(u.Value - 0x10_1000)));
        var back = new byte[4];
        Assert.That(p.Load(new UserPtr((ulong)to), back).Done, Is.EqualTo(4UL));
        Assert.That(back, Is.EqualTo(Pattern));
        Assert.That(p.Load(u, back).Done, Is.Zero, "the old address is unmapped, whatever the TLB held");
        Assert.That(p.KilledBy, Is.EqualTo(new SigInfo(Sig.SIGSEGV, Sig.SEGV_MAPERR, u.Value, 0, true)));
    }

    [Test]
    public void Mkclean_ThenStore_FaultsAndRedirties()
    {
        var (m, p, u) = Warm();
        Assert.That(p.Mm.PteDirty(u.Value), Is.True);
        Assert.That(p.Mm.MkcleanPte(u.Value), Is.True);
        Assert.That(p.Mm.TryTranslate(u.Value, write: true, out _), Is.False, "write-protected by folio_mkclean");
        Assert.That(p.Mm.TryTranslate(u.Value, write: false, out _), Is.True);
        Assert.That(p.Mm.PteDirty(u.Value), Is.False);
        Assert.That(p.Store(u, [7]).Done, Is.EqualTo(1UL), "the write fault makes it writable again");
        Assert.That(p.Mm.PteDirty(u.Value), Is.True);
    }

    [Test]
    public void InstallPte_OverACachedPage_TranslatesToTheNewFrame()
    {
        var (m, p, u) = Warm();
        var other = (ulong)m.Phys.AllocPage();
        p.Mm.InstallPte(u.Value, other, writable: true, PageDefs.PAGE_SHIFT);
        Assert.That(p.Mm.TryTranslate(u.Value, write: false, out var pfn), Is.True);
        Assert.That(pfn, Is.EqualTo(other));
    }

    [Test]
    public void ZapRange_ThenTranslate_NotPresent()
    {
        var (_, p, u) = Warm();
        p.Mm.ZapRange(u.Value, u.Value + 4096);
        Assert.That(p.Mm.TryTranslate(u.Value, write: false, out _), Is.False);
    }

    [Test]
    public void WriteAfterAReadFilledEntry_StillMarksThePteDirty()
    {
        var m = Sim.Boot();
        var p = m.Spawn();
        var u = p.MapAnonymous(4096);
        var pfn = (ulong)m.Phys.AllocPage();
        p.Mm.InstallPte(u.Value, pfn, writable: true, PageDefs.PAGE_SHIFT);
        Assert.That(p.Mm.TryTranslate(u.Value, write: false, out _), Is.True);
        Assert.That(p.Mm.PteDirty(u.Value), Is.False, "a load does not dirty");
        Assert.That(p.Mm.TryTranslate(u.Value, write: true, out var w), Is.True);
        Assert.That(w, Is.EqualTo(pfn));
        Assert.That(p.Mm.PteDirty(u.Value), Is.True, "the store after a load-filled entry walks and sets the dirty bit");
    }

    private static Pte Present(ulong pfn, bool writable = true) => new() { Pfn = pfn, Present = true, Writable = writable, Shift = PageDefs.PAGE_SHIFT };

    [Test]
    public void PageTable_EveryMutatorFlushes()
    {
        var t = new PageTable();
        const ulong va = 0x1234_5000, vpn = va >> PageDefs.PAGE_SHIFT;

        t[vpn] = Present(10);
        Assert.That(t.TryTranslate(va, true, out var pfn) && pfn == 10, Is.True);
        t[vpn] = Present(11);
        Assert.That(t.TryTranslate(va, true, out pfn) && pfn == 11, Is.True, "indexer set");
        t[vpn] = Present(11, writable: false);
        Assert.That(t.TryTranslate(va, true, out _), Is.False, "indexer set: write-protect");

        Assert.That(t.TryTranslate(va, false, out _), Is.True);
        Assert.That(t.Remove(vpn), Is.True);
        Assert.That(t.TryTranslate(va, false, out _), Is.False, "Remove");

        t[vpn] = Present(12);
        Assert.That(t.TryTranslate(va, false, out _), Is.True);
        Assert.That(t.Remove(vpn, out var old) && old.Pfn == 12, Is.True);
        Assert.That(t.TryTranslate(va, false, out _), Is.False, "Remove(out)");

        t[vpn] = Present(13);
        Assert.That(t.TryTranslate(va, false, out _), Is.True);
        t.Clear();
        Assert.That(t.TryTranslate(va, false, out _), Is.False, "Clear");
    }

    [Test]
    public void PageTable_NeighboursInOneTlbSlot_DoNotAlias()
    {
        var t = new PageTable();
        const ulong a = 0x40_0000, b = a + ((ulong)PageTable.TlbEntries << PageDefs.PAGE_SHIFT); // the same TLB slot
        t[a >> PageDefs.PAGE_SHIFT] = Present(20);
        t[b >> PageDefs.PAGE_SHIFT] = Present(21);
        Assert.That(t.TryTranslate(a, false, out var pa) && pa == 20, Is.True);
        Assert.That(t.TryTranslate(b, false, out var pb) && pb == 21, Is.True);
        Assert.That(t.TryTranslate(a, false, out pa) && pa == 20, Is.True);
        Assert.That(t.TryTranslate(b + 4096, false, out _), Is.False);
    }
}
