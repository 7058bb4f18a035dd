using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>Worked scenarios S9, S11, S12 and S18 (docs/kernel/fsdax.md): writes and zeroing over poison, and copy-in from poisoned user memory.</summary>
public class WriteScenarioTests
{
    private const long FileLen = 64 * 1024;

    private static UserPtr Source(DaxScenario s, int pages, byte seed)
    {
        var src = s.P.MapAnonymous((ulong)pages * 4096);
        Assert.That(s.P.Fill(src, (ulong)pages * 4096, i => (byte)(i * 3 + seed)).Done, Is.EqualTo((ulong)pages * 4096));
        return src;
    }

    private static byte[] SourceBytes(long from, int len, byte seed)
    {
        var b = new byte[len];
        for (var k = 0; k < len; k++) b[k] = (byte)((from + k) * 3 + seed);
        return b;
    }

    private static byte[] FileBytes(DaxScenario s, string name, long off, int len)
    {
        var b = new byte[len];
        s.M.Phys.PeekBytes(s.PhysOf(name, off), b);
        return b;
    }

    [TestCase("6.12")]
    [TestCase("5.19")]
    public void S9a_PwriteWholeKnownBadPage_RecoveryWrite_Returns4096_BadblocksCleared(string kernel)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        s.MarkBad("F", 4096);
        var src = Source(s, 1, 1);
        Assert.That(s.P.Pwrite64(fd, src, 4096, 4096), Is.EqualTo(4096));
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.Empty);
        Assert.That(FileBytes(s, "F", 4096, 4096), Is.EqualTo(SourceBytes(0, 4096, 1)));
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(8192), "readable again");
    }

    [TestCase("5.18")]
    [TestCase("5.10")]
    public void S9_BeforeRecoveryWrite_PwriteOverKnownBadPage_Eio(string kernel)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        s.MarkBad("F", 4096);
        var src = Source(s, 1, 1);
        Assert.That(s.P.Pwrite64(fd, src, 4096, 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.P.Pwrite64(fd, src, 512, 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(FileBytes(s, "F", 4096, 4096), Is.EqualTo(DaxScenario.DataBytes(4096, 4096)), "nothing written");
    }

    [Test]
    public void S9b_SubPageWriteOverKnownBadPage_Efault()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", FileLen);
        var sector = s.MarkBad("F", 4096);
        var src = Source(s, 1, 1);
        Assert.That(s.P.Pwrite64(fd, src, 512, 4096), Is.EqualTo(-Errno.EFAULT));
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.EqualTo($"{sector} 1\n"));
        Assert.That(FileBytes(s, "F", 4096, 512), Is.EqualTo(DaxScenario.DataBytes(4096, 512)));
    }

    [Test]
    public void S9c_BadSectorS9_Pwrite8192At0_OneAlignedRecoveryWrite_Returns8192()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", FileLen);
        s.MarkBad("F", 9 * 512);
        var src = Source(s, 2, 7);
        Assert.That(s.P.Pwrite64(fd, src, 8192, 0), Is.EqualTo(8192));
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.Empty);
        Assert.That(FileBytes(s, "F", 0, 8192), Is.EqualTo(SourceBytes(0, 8192, 7)));
    }

    [Test]
    public void S9d_Pwrite6000At100_S8Bad_ShortWrite3996()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", FileLen);
        s.MarkBad("F", 8 * 512);
        var src = Source(s, 2, 9);
        Assert.That(s.P.Pwrite64(fd, src, 6000, 100), Is.EqualTo(3996));
        Assert.That(FileBytes(s, "F", 100, 3996), Is.EqualTo(SourceBytes(0, 3996, 9)));
        Assert.That(FileBytes(s, "F", 4096, 2004), Is.EqualTo(DaxScenario.DataBytes(4096, 2004)), "the bad page is untouched");
    }

    [Test]
    public void S9d_Pwrite6000At100_S9Bad_NothingWritten_Efault()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", FileLen);
        s.MarkBad("F", 9 * 512);
        var src = Source(s, 2, 9);
        Assert.That(s.P.Pwrite64(fd, src, 6000, 100), Is.EqualTo(-Errno.EFAULT));
        Assert.That(FileBytes(s, "F", 0, 8192), Is.EqualTo(DaxScenario.DataBytes(0, 8192)));
    }

    [TestCase("6.12")]
    [TestCase("5.10")]
    public void S11_LatentPoisonWriteThroughDax_Returns4096_NoMachineCheck(string kernel)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        var src = Source(s, 1, 4);
        Assert.That(s.P.Pwrite64(fd, src, 4096, 4096), Is.EqualTo(4096));
        Assert.That(s.M.Mce.Log, Is.Empty, "non-temporal stores raise no machine check");
        Assert.That(s.P.AllSignals, Is.Empty);
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.Empty);
    }

    [TestCase("6.12")]
    [TestCase("5.16")]
    public void S12_WriteFromPoisonedAnonymousBuffer_Returns4096_NoSignal_LaterLoadGetsExactSigbus(string kernel)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        var src = Source(s, 2, 5);
        var pfn = s.P.Mm.PfnAt(src.Value + 4096)!.Value;
        Assert.That(s.M.InjectPoison(PhysAddr.FromPfn(pfn)), Is.Zero);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);

        Assert.That(s.P.Pwrite64(fd, src, 8192, 0), Is.EqualTo(4096));

        Assert.That(s.P.AllSignals, Is.Empty, "kill_me_never");
        Assert.That(FileBytes(s, "F", 0, 4096), Is.EqualTo(SourceBytes(0, 4096, 5)));
        Assert.That(FileBytes(s, "F", 4096, 4096), Is.EqualTo(DaxScenario.DataBytes(4096, 4096)));
        Assert.That(s.P.LoadByte(src + 4096UL + 5, out _).Signal,
            Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, src.Value + 4096 + 5, 12, Forced: true)));
    }

    [TestCase("5.15")]
    public void S12_Kernels510To515_AlsoSigbusAtTheBufferAddress(string kernel)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        var src = Source(s, 2, 5);
        Assert.That(s.M.InjectPoison(PhysAddr.FromPfn(s.P.Mm.PfnAt(src.Value + 4096)!.Value)), Is.Zero);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.Pwrite64(fd, src, 8192, 0), Is.EqualTo(4096));
        Assert.That(s.P.SignalsReceived, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, src.Value + 4096, 12, Forced: true) }));
    }

    [Test]
    public void S12_Kernel510_CopyUserNocacheTailRetry_SecondMachineCheck_TaskWorkLoops()
    {
        // 5.10–5.14: the tail retry of __copy_user_nocache consumes the poison again, and queue_task_work adds the
        // same callback twice ("x86/mce: Avoid infinite loop for copy from user recovery", 5.15): the task never
        // returns to user space.
        var s = new DaxScenario("5.10");
        var fd = s.CreateFile("F", FileLen);
        var src = Source(s, 2, 5);
        Assert.That(s.M.InjectPoison(PhysAddr.FromPfn(s.P.Mm.PfnAt(src.Value + 4096)!.Value)), Is.Zero);
        Assert.That(s.P.Pwrite64(fd, src, 8192, 0), Is.EqualTo(Machine.NoReturn));
        Assert.That(s.P.State, Is.EqualTo(ProcessState.Livelocked));
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(2));
    }

    [Test]
    public void S12_Kernel59_CopyInPoison_Panics()
    {
        var s = new DaxScenario("5.9");
        var fd = s.CreateFile("F", FileLen);
        var src = Source(s, 2, 5);
        Assert.That(s.M.InjectPoison(PhysAddr.FromPfn(s.P.Mm.PfnAt(src.Value + 4096)!.Value)), Is.Zero);
        Assert.That(s.P.Pwrite64(fd, src, 8192, 0), Is.EqualTo(Machine.NoReturn));
        Assert.That(s.M.State.Alive, Is.False);
    }

    [TestCase("6.12")]
    [TestCase("5.16")]
    public void S12b_WriteFromPoisonedFsdaxMapping_ShortWrite_AndSigbusArPageAligned(string kernel)
    {
        var s = new DaxScenario(kernel, huge: false);
        var fd = s.CreateFile("F", FileLen);
        var gfd = s.CreateFile("G", 8192);
        var g = s.MapFile(gfd, 8192);
        Assert.That(s.P.LoadByte(g, out _).Signal, Is.Null);
        Assert.That(s.P.LoadByte(g + 4096UL, out _).Signal, Is.Null);
        s.PoisonFile("G", 4096);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);

        Assert.That(s.P.Pwrite64(fd, g, 8192, 0), Is.EqualTo(4096));

        Assert.That(s.P.SignalsReceived, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, g.Value + 4096, 12, Forced: true) }));
        Assert.That(FileBytes(s, "F", 0, 4096), Is.EqualTo(DaxScenario.DataBytes(0, 4096)), "G's page 0 holds the same pattern");
    }

    [TestCase("6.12")]
    [TestCase("5.19")]
    public void S18_ZeroRangeWholePage_ClearsPoison_PartialRange_Eio(string kernel)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("F", FileLen);
        s.MarkBad("F", 4096);
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_ZERO_RANGE, 4096, 100), Is.EqualTo(-Errno.EIO), "dax_memzero: direct access refuses the page");
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_ZERO_RANGE, 4096, 4096), Is.Zero, "dax_zero_page_range");
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.Empty);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(8192));
        Assert.That(s.UserBytes(s.U + 4096UL, 4096), Is.EqualTo(new byte[4096]));
        Assert.That(s.UserBytes(s.U, 4096), Is.EqualTo(DaxScenario.DataBytes(0, 4096)));
        Assert.That(s.Fs.Lookup("F")!.Size, Is.EqualTo(FileLen));
    }

    [Test]
    public void S18_ZeroRangeOverLatentPoison_NotInBadblocks_NothingIsCleared_ReadStaysShort()
    {
        // Without a badblock the driver's zero_page_range is a plain write: the kernel clears nothing (S11:
        // what the media does with a full-line overwrite is hardware-defined; the model keeps the poison).
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_ZERO_RANGE, 4096, 4096), Is.Zero);
        Assert.That(s.M.Mce.Log, Is.Empty);
        Assert.That(s.M.Phys.IsPoisoned(s.PhysOf("F", 4160)), Is.True);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(4160));
        Assert.That(s.UserBytes(s.U + 4096UL, 64), Is.EqualTo(new byte[64]), "the zeroed prefix of page 1");
    }
}
