using KernelSim.Block;
using KernelSim.Dax;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using static KernelSim.Tests.Pmem.PmemScenario;

namespace KernelSim.Tests.Pmem;

/// <summary>/dev/pmem0 as a file, bios, the dax operations and memory_failure for pmem pages.</summary>
public class PmemBlockTests
{
    [Test]
    public void Geometry_FsdaxDataOffset2MiB_SectorsRelativeToData()
    {
        var s = new PmemScenario();
        Assert.That(s.Dev.DataOffset, Is.EqualTo(2UL << 20));
        Assert.That(s.Dev.Disk.CapacitySectors, Is.EqualTo((62L << 20) / 512));
        Assert.That(s.Dev.Range.Kind, Is.EqualTo(MemoryKind.Pmem));
        Assert.That(s.Dev.Disk.Dax, Is.Not.Null);
        Assert.That(s.M.Services.GetRequiredService<Genhd>().Find("/dev/pmem0"), Is.SameAs(s.Dev.Disk));
        Assert.That(s.Ndctl("inject-error namespace0.0 -B 0 -n 1").Rc, Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo("0 1\n"));
        Assert.That(s.Dev.Region.BadblocksShow(), Is.EqualTo($"{(2 << 20) / 512} 1\n"), "region badblocks are region relative");
    }

