using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>
/// <see cref="FramePool"/> beyond frame bytes: a released machine's struct pages (with their rmap lists), page-table
/// dictionaries and TLBs serve the next machine of the pool, which sees exactly what a machine without a pool sees, and
/// nothing of the released machine stays reachable from what the pool keeps.
/// </summary>
public class FramePoolStructPageTests
{
    private const int Pages = 3;

    /// <summary>A process with three anonymous pages written, a fork sharing them (rmap of two), one line poisoned.</summary>
    private static (Machine M, Process P, UserPtr Buf) Faulted(FramePool? pool)
    {
        var m = new MachineBuilder().WithFramePool(pool).Build();
        var p = m.Spawn("app");
        var buf = p.MapAnonymous(Pages * PageDefs.PAGE_SIZE);
        for (var i = 0; i < Pages; i++)
            Assert.That(p.Store(buf + (ulong)i * PageDefs.PAGE_SIZE + 5, [(byte)(i + 1)]).Done, Is.EqualTo(1UL));
        Assert.That(p.Fork(out var child), Is.GreaterThan(0));
        Assert.That(child, Is.Not.Null);
        var pfn = p.Mm.PfnAt(buf.Value)!.Value;
        Assert.That(m.Phys.InjectPoison(new PhysAddr((pfn << PageDefs.PAGE_SHIFT) + 128)), Is.Zero);
        return (m, p, buf);
    }

    /// <summary>Every struct page: pfn, flags, poison, mappings (address and whether the mm is the parent's).</summary>
    private static string StructPages(Machine m, Process p) => string.Join(' ', m.Phys.FramesInOrder().Select(f =>
        $"{f.Pfn:x}:{f.Flags}:{f.PoisonMask:x}:[{string.Join(',', f.Mappings.Select(x => $"{x.Va:x}{(ReferenceEquals(x.Mm, p.Mm) ? "p" : "c")}"))}]"));

    private static string PageTable(Process p, UserPtr buf) =>
        $"rss {p.Mm.ResidentPages} " + string.Join(' ', Enumerable.Range(0, Pages).Select(i => $"{p.Mm.PfnAt(buf.Value + (ulong)i * PageDefs.PAGE_SIZE):x}"));

    [Test]
    public void StructPagesOfAReleasedMachine_AreResetInThePool_AndServeTheNextMachineAsNewOnes()
    {
        var (fresh, fp, fbuf) = Faulted(null);
        var expectedPages = StructPages(fresh, fp);
        var expectedTable = PageTable(fp, fbuf);
        Assert.That(expectedPages, Is.EqualTo("100:PAGE_MAPPING_ANON:4:[7ffff7ffc000p,7ffff7ffc000c] 101:PAGE_MAPPING_ANON:0:[7ffff7ffd000p,7ffff7ffd000c] "
            + "102:PAGE_MAPPING_ANON:0:[7ffff7ffe000p,7ffff7ffe000c]"), "line 2 of the first page poisoned; the fork shares every page (two mappings)");

        var pool = new FramePool();
        var (a, ap, abuf) = Faulted(pool);
        Assert.That(StructPages(a, ap), Is.EqualTo(expectedPages));
        var released = a.Phys.FramesInOrder().ToList();
        var poisoned = released.Single(f => f.PoisonMask != 0);
        a.Dispose();
        Assert.That(poisoned.PoisonMask, Is.Zero, "reset when the pool took it");
        Assert.That(poisoned.Flags, Is.EqualTo(PageFlags.None));
        Assert.That(poisoned.MapCount, Is.Zero, "no mm of the released machine stays reachable");

        var (b, bp, bbuf) = Faulted(pool);
        Assert.That(StructPages(b, bp), Is.EqualTo(expectedPages), "the next machine's struct pages read as new ones");
        Assert.That(PageTable(bp, bbuf), Is.EqualTo(expectedTable));
        Assert.That(b.Phys.FramesInOrder().Count(f => released.Contains(f)), Is.EqualTo(Math.Min(released.Count, b.Phys.FramesInOrder().Count())),
            "every struct page b made came from the pool while it had some");
        b.Dispose();
    }

