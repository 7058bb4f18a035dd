using KernelSim.Mm;

namespace KernelSim.Tests.Fs;

/// <summary>RamFs.ReadData into a caller's buffer (a campaign's final check reuses one): the same bytes as the array form.</summary>
public class RamFsReadDataSpanTests
{
    [Test]
    public void ReadDataIntoStaleBuffer_HoleReadsZeros_PartialLastPageCopied_TailOfBufferUntouched()
    {
        var s = new FsScenario("6.12");
        var fd = s.OpenNew();
        // Bytes 0..99 of page 0, a hole at page 1, bytes 8292..8391 of page 2: i_size 8392.
        Assert.That(s.P.Pwrite64(fd, s.U, 100, 0), Is.EqualTo(100));
        Assert.That(s.P.Pwrite64(fd, s.U + 0x1000UL, 100, 2 * 4096 + 100), Is.EqualTo(100));
        var inode = s.Fs.Lookup("f")!;
        Assert.That(inode.Size, Is.EqualTo(8392));
        Assert.That(inode.Mapping!.Find(1), Is.Null, "page 1 is a hole");

        var buffer = new byte[9000];
        Array.Fill(buffer, (byte)0xEE);
        s.Fs.ReadData(inode, buffer.AsSpan(0, (int)inode.Size));

        Assert.That(buffer[..8392], Is.EqualTo(s.Fs.ReadData("f")));
        Assert.That(buffer[..100], Is.EqualTo(FsScenario.PatternBytes(0, 100)));
        Assert.That(buffer[100..8292].All(b => b == 0), Is.True, "the rest of page 0 and the hole read as zeros");
        Assert.That(buffer[8292..8392], Is.EqualTo(FsScenario.PatternBytes(0x1000, 100)));
        Assert.That(buffer[8392..].All(b => b == 0xEE), Is.True, "past i_size nothing is written");
    }

    [Test]
    public void ReadDataIntoShorterBuffer_CopiesOnlyTheHead()
    {
        var s = new FsScenario("6.12");
        var fd = s.OpenNew();
        Assert.That(s.P.Pwrite64(fd, s.U, 3 * PageDefs.PAGE_SIZE, 0), Is.EqualTo(3 * (long)PageDefs.PAGE_SIZE));
        var buffer = new byte[5000];
        s.Fs.ReadData(s.Fs.Lookup("f")!, buffer);
        Assert.That(buffer, Is.EqualTo(FsScenario.PatternBytes(0, 5000)));
    }
}
