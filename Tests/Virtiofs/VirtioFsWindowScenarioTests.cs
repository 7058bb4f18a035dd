using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using static KernelSim.Tests.Virtiofs.VfsScenario;

namespace KernelSim.Tests.Virtiofs;

/// <summary>Worked scenarios S7–S14 of docs/kernel/virtiofs.md: the DAX window pool, reclaim, refused mappings and mount options.</summary>
public class VirtioFsWindowScenarioTests
{
    private static VfsScenario TwoFiles(ulong window)
    {
        var s = Boot(o => o.WindowBytes = window, timing: WorkTiming.Manual, hostSetup: h =>
        {
            h.CreateFile("A", FSize, nodeId: 7);
            h.CreateFile("B", FSize, nodeId: 9);
        }, file: "A");
        return s;
    }

    [Test]
    public void S7_WindowExhausted_ReaderOfSecondFileSleeps_WorkerReclaimsBoth()
    {
        var s = TwoFiles(4 * (ulong)MiB);
        Assert.That(s.Dax.NrRanges, Is.EqualTo(2));
        Assert.That(s.Dax.FreeThreshold, Is.EqualTo(1));
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 0), Is.EqualTo(4096));
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 2 * MiB), Is.EqualTo(4096));
        Assert.That(s.Dax.NrFreeRanges, Is.Zero);
        Assert.That(s.M.WorkQueue.Pending, Is.EqualTo(1), "the worker was kicked but has not run");
        var fdB = (int)s.P.Open(s.Share.PathOf("B"), Fcntl.O_RDONLY);
        s.Share.Transport.ClearLog();

        Assert.That(s.P.Pread64(fdB, s.Buf, 4096, 0), Is.EqualTo(4096));

        Assert.That(s.Log, Has.Count.EqualTo(3));
        AssertRemove(s.Log[0], 7, 0);
        AssertRemove(s.Log[1], 7, (ulong)(2 * MiB));
        AssertSetup(s.Log[2], 9, 0, Read, 0);
        Assert.That(s.P.Peek(s.Buf, 4096), Is.EqualTo(Expected(0, 4096)));
        Assert.That(s.Dax.WorkerPasses, Is.EqualTo(1));
        Assert.That(s.Dax.NrFreeRanges, Is.EqualTo(1));
    }

    [Test]
    public void S7_FaultPathVariant_EagainWaitsForFreeRangeAndRetries()
    {
        var s = TwoFiles(4 * (ulong)MiB);
        s.P.Pread64(s.Fd, s.Buf, 4096, 0);
        s.P.Pread64(s.Fd, s.Buf, 4096, 2 * MiB);
        var fdB = (int)s.P.Open(s.Share.PathOf("B"), Fcntl.O_RDONLY);
        var va = (ulong)s.Share.Mmap(s.P, (ulong)FSize, Mman.PROT_READ, Mman.MAP_SHARED, fdB);
        s.Share.Transport.ClearLog();
        Assert.That(s.P.LoadByte(new UserPtr(va + 100), out var b).Completed(1), Is.True);
        Assert.That(b, Is.EqualTo(HostShare_Pattern(100)));
        Assert.That(s.Log.Select(m => m.Opcode), Is.EqualTo(new[] { FuseOpcode.FUSE_REMOVEMAPPING, FuseOpcode.FUSE_REMOVEMAPPING, FuseOpcode.FUSE_SETUPMAPPING }));
        AssertSetup(s.Log[2], 9, 0, Read, 0);
    }

    [Test]
    public void S8_InlineReclaimWithinOneFile_RemoveThenSetupOnSameMoffset()
    {
        var s = Boot(o => o.WindowBytes = 2 * (ulong)MiB, timing: WorkTiming.Manual);
        var va = (ulong)s.Share.Mmap(s.P, (ulong)FSize, Mman.PROT_READ, Mman.MAP_SHARED, s.Fd);
        Assert.That(s.P.LoadByte(new UserPtr(va + 10), out _).Completed(1), Is.True);
        Assert.That(s.P.Mm.PfnAt(va), Is.Not.Null);
        s.Share.Transport.ClearLog();

        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 2 * MiB), Is.EqualTo(4096));

        Assert.That(s.Log, Has.Count.EqualTo(2));
        AssertRemove(s.Log[0], 5, 0);
        AssertSetup(s.Log[1], 5, (ulong)(2 * MiB), Read, 0);
        Assert.That(s.P.Peek(s.Buf, 4096), Is.EqualTo(Expected(2 * MiB, 4096)));
        Assert.That(s.P.Mm.PfnAt(va), Is.Null, "the mmap PTEs of the reclaimed range were invalidated");
    }

    [Test]
    public void S9_SetupMappingRefusedEinval_ReadFails_NoFallback_EveryAttemptResends()
    {
        var s = Boot(o => o.Daemon.SetupMappingError = -Errno.EINVAL);
        s.Share.Transport.ClearLog();
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.Log.Select(m => (m.Opcode, m.Error)), Is.EqualTo(new[] { (FuseOpcode.FUSE_SETUPMAPPING, (int?)-22), (FuseOpcode.FUSE_SETUPMAPPING, (int?)-22) }));
        Assert.That(s.Dax.NrFreeRanges, Is.EqualTo(512), "the range went back to the pool");
    }

    [Test]
    public void S9_RefusedOnSecondRange_ReadReturnsBytesAlreadyCopied_MmapGetsSigbus()
    {
        var s = Boot();
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 0), Is.EqualTo(4096));
        s.Share.Daemon.Options.SetupMappingError = -Errno.ENOSYS;
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 8192, 2 * MiB - 4096), Is.EqualTo(4096));
        var va = (ulong)s.Share.Mmap(s.P, (ulong)FSize, Mman.PROT_READ, Mman.MAP_SHARED, s.Fd);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var r = s.P.LoadByte(new UserPtr(va + (ulong)(3 * MiB)), out _);
        Assert.That(r.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_ADRERR, va + (ulong)(3 * MiB), 0, Forced: true)));
        Assert.That(s.Log.Count(m => m.Opcode == FuseOpcode.FUSE_READ), Is.Zero, "no fallback to FUSE_READ");
    }

    [Test]
    public void S10_ExtendingWriteStraddlingEof_WholeWriteIsFuseWrite_ThenDaxReadClampsAtNewEof()
    {
        var s = Boot();
        s.Share.Transport.ClearLog();
        Assert.That(s.P.Pwrite64(s.Fd, s.Buf, 8192, FSize - 4096), Is.EqualTo(8192));
        var w = s.Log.Single();
        Assert.That((w.Opcode, w.Offset, w.Size), Is.EqualTo((FuseOpcode.FUSE_WRITE, (ulong)(FSize - 4096), 8192UL)));
        Assert.That(s.Inode().Size, Is.EqualTo(FSize + 4096));
        s.Share.Transport.ClearLog();
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, FSize), Is.EqualTo(4096));
        AssertSetup(s.Log.Single(), 5, (ulong)FSize, Read, 0);
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 8192, FSize), Is.EqualTo(4096), "EOF clamp");
    }

    [TestCase("6.12", false)]
    [TestCase("6.0", false)]
    [TestCase("5.15", true)]
    [TestCase("5.19", true)]
    [TestCase("5.10", false)]
    public void S11_ZeroLengthRead_FixedReturns0_5_15to5_19Loops(string kernel, bool loops)
    {
        var s = Boot(o => o.Dax = DaxMountMode.Legacy, kernel: kernel);
        s.Share.Transport.ClearLog();
        var r = s.P.Read(s.Fd, s.Buf, 0);
        if (loops)
        {
            Assert.That(r, Is.EqualTo(Machine.NoReturn));
            Assert.That(s.P.State, Is.EqualTo(ProcessState.Livelocked));
            Assert.That(s.M.State.Dmesg, Has.Some.Contains("WARNING"));
        }
        else
        {
            Assert.That(r, Is.Zero);
        }
        Assert.That(s.Log, Is.Empty);
    }

    [Test]
    public void S12a_DaxAlwaysWithoutWindow_MountFailsEinval()
    {
        var m = new MachineBuilder().AddVirtioFs().Build();
        var share = VirtioFs.Create(m, new VirtioFsOptions { WindowBytes = 0, Dax = DaxMountMode.Always });
        Assert.That(share.Mount(), Is.EqualTo(-Errno.EINVAL));
        Assert.That(m.State.Dmesg, Has.Some.Contains("dax can't be enabled"));
    }

    [TestCase(true, true, true)]
    [TestCase(false, true, false)]
    [TestCase(true, false, false)]
    public void S12b_DefaultMount_InitCarriesDaxFlags_PerInodeDaxNeedsServerAckAndAttrDax(bool serverAck, bool attrDax, bool dax)
    {
        var s = Boot(o =>
        {
            o.Dax = DaxMountMode.Default;
            o.Daemon.InodeDax = serverAck;
        }, hostSetup: h => h.CreateFile("F", FSize, nodeId: 5, attrDax: attrDax));
        var init = s.Log.First(m => m.Opcode == FuseOpcode.FUSE_INIT);
        Assert.That(init.Flags & FuseConst.FUSE_MAP_ALIGNMENT, Is.Not.Zero);
        Assert.That(init.Flags & FuseConst.FUSE_INIT_EXT, Is.Not.Zero);
        Assert.That(init.Flags & FuseConst.FUSE_HAS_INODE_DAX, Is.Not.Zero);
        Assert.That(init.Len, Is.EqualTo(40u + 64));
        s.Share.Transport.ClearLog();
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 0), Is.EqualTo(4096));
        Assert.That(s.Log.Single().Opcode, Is.EqualTo(dax ? FuseOpcode.FUSE_SETUPMAPPING : FuseOpcode.FUSE_READ));
        Assert.That(s.P.Peek(s.Buf, 4096), Is.EqualTo(Expected(0, 4096)));
    }

    [Test]
    public void S12b_OldKernel_InitHasNoFlags2_DaxInodeOptionRejected()
    {
        var m = new MachineBuilder().WithKernel("5.15").AddVirtioFs().Build();
        var bad = VirtioFs.Create(m, new VirtioFsOptions { Dax = DaxMountMode.Inode });
        Assert.That(bad.Mount(), Is.EqualTo(-Errno.EINVAL));
        var ok = VirtioFs.Create(m, new VirtioFsOptions { Dax = DaxMountMode.Legacy, MountPoint = "/mnt/b" });
        Assert.That(ok.Mount(), Is.Zero);
        var init = ok.Log.Single(x => x.Opcode == FuseOpcode.FUSE_INIT);
        Assert.That(init.Len, Is.EqualTo(40u + 16));
        Assert.That(init.Flags & FuseConst.FUSE_INIT_EXT, Is.Zero);
    }

    [Test]
    public void S12c_MapAlignment22_InitFails_LaterRequestsEconnrefused()
    {
        var s = Boot(o => o.Daemon.MapAlignment = 22);
        Assert.That(s.Fd, Is.EqualTo(-Errno.ECONNREFUSED));
        Assert.That(s.M.State.Dmesg, Has.Some.Contains("map_alignment 22 incompatible with dax mem range size 2097152"));
    }

    [Test]
    public void S13_WindowOffsetNotMappedByVmm_VmStopsEvenOnAsyncPolicy()
    {
        var s = S1Done();
        Assert.That(s.Share.Vmm!.Unmap(0, 2 * (ulong)MiB), Is.Zero, "a VMM/daemon bug drops the host mapping");
        var r = s.P.Pread64(s.Fd, s.Buf, 4096, 0);
        Assert.That(r, Is.EqualTo(Machine.NoReturn));
        Assert.That(s.M.State.Status, Is.EqualTo(MachineStatus.VmStopped));
        Assert.That(s.Share.Vmm.FaultLog.Single(), Does.Contain("no host mapping"));
    }

    private static VfsScenario DaxBufferScenario(bool fsIo)
    {
        var s = Boot(o =>
        {
            o.Dax = DaxMountMode.Inode;
            o.PinUserPages = true;
            o.Daemon.WindowDescriptorIo = fsIo;
        }, hostSetup: h =>
        {
            h.CreateFile("D", FSize, nodeId: 5, attrDax: true);
            h.CreateFile("N", 8192, nodeId: 6, attrDax: false, data: Enumerable.Repeat((byte)0x5a, 8192).ToArray());
        }, file: "D");
        return s;
    }

    [Test]
    public void S14_NonDaxReadIntoDaxMappedBuffer_DaemonCannotReachWindow_RequestNeverCompletes()
    {
        var s = DaxBufferScenario(fsIo: false);
        var va = (ulong)s.Share.Mmap(s.P, (ulong)FSize, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, s.Fd);
        var fdN = (int)s.P.Open(s.Share.PathOf("N"), Fcntl.O_RDONLY);
        s.Share.Transport.ClearLog();
        var r = s.P.Read(fdN, new UserPtr(va), 4096);
        Assert.That(r, Is.EqualTo(Machine.NoReturn));
        var read = s.Log.Single(m => m.Opcode == FuseOpcode.FUSE_READ);
        Assert.That(s.Share.Window!.Contains(new PhysAddr(read.Pages.Single().Gpa)), Is.True, "the descriptor points into the DAX window");
        Assert.That(read.Error, Is.Null, "no reply");
        Assert.That(read.DeviceError, Does.Contain("QueueReader(FindMemoryRegion)"));
    }

    [Test]
    public void S14_WithFsIo_FrontEndServesWindowDescriptor_ReadLandsInDaxFile()
    {
        var s = DaxBufferScenario(fsIo: true);
        var va = (ulong)s.Share.Mmap(s.P, (ulong)FSize, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, s.Fd);
        var fdN = (int)s.P.Open(s.Share.PathOf("N"), Fcntl.O_RDONLY);
        Assert.That(s.P.Read(fdN, new UserPtr(va), 4096), Is.EqualTo(4096));
        Assert.That(s.Share.Host["D"]!.ReadAll()[..4096], Is.All.EqualTo((byte)0x5a), "the bytes went into D's host page through the window");
    }
}
