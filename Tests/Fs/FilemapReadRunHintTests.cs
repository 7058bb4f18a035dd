using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Fs;

/// <summary>
/// filemap_read's walk of the folios after the one at ki_pos (Filemap.ReadRun) skips the folios a previous walk found
/// when the mapping has not changed since (<see cref="AddressSpace.KnownRunAfter"/>). Each test reads a file once (the
/// run is remembered), changes the cache in the middle of the run, and reads again: the second read sees the change.
/// </summary>
public class FilemapReadRunHintTests
{
    private const int Ps = (int)PageDefs.PAGE_SIZE;
    private const int Pages = 8;

    private static byte[] FileBytes(int n, int seed)
    {
        var b = new byte[n];
        for (var k = 0; k < n; k++) b[k] = (byte)(k * 13 + seed);
        return b;
    }

    [Test]
    public void ReadTwice_AFolioLosesUptodateInBetween_TheSecondReadGetsItFromReadFolio()
    {
        var s = new FsScenario("6.12", pages: Pages);
        var data = FileBytes(Pages * Ps, 1);
        var inode = s.Fs.CreateWithData("f", data);
        var mapping = inode.Mapping!;
        Assert.That(mapping.Find(Pages - 1)!.Pfn, Is.EqualTo(mapping.Find(0)!.Pfn + Pages - 1), "the folios sit on neighbouring frames");
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);
        Assert.That(s.P.Pread64(fd, s.U, Pages * Ps, 0), Is.EqualTo(Pages * Ps));
        Assert.That(mapping.KnownRunAfter(mapping.Find(0)!), Is.EqualTo((ulong)Pages - 1));

        mapping.Find(5)!.ClearUptodate();
        Assert.That(mapping.KnownRunAfter(mapping.Find(0)!), Is.Zero);
        Assert.That(s.P.Pread64(fd, s.U + 0x80UL, Pages * Ps - 0x100, 0x80), Is.EqualTo(Pages * Ps - 0x100));

        // ramfs's ->read_folio zeroes a folio that is not uptodate: page 5 reads as zeros, the others as before.
        var expected = data.ToArray();
        Array.Clear(expected, 5 * Ps, Ps);
        Assert.That(s.UserBytes(s.U + 0x80UL, Pages * Ps - 0x100), Is.EqualTo(expected[0x80..(Pages * Ps - 0x80)]));
        Assert.That(s.UserBytes(s.U + (ulong)(Pages * Ps - 0x80), 0x80), Is.EqualTo(data[(Pages * Ps - 0x80)..]), "the tail keeps the first read");
    }

    [Test]
    public void ReadTwice_FileRewrittenInBetween_TheSecondReadGetsTheNewBytes()
    {
        var s = new FsScenario("6.12", pages: Pages);
        var inode = s.Fs.CreateWithData("f", FileBytes(Pages * Ps, 1));
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);
        Assert.That(s.P.Pread64(fd, s.U, Pages * Ps, 0), Is.EqualTo(Pages * Ps));
        Assert.That(inode.Mapping!.KnownRunAfter(inode.Mapping.Find(2)!), Is.EqualTo((ulong)Pages - 3), "a folio inside the run knows the rest");

        var data = FileBytes(Pages * Ps, 77);
        s.Fs.CreateWithData("f", data); // truncates the cache and fills new folios
        Assert.That(inode.Mapping.KnownRunAfter(inode.Mapping.Find(0)!), Is.Zero);
        Assert.That(s.P.Pread64(fd, s.U, Pages * Ps, 0), Is.EqualTo(Pages * Ps));
        Assert.That(s.UserBytes(s.U, Pages * Ps), Is.EqualTo(data));
    }

    [Test]
    public void ReadShorterThanTheRememberedRun_CopiesExactlyTheRequestedBytes()
    {
        var s = new FsScenario("6.12", pages: Pages);
        var data = FileBytes(Pages * Ps, 3);
        s.Fs.CreateWithData("f", data);
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);
        Assert.That(s.P.Pread64(fd, s.U, Pages * Ps, 0), Is.EqualTo(Pages * Ps));
        Assert.That(s.P.Pread64(fd, s.U + 0x10UL, 3 * Ps + 0x123, Ps + 0x40), Is.EqualTo(3 * Ps + 0x123));
        Assert.That(s.UserBytes(s.U + 0x10UL, 3 * Ps + 0x123), Is.EqualTo(data[(Ps + 0x40)..(4 * Ps + 0x163)]));
        Assert.That(s.UserBytes(s.U + (ulong)(3 * Ps + 0x133), Pages * Ps - (3 * Ps + 0x133)), Is.EqualTo(data[(3 * Ps + 0x133)..]), "the tail keeps the first read");
    }
}
