using KernelSim.Fs;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.FsDax;
using KernelSim.Uapi;

namespace KernelSim.Tests.Fs;

/// <summary>
/// filemap_read copies a run of uptodate folios on neighbouring frames at once only when every page copy of it would
/// have copied all its bytes with nothing in between. Each case runs without tracing (runs allowed) and with it (the
/// page-by-page path, frame by frame): the outcome is the same.
/// </summary>
public class FilemapRunCopyTests
{
    private const int Ps = (int)PageDefs.PAGE_SIZE;

    private static byte[] FileBytes(int n)
    {
        var b = new byte[n];
        for (var k = 0; k < n; k++) b[k] = (byte)(k * 13 + 1);
        return b;
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ReadIntoASharedMappingOfTheSameFile_CopiesPageAfterPage(bool trace)
    {
        const int pages = 6;
        var s = new DaxScenario("6.12", DaxMode.Never, trace: trace);
        var fd = s.CreateFile("f", pages * Ps);
        var a = s.MapFile(fd, pages * Ps, Mman.PROT_READ | Mman.PROT_WRITE);
        var file = DaxScenario.DataBytes(0, pages * Ps);
        for (var k = 0; k < pages; k++)
        {
            // Tell the pages apart (Data repeats every page) and make every PTE writable and dirty.
            file[k * Ps] = (byte)(0xA0 + k);
            Assert.That(s.P.Store(a + (ulong)(k * Ps), [file[k * Ps]]).Done, Is.EqualTo(1UL));
        }
        // Two folios k, k+1 on neighbouring frames (a run), read into the mapping of folios k+1, k+2.
        var first = Enumerable.Range(0, pages - 2).First(k => s.P.Mm.PfnAt(a.Value + (ulong)((k + 1) * Ps)) == s.P.Mm.PfnAt(a.Value + (ulong)(k * Ps)) + 1);

        Assert.That(s.P.Pread64(fd, a + (ulong)((first + 1) * Ps), 2 * Ps, first * Ps), Is.EqualTo(2 * Ps));

        // Folio k is copied into folio k+1, then folio k+1 (by then folio k's bytes) into folio k+2.
        var expected = file.ToArray();
        file.AsSpan(first * Ps, Ps).CopyTo(expected.AsSpan((first + 1) * Ps));
        file.AsSpan(first * Ps, Ps).CopyTo(expected.AsSpan((first + 2) * Ps));
        Assert.That(s.UserBytes(a, pages * Ps), Is.EqualTo(expected));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void PoisonedLineInTheThirdFolio_PanicsAfterCopyingUpToIt(bool trace)
    {
        var s = new FsScenario("6.12", pages: 4, trace: trace);
        var data = FileBytes(4 * Ps);
        var inode = s.Fs.CreateWithData("f", data);
        Assert.That(inode.Mapping!.Find(2)!.Pfn, Is.EqualTo(inode.Mapping.Find(0)!.Pfn + 2), "the folios sit on neighbouring frames");
        Assert.That(s.M.InjectPoison(PhysAddr.FromPfn(inode.Mapping.Find(2)!.Pfn) + 0x340UL), Is.EqualTo(0));
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);

        Assert.That(s.P.Read(fd, s.U, 4 * Ps), Is.EqualTo(Machine.NoReturn));

        Assert.That(s.M.State.PanicMessage, Is.EqualTo("Fatal local machine check: Data load in unrecoverable area of kernel"));
        Assert.That(s.UserBytes(s.U, 2 * Ps + 0x340), Is.EqualTo(data[..(2 * Ps + 0x340)]), "folios 0 and 1, then folio 2 up to the line");
        Assert.That(s.UserBytes(s.U + (ulong)(2 * Ps + 0x340), 2 * Ps - 0x340), Is.EqualTo(FsScenario.PatternBytes(2 * Ps + 0x340, 2 * Ps - 0x340)));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void UnmappedDestinationPageInTheMiddle_TheReadStopsBeforeIt(bool trace)
    {
        var s = new FsScenario("6.12", pages: 4, trace: trace);
        s.UnmapPage(2);
        var data = FileBytes(4 * Ps);
        s.Fs.CreateWithData("f", data);
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);

        Assert.That(s.P.Pread64(fd, s.U + 0x100UL, 4 * Ps - 0x100, 0), Is.EqualTo(2 * Ps - 0x100));

        Assert.That(s.UserBytes(s.U + 0x100UL, 2 * Ps - 0x100), Is.EqualTo(data[..(2 * Ps - 0x100)]));
        Assert.That(s.UserBytes(s.U, 0x100), Is.EqualTo(FsScenario.PatternBytes(0, 0x100)), "bytes before the buffer untouched");
        Assert.That(s.UserBytes(s.U + (ulong)(3 * Ps), Ps), Is.EqualTo(FsScenario.PatternBytes(3 * Ps, Ps)), "the page after the hole untouched");
        Assert.That(s.P.AllSignals, Is.Empty);
    }
}
