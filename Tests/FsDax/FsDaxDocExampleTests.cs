using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>The example shown in docs/fsdax.md (the doc quotes this file verbatim).</summary>
public class FsDaxDocExampleTests
{
    [Test]
    public void SameLatentPoison_DaxShortCount_BlockPathEio()
    {
        // Linux 6.12 with a 64 MiB fsdax namespace (/dev/pmem0); format it and mount with dax=always.
        var m = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString)
            .AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs().Build();
        var pmem = m.Pmem();
        var fs = DaxFs.FormatAndMount(m, pmem.Disk, new DaxFsOptions { Dax = DaxMode.Always });

        // A process writes 64 KiB into /mnt/pmem/F.
        var p = m.Spawn("app");
        var buf = p.MapAnonymous(64 * 1024);
        Assert.That(p.Fill(buf, 64 * 1024, i => (byte)i).Done, Is.EqualTo(64UL * 1024));
        var fd = (int)p.Open(fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Pwrite64(fd, buf, 64 * 1024, 0), Is.EqualTo(64 * 1024));

        // filefrag: where does file byte 4160 live? Poison that 64-byte line (EINJ, latent).
        var dev = fs.DeviceOffsetOf("F", 4160);
        Assert.That(m.InjectPoison(new PhysAddr(pmem.DataPhys((ulong)dev))), Is.Zero);

        // DAX: copy_mc_to_user stops at the poisoned line, so read(2) returns a short count.
        Assert.That(p.Pread64(fd, buf, 8192, 0), Is.EqualTo(4160));
        Assert.That(p.AllSignals, Is.Empty);
        // NFIT's machine-check notifier recorded the sector: the next DAX read of that page is refused.
        Assert.That(pmem.Disk.BadblocksShow(), Is.EqualTo($"{fs.SectorOf("F", 4096)} 1\n"));
        Assert.That(p.Pread64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO));

        // The same image mounted without DAX reads through the page cache and the pmem driver: EIO.
        Assert.That(p.Close(fd), Is.Zero);
        Assert.That(fs.Unmount(), Is.Zero);
        Assert.That(DaxFs.Mount(m, pmem.Disk, fs.Volume, new DaxFsOptions { Dax = DaxMode.Never }, out var blockFs), Is.Zero);
        fd = (int)p.Open(blockFs!.PathOf("F"), Fcntl.O_RDONLY);
        Assert.That(p.Pread64(fd, buf, 4096, 0), Is.EqualTo(4096));
        Assert.That(p.Pread64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO));
    }
}
