using KernelSim.Fs.Dax;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>Worked scenarios S1, S2, S3, S6 and S16 (docs/kernel/fsdax.md): fsdax reads of latent and known poison.</summary>
public class ReadScenarioTests
{
    private const long FileLen = 64 * 1024;

    [TestCase("6.12")]
    [TestCase("6.4")]
    [TestCase("5.10")]
    public void S1_PreadAcrossLatentPoisonedLine_Returns4160_NoSignal_NfitRecordsSector(string kernel)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        Assert.That(s.Fs.Fiemap("F"), Has.Count.EqualTo(1), "one extent covers the request");
        s.PoisonFile("F", 4160);
        var badBefore = s.Pmem.Disk.BadblocksShow();

        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(4160));

        Assert.That(s.UserBytes(s.U, 4160), Is.EqualTo(DaxScenario.DataBytes(0, 4160)), "copied prefix");
        Assert.That(s.UserBytes(s.U + 4160UL, 8192 - 4160), Is.EqualTo(DaxScenario.Filled(8192 - 4160)), "untouched tail");
        Assert.That(s.P.AllSignals, Is.Empty);
        Assert.That(s.M.MemoryFailure.PoisonedPages, Is.Zero, "no memory_failure");
        Assert.That(s.M.Phys.Frame(s.PhysOf("F", 4096).Pfn).IsHwPoison, Is.False);
        Assert.That(badBefore, Is.Empty);
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.EqualTo($"{s.Fs.SectorOf("F", 4096)} 1\n"), "nfit_handle_mce recorded the sector");
    }

    [Test]
    public void S1_ReadAdvancesFilePositionTo4160()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Lseek(fd, 0, Fcntl.SEEK_SET), Is.Zero);
        Assert.That(s.P.Read(fd, s.U, 8192), Is.EqualTo(4160));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(4160));
    }

    [TestCase("6.12", Errno.EIO)]
    [TestCase("6.4", Errno.EIO)]
    public void S2_PreadAtThePoisonAfterNfitUpdate_Eio(string kernel, int errno)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(4160));
        Assert.That(s.P.Pread64(fd, s.U + 8192UL, 4096, 4160), Is.EqualTo(-errno));
        Assert.That(s.UserBytes(s.U + 8192UL, 4096), Is.EqualTo(DaxScenario.Filled(4096)));
    }

    [TestCase("6.12")]
    [TestCase("5.10")]
    public void S2_PreadAtThePoisonWithoutNfit_Efault_AndTheMediaIsReadAgain(string kernel)
    {
        var s = new DaxScenario(kernel, legacyE820: true);
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(4160));
        var mcs = s.M.Mce.Log.Count;
        Assert.That(s.P.Pread64(fd, s.U + 8192UL, 4096, 4160), Is.EqualTo(-Errno.EFAULT));
        Assert.That(s.M.Mce.Log.Count, Is.EqualTo(mcs + 1), "the poison was consumed again");
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.Empty, "legacy e820 pmem never learns about it");
    }

    [TestCase("6.12")]
    [TestCase("5.19")]
    [TestCase("5.10")]
    public void S3_KnownBadSector_WholeChunkRefused_PageGranular(string kernel)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        s.MarkBad("F", 4096);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(-Errno.EIO), "no short read although page 0 is good");
        Assert.That(s.UserBytes(s.U, 8192), Is.EqualTo(DaxScenario.Filled(8192)));
        Assert.That(s.P.Pread64(fd, s.U, 4096, 0), Is.EqualTo(4096));
        Assert.That(s.UserBytes(s.U, 4096), Is.EqualTo(DaxScenario.DataBytes(0, 4096)));
        Assert.That(s.P.Pread64(fd, s.U + 4096UL, 64, 4096), Is.EqualTo(-Errno.EIO), "bytes 4096–4159 are fine but the page is refused");
        Assert.That(s.P.Pread64(fd, s.U + 4096UL, 4096, 4608), Is.EqualTo(-Errno.EIO));
        Assert.That(s.M.Mce.Log, Is.Empty, "known poison is never touched");
    }

    [Test]
    public void S3_PagesInDifferentExtents_Returns4096()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", 4096);
        var other = s.CreateFile("G", 4096); // takes the block after F's first one
        s.WriteData(fd, 4096, 4096);
        Assert.That(s.Fs.Fiemap("F"), Has.Count.EqualTo(2), "page 0 and page 1 are separate extents");
        s.MarkBad("F", 4096);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(4096));
        Assert.That(s.UserBytes(s.U, 4096), Is.EqualTo(DaxScenario.DataBytes(0, 4096)));
        Assert.That(s.UserBytes(s.U + 4096UL, 4096), Is.EqualTo(DaxScenario.Filled(4096)));
        Assert.That(other, Is.GreaterThan(fd));
    }

    [TestCase(false, Errno.EIO)]
    [TestCase(true, Errno.EFAULT)]
    public void S6_UnalignedStartJustBeforeThePoison_Returns10_ThenTheNextReadFails(bool legacyE820, int errno)
    {
        var s = new DaxScenario("6.12", legacyE820: legacyE820);
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Pread64(fd, s.U, 100, 4150), Is.EqualTo(10));
        Assert.That(s.UserBytes(s.U, 10), Is.EqualTo(DaxScenario.DataBytes(4150, 10)));
        Assert.That(s.UserBytes(s.U + 10UL, 90), Is.EqualTo(DaxScenario.Filled(90)));
        Assert.That(s.P.Pread64(fd, s.U, 100, 4160), Is.EqualTo(-errno));
    }

    [TestCase("4.17")]
    [TestCase("4.14")]
    public void S16_Kernel417_LatentPoisonInDaxRead_Panics(string kernel)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(KernelSim.Kernel.Machine.NoReturn));
        Assert.That(s.M.State.Alive, Is.False);
        Assert.That(s.M.State.PanicMessage, Does.Contain("machine check"));
    }

    [TestCase("4.18", "fragile", 4160L)]
    [TestCase("5.10", "erms", 4160L)]
    [TestCase("5.10", "fragile", 4160L)]
    public void S16_McsafeEras_ShortRead(string kernel, string cpu, long expected)
    {
        Assert.That(KernelSim.Profiles.CpuModel.TryGet(cpu, out var model), Is.True);
        var s = new DaxScenario(kernel, cpu: model);
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(expected));
        Assert.That(s.M.State.Alive, Is.True);
    }

    [Test]
    public void S16_Kernel418_WithoutTheMcsafeOptIn_Panics()
    {
        var s = new DaxScenario("4.18", cpu: KernelSim.Profiles.CpuModel.Plain);
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(KernelSim.Kernel.Machine.NoReturn));
        Assert.That(s.M.State.Alive, Is.False);
    }
}