    [Test]
    public void OExcl_ClaimsTheDisk_SecondExclusiveOpenIsBusy_CloseReleases_PlainOpensUnaffected()
    {
        var s = new PmemScenario();
        var a = (int)s.P.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_EXCL);
        Assert.That(a, Is.GreaterThanOrEqualTo(0));
        Assert.That(s.Dev.Disk.Holder, Is.SameAs(s.P.FileAt(a)), "bd_holder is the file");
        Assert.That(s.P.Open("/dev/pmem0", Fcntl.O_RDONLY | Fcntl.O_EXCL), Is.EqualTo(-Errno.EBUSY));
        var plain = (int)s.P.Open("/dev/pmem0", Fcntl.O_RDONLY);
        Assert.That(plain, Is.GreaterThanOrEqualTo(0), "a plain open does not claim");
        Assert.That(s.Dev.Disk.OpenCount, Is.EqualTo(2), "the refused open left no opener behind");
        Assert.That(s.P.Close(a), Is.Zero);
        Assert.That(s.Dev.Disk.Holder, Is.Null);
        var b = s.P.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_EXCL);
        Assert.That(b, Is.GreaterThanOrEqualTo(0));
        Assert.That(s.P.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL), Is.EqualTo(-Errno.EEXIST), "O_CREAT|O_EXCL on an existing node");
    }

    [Test]
    public void RawNamespace_NoDax_IoremapWindow_ReadsWork()
    {
        var m = new MachineBuilder().AddPmem(new PmemNamespaceSpec(8UL << 20, NamespaceMode.Raw)).Build();
        var dev = m.Pmem();
        Assert.That(dev.DataOffset, Is.EqualTo(0UL));
        Assert.That(dev.DaxDev, Is.Null);
        Assert.That(dev.Range.DirectMapped, Is.False);
        m.Phys.PokeBytes(new PhysAddr(dev.PhysAddr), [1, 2, 3]);
        var p = m.Spawn();
        var u = p.MapAnonymous(4096);
        var fd = (int)p.Open("/dev/pmem0", Fcntl.O_RDONLY);
        Assert.That(p.Pread64(fd, u, 3, 0), Is.EqualTo(3));
        Assert.That(p.Peek(u, 3), Is.EqualTo(new byte?[] { 1, 2, 3 }));
    }

    [Test]
    public void BufferedWrite_ReachesMediaOnFsyncAndClose()
    {
        var s = new PmemScenario();
        var fd = s.Open(Fcntl.O_RDWR);
        Assert.That(s.P.Store(s.U, new byte[] { 9, 9, 9 }).Done, Is.EqualTo(3UL));
        Assert.That(s.P.Pwrite64(fd, s.U, 3, 100), Is.EqualTo(3));
        Assert.That(s.Media(100, 3), Is.EqualTo(PatternBytes(100, 3)), "still only in the page cache");
        Assert.That(s.P.Fsync(fd), Is.EqualTo(0));
        Assert.That(s.Media(99, 5), Is.EqualTo(new byte[] { Pattern(99), 9, 9, 9, Pattern(103) }));
    }

    [Test]
    public void BufferedWriteback_OverBadSector_FsyncEioOnce()
    {
        var s = new PmemScenario("6.12", o => o.ClearErrUnit = 8192);
        var fd = s.Open(Fcntl.O_RDWR);
        Assert.That(s.P.Pwrite64(fd, s.U, 4096, 8192), Is.EqualTo(4096));
        Assert.That(s.Dev.Disk.BadblocksStore("16 1"), Is.GreaterThan(0));
        Assert.That(s.P.Fsync(fd), Is.EqualTo(-Errno.EIO));
        Assert.That(s.M.State.Dmesg, Does.Contain("Buffer I/O error on dev pmem0, logical block 2, lost async page write"));
        Assert.That(s.P.Fsync(fd), Is.EqualTo(0));
    }

    [Test]
    public void BadInput_GivesErrnos()
    {
        var s = new PmemScenario();
        var fd = s.Open(Fcntl.O_RDWR | Fcntl.O_DIRECT);
        var size = s.Dev.Disk.SizeBytes;
        Assert.That(s.P.Pread64(fd, s.U, 512, 100), Is.EqualTo(-Errno.EINVAL), "misaligned position");
        Assert.That(s.P.Pread64(fd, s.U + 1UL, 512, 0), Is.EqualTo(-Errno.EINVAL), "misaligned buffer");
        Assert.That(s.P.Pread64(fd, s.U, 100, 0), Is.EqualTo(-Errno.EINVAL), "misaligned length");
        Assert.That(s.P.Pwrite64(fd, s.U, 100, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Pread64(fd, s.U, 512, size), Is.EqualTo(0), "at the end");
        Assert.That(s.P.Pread64(fd, s.U, 1024, size - 512), Is.EqualTo(512), "clipped to the device");
        Assert.That(s.P.Pwrite64(fd, s.U, 512, size), Is.EqualTo(-Errno.ENOSPC));
        Assert.That(s.P.Pread64(fd, new UserPtr(0x1000), 512, 0), Is.EqualTo(-Errno.EFAULT), "unmapped buffer");
        Assert.That(s.P.Lseek(fd, size + 1, Fcntl.SEEK_SET), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Lseek(fd, 0, Fcntl.SEEK_END), Is.EqualTo(size));
        Assert.That(s.P.Open("/dev/pmem9", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));

        var bio = new Bio(s.Dev.Disk, BioOp.REQ_OP_READ, s.Dev.Disk.CapacitySectors);
        bio.AddPage(s.P.Mm.PfnAt(s.U.Value)!.Value, 512, 0);
        Assert.That(s.M.Run(() => s.Dev.Disk.SubmitBio(bio)).Value, Is.EqualTo(BlkStatus.BLK_STS_IOERR));
        Assert.That(s.M.State.Dmesg, Does.Contain("attempt to access beyond end of device"));
        Assert.That(s.Dev.Disk.BadblocksStore("garbage"), Is.EqualTo(-Errno.EINVAL));
    }

    [Test]
    public void SubmitBio_StopsAtFirstFailingSegment_FuaFlushes()
    {
        var s = new PmemScenario("6.12", o => o.ClearErrUnit = 8192);
        s.Dev.Bb.Set(8, 1, true);
        Assert.That(s.P.Fill(s.U, 3 * 4096, _ => 0x77).Done, Is.EqualTo(3UL * 4096));
        var bio = new Bio(s.Dev.Disk, BioOp.REQ_OP_WRITE, 0, BioFlags.REQ_FUA | BioFlags.REQ_PREFLUSH);
        for (var k = 0UL; k < 3; k++) bio.AddPage(s.P.Mm.PfnAt(s.U.Value + k * 4096)!.Value, 4096, 0);
        Assert.That(s.M.Run(() => s.Dev.Disk.SubmitBio(bio)).Value, Is.EqualTo(BlkStatus.BLK_STS_IOERR));
        Assert.That(s.Media(0, 4096), Is.EqualTo(Enumerable.Repeat((byte)0x77, 4096).ToArray()), "segment 1 written");
        Assert.That(s.Media(4096, 4), Is.EqualTo(PatternBytes(4096, 4)), "segment 2 failed its clear (-ENXIO) and was not written");
        Assert.That(s.Media(8192, 4), Is.EqualTo(PatternBytes(8192, 4)), "segment 3 never ran");
        Assert.That(s.Dev.Flushes, Is.EqualTo(2), "preflush and FUA");
        var read = new Bio(s.Dev.Disk, BioOp.REQ_OP_READ, 0, BioFlags.REQ_PREFLUSH);
        read.AddPage(s.P.Mm.PfnAt(s.U.Value)!.Value, 512, 0);
        Assert.That(s.M.Run(() => s.Dev.Disk.SubmitBio(read)).Value, Is.EqualTo(BlkStatus.BLK_STS_IOERR));
    }

    [TestCase("6.4", -Errno.EIO)]
    [TestCase("6.5", -Errno.EHWPOISON)]
    public void DirectAccess_KnownBad_EioOrEhwpoison(string kernel, int expected)
    {
        var s = new PmemScenario(kernel);
        var dax = s.Dev.DaxDev!;
        Assert.That(s.M.Run(() => dax.DirectAccess(0, 4, DaxAccessMode.DAX_ACCESS, out _, out _)).Value, Is.EqualTo((s.Dev.Disk.SizeBytes >> 12) > 4 ? 4 : 0));
        Assert.That(s.M.Run(() => s.Dev.DirectAccess(dax, 0, 4, DaxAccessMode.DAX_ACCESS, out _, out _)).Value, Is.EqualTo(s.Dev.Disk.SizeBytes >> 12), "no badblocks: to the end");
        s.Dev.Bb.Set(9, 1, true);
        Assert.That(s.M.Run(() => dax.DirectAccess(0, 2, DaxAccessMode.DAX_ACCESS, out _, out _)).Value, Is.EqualTo(expected));
        Assert.That(s.M.Run(() => dax.DirectAccess(0, 2, DaxAccessMode.DAX_RECOVERY_WRITE, out _, out _)).Value, Is.EqualTo(2), "PAGE_ALIGN(9·512)/4096: up to and including the page of sector 9");
        Assert.That(s.M.Run(() => dax.DirectAccess(2, 3, DaxAccessMode.DAX_ACCESS, out var k, out var pfn)).Value, Is.EqualTo(3), "limited to the request");
        Assert.That(s.M.Run(() => dax.DirectAccess(0, 0, DaxAccessMode.DAX_ACCESS, out _, out _)).Value, Is.EqualTo(-Errno.ERANGE));
        Assert.That(s.M.Run(() => dax.DirectAccess(1UL << 40, 1, DaxAccessMode.DAX_ACCESS, out _, out _)).Value, Is.EqualTo(-Errno.ERANGE));
    }

    [Test]
    public void ZeroPageRange_ClearsPoisonOfAWholePage_ResetsHwPoison()
    {
        var s = new PmemScenario();
        s.PoisonMedia(4096 + 64);
        s.Dev.Bb.Set(8, 8, true);
        var pfn = s.Dev.DataPhys(4096) >> 12;
        s.M.Phys.Frame(pfn).Flags |= PageFlags.PG_hwpoison;
        s.M.KernelMap.SetMceNospec(pfn);
        Assert.That(s.M.Run(() => s.Dev.DaxDev!.ZeroPageRange(1, 1)).Value, Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(s.Media(4096, 4096), Is.EqualTo(new byte[4096]));
        Assert.That(s.M.Phys.Frame(pfn).IsHwPoison, Is.False);
        Assert.That(s.M.KernelMap.IsNospec(pfn), Is.False);
    }

    [Test]
    public void MemoryFailure_UnmappedDaxPage_EbusyFailed_HolderResultIsFinal()
    {
        var s = new PmemScenario();
        var pfn = s.Dev.DataPhys(4096) >> 12;
        Assert.That(s.M.Run(() => s.M.MemoryFailure.Run(pfn, MfFlags.MF_ACTION_REQUIRED)).Value, Is.EqualTo(-Errno.EBUSY));
        Assert.That(s.M.State.Dmesg[^1], Is.EqualTo($"Memory failure: 0x{pfn:x}: recovery action for dax page: Failed"));
        Assert.That(s.M.Run(() => s.M.MemoryFailure.Run(s.Dev.PhysAddr >> 12, MfFlags.None)).Value, Is.EqualTo(-Errno.ENXIO), "info block / memmap");
        var holder = new Moq.Mock<IDaxHolderOperations>();
        holder.Setup(h => h.NotifyFailure(It.IsAny<DaxDevice>(), 4096, 4096, MfFlags.MF_ACTION_REQUIRED)).Returns(0);
        s.Dev.DaxDev!.SetHolder(new object(), holder.Object);
        Assert.That(s.M.Run(() => s.M.MemoryFailure.Run(pfn, MfFlags.MF_ACTION_REQUIRED)).Value, Is.EqualTo(0));
        Assert.That(s.M.State.Dmesg[^1], Is.EqualTo($"Memory failure: 0x{pfn:x}: recovery action for dax page: Recovered"));
        holder.Verify(h => h.NotifyFailure(s.Dev.DaxDev, 4096, 4096, MfFlags.MF_ACTION_REQUIRED), Moq.Times.Once);
    }

    [TestCase("6.12")]
    [TestCase("5.10")]
    public void MemoryFailure_MappedDaxPage_GenericKillProcs_ForcesActionRequired(string kernel)
    {
        var s = new PmemScenario(kernel);
        var pfn = s.Dev.DataPhys(4096) >> 12;
        var victim = s.M.Spawn("victim");
        var other = s.M.Spawn("other");
        victim.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        other.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var va = victim.MapAnonymous(4096);
        var ova = other.MapAnonymous(4096);
        victim.Mm.InstallPte(va.Value, pfn, true, 12);
        other.Mm.InstallPte(ova.Value, pfn, true, 12);

        Assert.That(s.M.Run(victim, "kill_me_maybe", () => s.M.MemoryFailure.Run(pfn, MfFlags.MF_ACTION_REQUIRED)).Value, Is.EqualTo(0));
        Assert.That(victim.SignalsReceived, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, va.Value, 12, true) }));
        Assert.That(other.SignalsReceived, Is.Empty, "not early-kill: told when it touches the page");
        Assert.That(s.M.Phys.Frame(pfn).IsHwPoison, Is.True);
        Assert.That(victim.Mm.PfnAt(va.Value), Is.Null, "unmap_mapping_range");
        Assert.That(other.Mm.PfnAt(ova.Value), Is.Null);
        Assert.That(s.M.State.Dmesg[^1], Is.EqualTo($"Memory failure: 0x{pfn:x}: recovery action for dax page: Recovered"));
    }

    [Test]
    public void RecoveryWrite_OnlyWholeAlignedPagesClear()
    {
        var s = new PmemScenario();
        s.Dev.Bb.Set(8, 1, true);
        var kbuf = Infrastructure.Sim.KernelBuffer(s.M, 4096, 3);
        var dax = s.Dev.DaxDev!;
        var kaddr = s.Dev.VirtAddr + (s.Dev.DataOffset + 4096);
        var it = IovIter.Kvec(true, [new Kvec(kbuf, 4096)], 4096);
        Assert.That(s.M.Run(() => dax.RecoveryWrite(1, kaddr, 512, it)).Value, Is.EqualTo(0UL));
        Assert.That(s.Badblocks, Is.EqualTo("8 1\n"));
        Assert.That(s.M.Run(() => dax.RecoveryWrite(1, kaddr, 4096, it)).Value, Is.EqualTo(4096UL));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(s.Media(4096, 8), Is.EqualTo(Infrastructure.Sim.ReadKernel(s.M, kbuf, 8)));
    }
}
