using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>
/// get_user_pages_fast translates the pages whose translation the software TLB holds as a run and pins them together,
/// walking (and faulting) only the pages it misses: the pages, their order, the pin counts and what the walk leaves in the
/// page array must be those of the page-by-page walk, across TLB hits, misses, faults and 512-frame count blocks.
/// </summary>
public class GupWalkTests
{
    private const ulong Page = PageDefs.PAGE_SIZE;

    private static T Run<T>(Machine m, Process p, Func<T> f)
    {
        var r = m.Run(p, "t", f);
        Assert.That(r.Returned, Is.True, () => r.Outcome ?? "");
        return r.Value;
    }

    private static ulong PfnAt(Process p, UserPtr u, ulong k) => p.Mm.PfnAt(u.Value + k * Page)!.Value;

    [Test]
    public void HitsThenAFaultThenHits_EveryPagePinnedOnceInOrder_UnpinStopsAtZero()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn();
        var u = p.MapAnonymous(6 * Page);
        Assert.That(p.Fill(u, 2 * Page, _ => 1).Done, Is.EqualTo(2 * Page));
        Assert.That(p.Fill(u + 3 * Page, 3 * Page, _ => 2).Done, Is.EqualTo(3 * Page));
        Assert.That(p.Mm.PfnAt(u.Value + 2 * Page), Is.Null, "page 2 not present: the walk must fault it in");
        var pages = new ulong[6];
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(u, 6, write: true, nofault: false, pages)), Is.EqualTo(6));
        for (var k = 0UL; k < 6; k++)
        {
            Assert.That(pages[k], Is.EqualTo(PfnAt(p, u, k)), $"page {k}");
            Assert.That(m.Gup.PinCount(pages[k]), Is.EqualTo(1), $"page {k}");
        }
        var again = new ulong[6];
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(u, 6, write: true, nofault: false, again)), Is.EqualTo(6));
        Assert.That(again, Is.EqualTo(pages));
        Assert.That(pages.Select(m.Gup.PinCount), Is.All.EqualTo(2));
        m.Gup.UnpinUserPages(pages);
        Assert.That(pages.Select(m.Gup.PinCount), Is.All.EqualTo(1));
        m.Gup.UnpinUserPages(pages);
        m.Gup.UnpinUserPages(pages);
        Assert.That(pages.Select(m.Gup.PinCount), Is.All.EqualTo(0), "a count never goes below 0");
    }

    [Test]
    public void Nofault_StopsAtTheFirstPageNotPresent_ArrayUntouchedFromThere()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn();
        var u = p.MapAnonymous(6 * Page);
        Assert.That(p.Fill(u, 6 * Page, _ => 3).Done, Is.EqualTo(6 * Page));
        Assert.That(p.Madvise(u.Value + 4 * Page, Page, Mman.MADV_DONTNEED), Is.Zero);
        var pages = Enumerable.Repeat(0xdeadUL, 6).ToArray();
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(u, 6, write: false, nofault: true, pages)), Is.EqualTo(4));
        Assert.That(pages[..4], Is.EqualTo(new[] { PfnAt(p, u, 0), PfnAt(p, u, 1), PfnAt(p, u, 2), PfnAt(p, u, 3) }));
        Assert.That(pages[4..], Is.EqualTo(new[] { 0xdeadUL, 0xdeadUL }), "nothing stored past the pinned prefix");
        Assert.That(m.Gup.PinCount(pages[3]), Is.EqualTo(1));
        Assert.That(p.Mm.PfnAt(u.Value + 4 * Page), Is.Null, "FOLL_NOFAULT faults nothing in");
    }

    [Test]
    public void WritePinOfPagesTheTlbHoldsForLoadsOnly_WalkedAndMadeWritableAndDirty()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn();
        var u = p.MapAnonymous(3 * Page);
        var pages = new ulong[3];
        // A read pin faults each page in with a load's fault (not writable-and-dirty): the TLB then holds them for loads only.
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(u, 3, write: false, nofault: false, pages)), Is.EqualTo(3));
        var vpn0 = u.Value >> PageDefs.PAGE_SHIFT;
        for (var k = 0UL; k < 3; k++)
            Assert.That(p.Mm.PageTable.TryGetValue(vpn0 + k, out var pte) && pte.Present && !(pte.Writable && pte.Dirty), Is.True, $"page {k} not writable-and-dirty");
        m.Gup.UnpinUserPages(pages);
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(u, 3, write: true, nofault: false, pages)), Is.EqualTo(3));
        for (var k = 0UL; k < 3; k++)
        {
            Assert.That(pages[k], Is.EqualTo(PfnAt(p, u, k)), $"page {k}");
            Assert.That(p.Mm.PageTable.TryGetValue(vpn0 + k, out var pte) && pte.Writable && pte.Dirty, Is.True, $"page {k} writable and dirty");
        }
        Assert.That(pages.Select(m.Gup.PinCount), Is.All.EqualTo(1));
        var again = new ulong[3];
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(u, 3, write: true, nofault: false, again)), Is.EqualTo(3), "now TLB hits for stores");
        Assert.That(again, Is.EqualTo(pages));
        Assert.That(pages.Select(m.Gup.PinCount), Is.All.EqualTo(2));
    }

    [Test]
    public void PinsAcrossThreeCountBlocks_AlternatingRanges_ExactCounts()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn();
        const ulong n = 1300;
        var u = p.MapAnonymous(n * Page);
        Assert.That(p.Fill(u, n * Page, _ => 4).Done, Is.EqualTo(n * Page));
        // k: a page whose frame is the last of a 512-frame block, followed by the block's successor's first frame.
        var k = Enumerable.Range(0, (int)n - 520).Select(i => (ulong)i)
            .First(i => PfnAt(p, u, i) % 512 == 511 && PfnAt(p, u, i + 1) == PfnAt(p, u, i) + 1 && PfnAt(p, u, i + 514) == PfnAt(p, u, i) + 514);
        var a = new ulong[6];
        var c = new ulong[2];
        var aStart = u + (k - 2) * Page; // frames in block b and b + 1
        var cStart = u + (k + 513) * Page; // frames in block b + 2
        for (var round = 1; round <= 3; round++)
        {
            Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(aStart, 6, write: false, nofault: false, a)), Is.EqualTo(6));
            Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(cStart, 2, write: false, nofault: false, c)), Is.EqualTo(2));
        }
        Assert.That(a.Select(pfn => pfn >> 9).Distinct().Count(), Is.EqualTo(2));
        Assert.That(c[0] >> 9, Is.EqualTo((a[0] >> 9) + 2));
        Assert.That(a.Concat(c).Select(m.Gup.PinCount), Is.All.EqualTo(3));
        Assert.That(m.Gup.PinCount(a[5] + 1), Is.Zero, "the frame after the range");
        m.Gup.UnpinUserPages(c);
        m.Gup.UnpinUserPages(a);
        m.Gup.UnpinUserPages(c);
        Assert.That(a.Select(m.Gup.PinCount), Is.All.EqualTo(2));
        Assert.That(c.Select(m.Gup.PinCount), Is.All.EqualTo(1));
    }

    [Test]
    public void PinUserPagesFast_RunOfHits_EachPageDmaPinned_UnpinUserPagesDropsTheFollPinFirst()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn();
        var u = p.MapAnonymous(4 * Page);
        Assert.That(p.Fill(u, 4 * Page, _ => 5).Done, Is.EqualTo(4 * Page));
        var pinned = new ulong[4];
        var got = new ulong[4];
        Assert.That(Run(m, p, () => m.Gup.PinUserPagesFast(u, 4, write: true, nofault: false, pinned)), Is.EqualTo(4));
        Assert.That(Run(m, p, () => m.Gup.GetUserPagesFast(u, 4, write: true, nofault: false, got)), Is.EqualTo(4));
        Assert.That(pinned.Select(m.Gup.PageMaybeDmaPinned), Is.All.True);
        Assert.That(pinned.Select(m.Gup.FollPinCount), Is.All.EqualTo(1));
        Assert.That(pinned.Select(m.Gup.PinCount), Is.All.EqualTo(1));
        m.Gup.UnpinUserPages(pinned);
        Assert.That(pinned.Select(m.Gup.FollPinCount), Is.All.EqualTo(0));
        Assert.That(pinned.Select(m.Gup.PinCount), Is.All.EqualTo(1), "the FOLL_PIN pin goes first");
        m.Gup.UnpinUserPages(got);
        Assert.That(pinned.Select(m.Gup.PinCount), Is.All.EqualTo(0));
    }
}
