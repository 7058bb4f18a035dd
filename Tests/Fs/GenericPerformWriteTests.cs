using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Fs;

/// <summary>
/// write(2) through generic_perform_write on a page-cache filesystem in each of its forms (F1–F4, WE14,
/// WE15): where a fault in the user source stops the write, per release and write_end policy.
/// </summary>
public class GenericPerformWriteTests
{
    [TestCase("5.13", 4096)]
    [TestCase("5.15", 4096)]
    [TestCase("5.16", 4096)]
    [TestCase("5.17", 4096)]
    [TestCase("5.19", 6144)]
    [TestCase("6.12", 6144)]
    [TestCase("6.15", 6144)]
    public void WE14_Write8192FromU800_ThirdPageUnmapped_WritesUpToTheHole(string kernel, long expected)
    {
        var s = new FsScenario(kernel, WriteEndPolicy.Block);
        s.UnmapPage(2);
        var fd = s.OpenNew();
        var r = s.P.Write(fd, s.U + 0x800UL, 8192);
        Assert.That(r, Is.EqualTo(expected));
        var inode = s.Fs.Lookup("f")!;
        Assert.That(inode.Size, Is.EqualTo(expected));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(expected));
        Assert.That(s.Fs.ReadData("f"), Is.EqualTo(FsScenario.PatternBytes(0x800, (int)expected)));
        Assert.That(s.P.SignalsPending, Is.Empty);
        Assert.That(s.P.AllSignals, Is.Empty);
    }

    [TestCase("6.12")]
    [TestCase("6.15")]
    [TestCase("5.15")]
    public void WE14_SimpleWriteEnd_SameResultAsBlockWriteEnd(string kernel)
    {
        var s = new FsScenario(kernel, WriteEndPolicy.Simple);
        s.UnmapPage(2);
        var fd = s.OpenNew();
        var r = s.P.Write(fd, s.U + 0x800UL, 8192);
        Assert.That(r, Is.EqualTo(kernel == "5.15" ? 4096 : 6144));
        Assert.That(s.Fs.ReadData("f"), Is.EqualTo(FsScenario.PatternBytes(0x800, (int)r)));
    }

    [TestCase("5.13", -14L)]
    [TestCase("5.15", -14L)]
    [TestCase("5.16", -14L)]
    [TestCase("5.17", -14L)]
    [TestCase("5.19", 1L)]
    [TestCase("6.12", 1L)]
    [TestCase("6.15", 1L)]
    public void WE15_WriteTwoBytesAcrossIntoUnmappedPage_OneByteOrEfault(string kernel, long expected)
    {
        foreach (var policy in new[] { WriteEndPolicy.Block, WriteEndPolicy.Simple })
        {
            var s = new FsScenario(kernel, policy, pages: 2);
            s.UnmapPage(1);
            var fd = s.OpenNew();
            var r = s.P.Write(fd, s.U + 4095UL, 2);
            Assert.That(r, Is.EqualTo(expected), $"{policy}");
            var n = Math.Max(expected, 0);
            Assert.That(s.Fs.Lookup("f")!.Size, Is.EqualTo(n), $"{policy}");
            Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(n), $"{policy}");
            Assert.That(s.Fs.ReadData("f"), Is.EqualTo(FsScenario.PatternBytes(4095, (int)n)), $"{policy}");
        }
    }

    [TestCase("5.13")]
    [TestCase("5.16")]
    [TestCase("6.12")]
    [TestCase("6.15")]
    public void Write_SourceStartsOnUnmappedPage_Efault_NothingWritten(string kernel)
    {
        var s = new FsScenario(kernel, WriteEndPolicy.Block, pages: 2);
        s.UnmapPage(0);
        var fd = s.OpenNew();
        Assert.That(s.P.Write(fd, s.U, 100), Is.EqualTo(-Errno.EFAULT));
        Assert.That(s.Fs.Lookup("f")!.Size, Is.EqualTo(0));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(0));
    }

    [TestCase("6.12")]
    [TestCase("6.15")]
    [TestCase("5.13")]
    public void Write_AllMapped_WritesEverything_AtUnalignedPosition(string kernel)
    {
        var s = new FsScenario(kernel, WriteEndPolicy.Block);
        var fd = s.OpenNew();
        Assert.That(s.P.Lseek(fd, 100, Fcntl.SEEK_SET), Is.EqualTo(100));
        Assert.That(s.P.Write(fd, s.U + 5UL, 9000), Is.EqualTo(9000));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(9100));
        var data = s.Fs.ReadData("f");
        Assert.That(data, Has.Length.EqualTo(9100));
        Assert.That(data[..100], Is.All.EqualTo((byte)0), "zero-filled head of the new page");
        Assert.That(data[100..], Is.EqualTo(FsScenario.PatternBytes(5, 9000)));
        Assert.That(s.Fs.Lookup("f")!.Mapping!.NrPages, Is.EqualTo(3));
    }

    [TestCase("6.12")]
    [TestCase("6.15")]
    public void Write_Traced_ShowsGenericPerformWriteAndWriteEndRejection(string kernel)
    {
        var s = new FsScenario(kernel, WriteEndPolicy.Block, trace: true);
        s.UnmapPage(2);
        var fd = s.OpenNew();
        s.M.Tracer.Clear();
        Assert.That(s.P.Write(fd, s.U + 0x800UL, 8192), Is.EqualTo(6144));
        var text = s.M.TraceText();
        Assert.That(text, Does.Contain("generic_perform_write"));
        Assert.That(text, Does.Contain("block_write_end"));
        Assert.That(text, Does.Contain("accepted 0 of 2048 copied"));
    }
}
