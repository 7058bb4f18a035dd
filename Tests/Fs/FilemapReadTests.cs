using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Fs;

/// <summary>read(2) through filemap_read (F5, WE16).</summary>
public class FilemapReadTests
{
    private static byte[] FileBytes(int n)
    {
        var b = new byte[n];
        for (var k = 0; k < n; k++) b[k] = (byte)(k * 13 + 1);
        return b;
    }

    [TestCase("5.10")]
    [TestCase("5.16")]
    [TestCase("6.12")]
    [TestCase("6.15")]
    public void WE16_ReadIntoBufferWithHole_Returns6144_ThenEfault(string kernel)
    {
        var s = new FsScenario(kernel);
        s.UnmapPage(2);
        var data = FileBytes(12288);
        s.Fs.CreateWithData("f", data);
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);
        Assert.That(s.P.Read(fd, s.U + 0x800UL, 8192), Is.EqualTo(6144));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(6144));
        Assert.That(s.UserBytes(s.U + 0x800UL, 6144), Is.EqualTo(data[..6144]));
        Assert.That(s.UserBytes(s.U, 0x800), Is.EqualTo(FsScenario.PatternBytes(0, 0x800)), "bytes before the buffer untouched");
        // The caller retries with the rest of its buffer: nothing can be copied.
        Assert.That(s.P.Read(fd, s.U + 0x2000UL, 2048), Is.EqualTo(-Errno.EFAULT));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(6144));
        Assert.That(s.P.AllSignals, Is.Empty);
    }

    [Test]
    public void Read_StopsAtEndOfFile_ThenReturnsZero()
    {
        var s = new FsScenario("6.12");
        var data = FileBytes(5000);
        s.Fs.CreateWithData("f", data);
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);
        Assert.That(s.P.Read(fd, s.U, 8192), Is.EqualTo(5000));
        Assert.That(s.UserBytes(s.U, 5000), Is.EqualTo(data));
        Assert.That(s.UserBytes(s.U + 5000UL, 100), Is.EqualTo(FsScenario.PatternBytes(5000, 100)), "tail untouched");
        Assert.That(s.P.Read(fd, s.U, 8192), Is.EqualTo(0));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(5000));
    }

    [Test]
    public void Pread64_DoesNotMoveFilePosition_AndReadsHolesAsZero()
    {
        var s = new FsScenario("6.12");
        var fd = s.OpenNew();
        // A sparse file: 10 bytes at 8192, nothing cached below.
        Assert.That(s.P.Pwrite64(fd, s.U, 10, 8192), Is.EqualTo(10));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(0));
        Assert.That(s.Fs.Lookup("f")!.Size, Is.EqualTo(8202));
        Assert.That(s.P.Pread64(fd, s.U + 0x1000UL, 100, 4090), Is.EqualTo(100));
        Assert.That(s.UserBytes(s.U + 0x1000UL, 100), Is.All.EqualTo((byte)0));
        Assert.That(s.P.Pread64(fd, s.U + 0x1000UL, 100, 8190), Is.EqualTo(12));
        var got = s.UserBytes(s.U + 0x1000UL, 12);
        Assert.That(got[..2], Is.All.EqualTo((byte)0));
        Assert.That(got[2..], Is.EqualTo(FsScenario.PatternBytes(0, 10)));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(0));
    }
}
