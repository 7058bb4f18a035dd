using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>
/// The same latent-poison read three ways: the DAX bypass (short count), the block path through the pmem driver
/// (EIO), and a 4.17 kernel (panic); and the two mounts of one image reading the same data.
/// </summary>
public class DaxVersusBlockPathTests
{
    private const long FileLen = 64 * 1024;

    [Test]
    public void LatentPoison_DaxMount_ShortCount4160()
    {
        var s = new DaxScenario("6.12", trace: true);
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(4160));
        var trace = s.M.TraceText();
        Assert.That(trace, Does.Contain("dax_iomap_rw() {"));
        Assert.That(trace, Does.Contain("_copy_mc_to_iter() {"));
        Assert.That(trace[trace.LastIndexOf("sys_pread64", StringComparison.Ordinal)..], Does.Not.Contain("submit_bio"), "the block layer is bypassed");
    }

    [Test]
    public void LatentPoison_NonDaxMount_BufferedRead_Eio_ThroughTheDriver()
    {
        var s = new DaxScenario("6.12", mode: DaxMode.Never, trace: true);
        var fd = s.CreateFile("F", FileLen);
        Assert.That(s.P.Fsync(fd), Is.Zero, "write-back reached the device");
        s.Fs.InvalidatePagecache((DaxInode)s.Fs.Lookup("F")!, 0, FileLen);
        s.PoisonFile("F", 4160);

        Assert.That(s.P.Pread64(fd, s.U, 4096, 4096), Is.EqualTo(-Errno.EIO));

        Assert.That(s.UserBytes(s.U, 4096), Is.EqualTo(DaxScenario.Filled(4096)));
        Assert.That(s.M.Mce.Log.Single().Context, Is.EqualTo(KernelSim.Arch.X86.McContext.IN_KERNEL_RECOV), "read_pmem's copy_mc_to_kernel");
        Assert.That(s.P.AllSignals, Is.Empty);
        var trace = s.M.TraceText();
        Assert.That(trace, Does.Contain("submit_bio"));
        Assert.That(trace, Does.Not.Contain("dax_iomap_rw"));
        // Page 0 is fine; the buffered read of both pages stops at the failing folio.
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(4096));
        Assert.That(s.UserBytes(s.U, 4096), Is.EqualTo(DaxScenario.DataBytes(0, 4096)));
    }

    [Test]
    public void LatentPoison_NonDaxMount_ODirect8192_Eio_NoPartialCount()
    {
        var s = new DaxScenario("6.12", mode: DaxMode.Never);
        s.CreateFile("F", FileLen);
        var fd = (int)s.P.Open(s.Path("F"), Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(s.P.Fsync(s.Open("F")), Is.Zero);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(-Errno.EIO));
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.EqualTo($"{s.Fs.SectorOf("F", 4096)} 1\n"));
        Assert.That(s.P.Pread64(fd, s.U, 4096, 0), Is.EqualTo(4096), "page 0 alone is fine");
        Assert.That(s.UserBytes(s.U, 4096), Is.EqualTo(DaxScenario.DataBytes(0, 4096)));
        Assert.That(s.P.Pread64(fd, s.U, 512, 4608), Is.EqualTo(512), "block-device granularity is 512 B");
        Assert.That(s.UserBytes(s.U, 512), Is.EqualTo(DaxScenario.DataBytes(4608, 512)));
    }

    [Test]
    public void LatentPoison_Kernel417DaxMount_Panic()
    {
        var s = new DaxScenario("4.17");
        var fd = s.CreateFile("F", FileLen);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(Machine.NoReturn));
        Assert.That(s.M.State.Status, Is.EqualTo(MachineStatus.Panicked));
        Assert.That(s.M.Mce.Log.Single().Context, Is.EqualTo(KernelSim.Arch.X86.McContext.IN_KERNEL));
    }

    [Test]
    public void SameImage_MountedDaxThenNonDax_ReadsTheSameBytes_BufferedAndODirect()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", 3 * 4096 + 100);
        s.Fs.Mkdir("d");
        var g = s.CreateFile("d/G", 5000);
        Assert.That(s.P.Close(fd), Is.Zero);
        Assert.That(s.P.Close(g), Is.Zero);
        Assert.That(s.Fs.Unmount(), Is.Zero);

        Assert.That(DaxFs.Mount(s.M, s.Pmem.Disk, s.Fs.Volume, new DaxFsOptions { Dax = DaxMode.Never }, out var fs2), Is.Zero);
        Assert.That(fs2!.IsDax, Is.False);
        var f2 = (int)s.P.Open(s.Path("F"), Fcntl.O_RDONLY);
        Assert.That(s.P.Pread64(f2, s.U, 4 * 4096, 0), Is.EqualTo(3 * 4096 + 100));
        Assert.That(s.UserBytes(s.U, 3 * 4096 + 100), Is.EqualTo(DaxScenario.DataBytes(0, 3 * 4096 + 100)));
        var d2 = (int)s.P.Open(s.Path("d/G"), Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(s.P.Pread64(d2, s.U, 8192, 0), Is.EqualTo(5000), "O_DIRECT read clipped at EOF");
        Assert.That(s.UserBytes(s.U, 5000), Is.EqualTo(DaxScenario.DataBytes(0, 5000)));
        Assert.That(s.P.Pread64(d2, s.U, 100, 0), Is.EqualTo(-Errno.EINVAL), "O_DIRECT needs 512-byte alignment");
    }

    [Test]
    public void NonDaxMount_BufferedWriteReachesTheDeviceAtFsync_ODirectWriteImmediately()
    {
        var s = new DaxScenario("6.12", mode: DaxMode.Never);
        var fd = s.CreateFile("F", 8192);
        Assert.That(s.M.Phys.IsPoisoned(s.PhysOf("F", 0)), Is.False);
        var onDisk = new byte[8192];
        s.M.Phys.PeekBytes(s.PhysOf("F", 0), onDisk);
        Assert.That(onDisk, Is.EqualTo(new byte[8192]), "still only in the page cache (allocation zeroed the blocks)");
        Assert.That(s.P.Fsync(fd), Is.Zero);
        s.M.Phys.PeekBytes(s.PhysOf("F", 0), onDisk);
        Assert.That(onDisk, Is.EqualTo(DaxScenario.DataBytes(0, 8192)));

        var dfd = (int)s.P.Open(s.Path("F"), Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(s.P.Fill(s.U, 4096, _ => 0x42).Done, Is.EqualTo(4096UL));
        Assert.That(s.P.Pwrite64(dfd, s.U, 4096, 4096), Is.EqualTo(4096));
        s.M.Phys.PeekBytes(s.PhysOf("F", 4096), onDisk.AsSpan(0, 4096));
        Assert.That(onDisk[..4096], Is.All.EqualTo((byte)0x42));
        Assert.That(s.P.Pread64(fd, s.U + 4096UL, 4096, 4096), Is.EqualTo(4096), "the buffered view sees the direct write");
        Assert.That(s.UserBytes(s.U + 4096UL, 4096), Is.All.EqualTo((byte)0x42));
    }

    [Test]
    public void NonDaxMount_ODirectWriteOverAKnownBadSector_ClearsIt_Returns512()
    {
        var s = new DaxScenario("6.12", mode: DaxMode.Never);
        var fd = s.CreateFile("F", 8192);
        Assert.That(s.P.Fsync(fd), Is.Zero);
        var sector = s.MarkBad("F", 4096);
        var dfd = (int)s.P.Open(s.Path("F"), Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(s.P.Pread64(dfd, s.U, 512, 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.P.Pwrite64(dfd, s.U, 512, 4096), Is.EqualTo(512), "pmem_clear_poison clears the sector (clear_err_unit 256)");
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.Empty);
        Assert.That(sector, Is.EqualTo(s.Fs.SectorOf("F", 4096)));
    }

    [Test]
    public void NonDaxMount_WritebackOverAnUnclearableBadSector_FsyncEio_ThenClean()
    {
        var s = new DaxScenario("6.12", mode: DaxMode.Never, clearErrUnit: 8192);
        var fd = s.CreateFile("F", 8192);
        Assert.That(s.P.Fsync(fd), Is.Zero);
        s.MarkBad("F", 4096);
        s.WriteData(fd, 4096, 4096);
        Assert.That(s.P.Fsync(fd), Is.EqualTo(-Errno.EIO), "the write-back bio failed: -ENXIO from nvdimm_clear_poison → BLK_STS_IOERR");
        Assert.That(s.P.Fsync(fd), Is.Zero, "reported once");
    }
}