    [Test]
    public void AReleasedMachinesPageTable_GoesBackEmpty_AndTheNextMachinesTablesFillFromNothing()
    {
        var pool = new FramePool();
        var (a, ap, abuf) = Faulted(pool);
        // A 1 MiB buffer makes the parent's TLB grow to full size (the small one goes back to the pool at once).
        var big = ap.MapAnonymous(1 << 20);
        Assert.That(ap.Store(big, new byte[1 << 20]).Done, Is.EqualTo((ulong)(1 << 20)));
        a.Dispose();
        Assert.That(ap.Mm.ResidentPages, Is.Zero, "the released table kept no entry");
        Assert.That(ap.Mm.PfnAt(abuf.Value), Is.Null);

        var (fresh, fp, fbuf) = Faulted(null);
        var (b, bp, bbuf) = Faulted(pool);
        Assert.That(PageTable(bp, bbuf), Is.EqualTo(PageTable(fp, fbuf)), "no entry of a's tables shows through");
        var bigB = bp.MapAnonymous(1 << 20);
        var bigF = fp.MapAnonymous(1 << 20);
        var data = new byte[1 << 20];
        for (var i = 0; i < data.Length; i++) data[i] = (byte)(i * 31 + 7);
        Assert.That(bp.Store(bigB, data).Done, Is.EqualTo((ulong)data.Length));
        Assert.That(fp.Store(bigF, data).Done, Is.EqualTo((ulong)data.Length));
        var backB = new byte[data.Length];
        var backF = new byte[data.Length];
        Assert.That(bp.Load(bigB, backB).Done, Is.EqualTo((ulong)data.Length));
        Assert.That(fp.Load(bigF, backF).Done, Is.EqualTo((ulong)data.Length));
        Assert.That(backB, Is.EqualTo(data));
        Assert.That(backF, Is.EqualTo(data));
        Assert.That(bp.Mm.ResidentPages, Is.EqualTo(fp.Mm.ResidentPages));
        Assert.That(StructPages(b, bp), Is.EqualTo(StructPages(fresh, fp)));
        b.Dispose();
    }

    /// <summary>A ramfs file of 70 pages (two xarray leaves) cached, one page made dirty by a write, then read back whole.</summary>
    private static (Machine M, RamFs Fs, string Seen) PageCache(FramePool? pool)
    {
        var m = new MachineBuilder().WithFramePool(pool).Build();
        var fs = RamFs.Mount(m);
        var data = new byte[70 * (int)PageDefs.PAGE_SIZE];
        for (var i = 0; i < data.Length; i++) data[i] = (byte)(i * 11 + 1);
        fs.CreateWithData("f", data);
        var p = m.Spawn("app");
        var buf = p.MapAnonymous((ulong)data.Length);
        var fd = (int)p.Open(fs.PathOf("f"), Fcntl.O_RDWR);
        Assert.That(p.Store(buf, [0xEE, 0xEF]).Done, Is.EqualTo(2UL));
        Assert.That(p.Pwrite64(fd, buf, 2, 65 * (long)PageDefs.PAGE_SIZE + 3), Is.EqualTo(2));
        Assert.That(p.Pread64(fd, buf, (ulong)data.Length, 0), Is.EqualTo(data.Length));
        var back = new byte[data.Length];
        p.Load(buf, back);
        data[65 * PageDefs.PAGE_SIZE + 3] = 0xEE;
        data[65 * PageDefs.PAGE_SIZE + 4] = 0xEF;
        Assert.That(back, Is.EqualTo(data), "what the file holds after the write");
        var folios = fs.Lookup("f")!.Mapping!.Folios.ToList();
        var seen = $"nrpages {fs.Lookup("f")!.Mapping!.NrPages} " + string.Join(' ', folios.Select(f =>
            $"{f.Index}:{f.Pfn:x}:{(f.Uptodate ? "u" : "")}{(f.Dirty ? "d" : "")}:{(ReferenceEquals(m.Phys.Frame(f.Pfn).CacheFolio, f) ? "c" : "-")}"));
        return (m, fs, seen);
    }

    [Test]
    public void FoliosAndXarrayLeavesOfAReleasedMachine_ServeTheNextMachinesPageCacheAsNewOnes()
    {
        var (_, _, expected) = PageCache(null);
        Assert.That(expected, Does.StartWith("nrpages 70 0:"));
        var tokens = expected.Split(' ').Skip(2).ToList();
        Assert.That(tokens.Count(t => t.EndsWith(":u:c")), Is.EqualTo(69), "every folio uptodate and its frame's, clean but one");
        Assert.That(tokens[65], Does.StartWith("65:").And.EndWith(":ud:c"), "the written page is dirty");

        var pool = new FramePool();
        var (a, afs, aseen) = PageCache(pool);
        Assert.That(aseen, Is.EqualTo(expected));
        var released = afs.Lookup("f")!.Mapping!.Folios.ToList();
        var mapping = afs.Lookup("f")!.Mapping!;
        a.Dispose();
        Assert.That(mapping.NrPages, Is.Zero, "the released page cache gave its leaves and folios back");
        Assert.That(released.All(f => f.Mapping == null && !f.Uptodate && !f.Dirty), Is.True, "each folio reset when the pool took it");

        var (b, bfs, bseen) = PageCache(pool);
        Assert.That(bseen, Is.EqualTo(expected), "the next machine's page cache reads as a new one");
        Assert.That(bfs.Lookup("f")!.Mapping!.Folios.Where(f => !released.Contains(f)).Select(f => f.Index), Is.Empty, "its folios came from the pool");
        b.Dispose();
    }
}
