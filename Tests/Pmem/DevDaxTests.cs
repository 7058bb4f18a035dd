using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Pmem;

/// <summary>device-dax (drivers/dax): /dev/daxR.N, check_vma, PUD/PMD/PTE faults, placement, poison and sysfs.</summary>
public class DevDaxTests
{
    private const ulong K4 = 4096, M2 = 2UL << 20, G1 = 1UL << 30;

    private sealed class Rig
    {
        public required Machine M;
        public required PmemDevice Ns;
        public required DevDax Dax;
        public required Process P;
    }

    /// <summary>A raw namespace at 4 GiB; the dev_dax covers [base + offset, +size) as dax_pmem would after the info block.</summary>
    private static Rig Boot(string kernel, ulong align, ulong nsSize = 64UL << 20, ulong offset = 2UL << 20, ulong size = 60UL << 20)
    {
        var m = new MachineBuilder().WithKernel(kernel).AddPmem(new PmemNamespaceSpec(nsSize, NamespaceMode.Raw)).Build();
        var ns = m.Pmem();
        var parent = m.Services.GetRequiredService<Sysfs>().Root.Dir("devices/platform/ndbus0/region0/dax0.0");
        Assert.That(DevDax.Attach(m, 0, 0, ns.PhysAddr + offset, size, align, parent, out var dax), Is.EqualTo(0));
        var p = m.Spawn("daxio");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch); // the process survives to be inspected
        return new Rig { M = m, Ns = ns, Dax = dax!, P = p };
    }

    private static ulong MapShared(Rig r, ulong len, long offset = 0, int fd = -1)
    {
        if (fd < 0) fd = (int)r.P.Open("/dev/dax0.0", Fcntl.O_RDWR);
        var a = r.P.Mmap(0, len, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, offset);
        Assert.That(a, Is.GreaterThan(0), Errno.Describe(a));
        return (ulong)a;
    }

    [Test]
    public void Attach_CharDeviceAndSysfs()
    {
        var r = Boot("6.12", M2);
        var dev = r.M.Services.GetRequiredService<KernelSim.Block.DevTmpFs>();
        Assert.That(dev.CharNodes["dax0.0"].Major, Is.EqualTo(252u));
        Assert.That(dev.CharNodes["dax0.0"].Minor, Is.EqualTo(0u));
        Assert.That(dev.CharNodes["dax0.0"].Mode, Is.EqualTo(Fcntl.S_IFCHR | 0x180));
        string Read(string path)
        {
            Assert.That(r.P.ReadText(path, out var t), Is.EqualTo(0), path);
            return t;
        }
        const string d = "/sys/bus/dax/devices/dax0.0/";
        Assert.That(Read(d + "size"), Is.EqualTo($"{60UL << 20}\n"));
        Assert.That(Read(d + "align"), Is.EqualTo("2097152\n"));
        Assert.That(Read(d + "resource"), Is.EqualTo("0x100200000\n"));
        Assert.That(Read(d + "modalias"), Is.EqualTo("dax:t0\n"));
        Assert.That(Read(d + "target_node"), Is.EqualTo("0\n"));
        Assert.That(Read(d + "dev"), Is.EqualTo("252:0\n"));
        Assert.That(Read(d + "mapping0/start"), Is.EqualTo("0x100200000\n"));
        Assert.That(Read(d + "mapping0/end"), Is.EqualTo("0x103dfffff\n"));
        Assert.That(Read(d + "mapping0/page_offset"), Is.EqualTo("0\n"));
        Assert.That(Read("/sys/devices/platform/ndbus0/region0/dax0.0/dax_region/id"), Is.EqualTo("0\n"));
        Assert.That(Read("/sys/devices/platform/ndbus0/region0/dax0.0/dax_region/align"), Is.EqualTo("2097152\n"));
        Assert.That(r.P.ReadLink("/sys/bus/dax/devices/dax0.0", out var target), Is.EqualTo(0));
        Assert.That(target, Is.EqualTo("../../../devices/platform/ndbus0/region0/dax0.0/dax0.0"));
        Assert.That(r.P.ReadLink(d + "driver", out target), Is.EqualTo(0));
        Assert.That(target, Is.EqualTo("../../../../../../bus/dax/drivers/device_dax"));
        Assert.That(r.P.ReadLink("/sys/bus/dax/drivers/device_dax/dax0.0", out _), Is.EqualTo(0));
        Assert.That(r.P.WriteText(d + "size", "0"), Is.EqualTo(-Errno.EACCES), "static region: size is 0444");
        Assert.That(r.P.ListDir("/sys/devices/platform/ndbus0/region0/dax0.0/dax_region", out var names), Is.EqualTo(0));
        Assert.That(names, Is.EquivalentTo(new[] { "id", "size", "align" }));
    }

    [Test]
    public void ReadWriteRefused_LseekDoesNotMove()
    {
        var r = Boot("6.12", M2);
        var fd = (int)r.P.Open("/dev/dax0.0", Fcntl.O_RDWR);
        var u = r.P.MapAnonymous(K4);
        Assert.That(r.P.Read(fd, u, 16), Is.EqualTo(-Errno.EINVAL));
        Assert.That(r.P.Write(fd, u, 16), Is.EqualTo(-Errno.EINVAL));
        Assert.That(r.P.Pread64(fd, u, 16, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(r.P.Lseek(fd, 4096, Fcntl.SEEK_SET), Is.EqualTo(0));
    }

    [Test]
    public void Mmap_CheckVma_Errnos()
    {
        var r = Boot("6.12", M2);
        var fd = (int)r.P.Open("/dev/dax0.0", Fcntl.O_RDWR);
        const int rw = Mman.PROT_READ | Mman.PROT_WRITE;
        Assert.That(r.P.Mmap(0, M2, rw, Mman.MAP_PRIVATE, fd, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(r.M.State.Dmesg, Does.Contain("device_dax dax0.0: daxio: dax_mmap: fail, attempted private mapping"));
        Assert.That(r.P.Mmap(0, K4, rw, Mman.MAP_SHARED, fd, 0), Is.EqualTo(-Errno.EINVAL), "a 4 KiB vma on a 2 MiB device");
        Assert.That(r.M.State.Dmesg.Last(), Does.StartWith("device_dax dax0.0: daxio: dax_mmap: fail, unaligned vma ("));
        Assert.That(r.P.Mmap(0x7f0000001000, M2, rw, Mman.MAP_SHARED | Mman.MAP_FIXED, fd, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(r.P.Mmap(0, M2, rw, Mman.MAP_SHARED_VALIDATE | Mman.MAP_SYNC, fd, 0), Is.GreaterThan(0), "MAP_SYNC is supported");
        var ro = (int)r.P.Open("/dev/dax0.0", Fcntl.O_RDONLY);
        Assert.That(r.P.Mmap(0, M2, rw, Mman.MAP_SHARED, ro, 0), Is.EqualTo(-Errno.EACCES));
    }

    [Test]
    public void Placement_AlignsTheMapping_AndPmdFaultsServeIt()
    {
        var r = Boot("6.12", M2);
        var a = MapShared(r, 8UL << 20);
        Assert.That(a, Is.EqualTo(0x7ffff7600000UL), "mm placement of 10 MiB moved up to the next 2 MiB boundary");
        Assert.That(r.P.Store(new UserPtr(a + 0x1234), new byte[] { 0xab }).Completed(1), Is.True);
        Assert.That((r.Dax.PudFaults, r.Dax.PmdFaults, r.Dax.PteFaults), Is.EqualTo((0, 1, 0)));
        Assert.That(r.P.Mm.MappingShift(a + 0x1ff000), Is.EqualTo(21));
        Assert.That(r.P.Mm.PfnAt(a), Is.EqualTo(r.Dax.Start >> 12));
        Assert.That(r.P.Store(new UserPtr(a + 0x10), new byte[] { 1 }).Completed(1), Is.True);
        Assert.That(r.Dax.PmdFaults, Is.EqualTo(1), "the PMD maps the whole block");
        Assert.That(r.P.LoadByte(new UserPtr(a + (3UL << 20)), out _).Signal, Is.Null);
        Assert.That(r.Dax.PmdFaults, Is.EqualTo(2));
        var b = new byte[1];
        r.M.Phys.PeekBytes(new PhysAddr(r.Dax.Start + 0x1234), b);
        Assert.That(b[0], Is.EqualTo(0xab));
    }

    [Test]
    public void Align4K_PteFaults()
    {
        var r = Boot("6.12", K4, offset: 8192, size: 32UL << 20);
        var a = MapShared(r, 64 * K4);
        Assert.That(r.P.Store(new UserPtr(a + 5 * K4 + 1), new byte[] { 7 }).Completed(1), Is.True);
        Assert.That((r.Dax.PudFaults, r.Dax.PmdFaults, r.Dax.PteFaults), Is.EqualTo((0, 0, 1)));
        Assert.That(r.P.Mm.MappingShift(a + 5 * K4), Is.EqualTo(12));
        Assert.That(r.P.Mm.PfnAt(a + 5 * K4), Is.EqualTo((r.Dax.Start >> 12) + 5));
    }

    [Test]
    public void Align1G_PudFault()
    {
        var r = Boot("6.12", G1, nsSize: 3 * G1, offset: G1, size: 2 * G1);
        var a = MapShared(r, 2 * G1);
        Assert.That(a % G1, Is.Zero);
        Assert.That(r.P.LoadByte(new UserPtr(a + G1 + 12345), out _).Signal, Is.Null);
        Assert.That((r.Dax.PudFaults, r.Dax.PmdFaults, r.Dax.PteFaults), Is.EqualTo((1, 0, 0)));
        Assert.That(r.P.Mm.MappingShift(a + G1), Is.EqualTo(30));
        Assert.That(r.P.Mm.PfnAt(a + G1 + 12345), Is.EqualTo((r.Dax.Start + G1 + 12288) >> 12));
    }

    [Test]
    public void FaultBeyondTheDevice_IsSigbusAdrerr()
    {
        var r = Boot("6.12", M2);
        var a = MapShared(r, M2, offset: 60L << 20); // mmap does not check the size
        var res = r.P.LoadByte(new UserPtr(a + 8), out _);
        Assert.That(res.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_ADRERR, a + 8, 0, true)));
    }

    /// <summary>Poison in the second 2 MiB block, touched first at an unaligned address.</summary>
    [TestCase("5.10", 0x201000UL)]
    [TestCase("6.12", 0x200000UL)]
    public void Poison2M_SiAddrAndLsb_PerRelease(string kernel, ulong siOffset)
    {
        var r = Boot(kernel, M2);
        var a = MapShared(r, 8UL << 20);
        Assert.That(r.P.LoadByte(new UserPtr(a + 0x10), out _).Signal, Is.Null);
        Assert.That(r.P.LoadByte(new UserPtr(a + 0x201240), out _).Signal, Is.Null);
        Assert.That(r.M.InjectPoison(new PhysAddr(r.Dax.Start + 0x201240)), Is.EqualTo(0));
        var res = r.P.LoadByte(new UserPtr(a + 0x201240), out _);
        Assert.That(res.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + siOffset, 21, true)));
        Assert.That(r.M.State.Dmesg, Does.Contain($"Memory failure: 0x{(r.Dax.Start + 0x201000) >> 12:x}: recovery action for dax page: Recovered"));
        Assert.That(r.P.Mm.PfnAt(a + 0x200000), Is.Null, "the whole PMD was unmapped");
        Assert.That(r.P.Mm.PfnAt(a), Is.Not.Null, "the first block stays");
        var poisonedPage = kernel == "5.10" ? (r.Dax.Start + 0x201000) >> 12 : (r.Dax.Start + 0x200000) >> 12;
        Assert.That(r.M.Phys.Frame(poisonedPage).IsHwPoison, Is.True, "PG_hwpoison on the page (≤5.16) or its compound head");
    }

    [Test]
    public void Poison2M_On6_1_TheHeadIndexIsTheNextBlock_NoSignal_EndlessMachineChecks()
    {
        // 5.17–6.11: ALIGN(address, 2 MiB) — the block at a + 4 MiB, which nothing maps: no task to kill, "Recovered",
        // and the poisoned PMD stays mapped, so the load consumes the poison again and again.
        var r = Boot("6.1", M2);
        var a = MapShared(r, 8UL << 20);
        Assert.That(r.P.LoadByte(new UserPtr(a + 0x201240), out _).Signal, Is.Null);
        Assert.That(r.Dax.PageIndex((r.Dax.Start + 0x201000) >> 12), Is.EqualTo(1024UL), "the index of block 2");
        Assert.That(r.M.InjectPoison(new PhysAddr(r.Dax.Start + 0x201240)), Is.EqualTo(0));
        var res = r.P.LoadByte(new UserPtr(a + 0x201240), out _);
        Assert.That(res.Signal, Is.Null);
        Assert.That(res.Outcome, Does.Contain("livelock"));
        Assert.That(r.P.Mm.PfnAt(a + 0x200000), Is.Not.Null);
    }

    [Test]
    public void Poison2M_On6_1_WithTheNextBlockMapped_SignalsAtTheWrongBlock()
    {
        var r = Boot("6.1", M2);
        var a = MapShared(r, 8UL << 20);
        Assert.That(r.P.LoadByte(new UserPtr(a + 0x201240), out _).Signal, Is.Null);
        Assert.That(r.P.LoadByte(new UserPtr(a + 0x400000), out _).Signal, Is.Null);
        Assert.That(r.M.InjectPoison(new PhysAddr(r.Dax.Start + 0x201240)), Is.EqualTo(0));
        var res = r.P.LoadByte(new UserPtr(a + 0x201240), out _);
        Assert.That(res.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + 0x400000, 21, true)));
        Assert.That(r.P.Mm.PfnAt(a + 0x400000), Is.Null, "the wrong block was unmapped");
        Assert.That(r.P.Mm.PfnAt(a + 0x200000), Is.Not.Null, "the poisoned one stays mapped");
    }

    [TestCase("5.10")]
    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Poison4K_ExactPageLsb12_EveryRelease(string kernel)
    {
        var r = Boot(kernel, K4, offset: 8192, size: 32UL << 20);
        var a = MapShared(r, 64 * K4);
        Assert.That(r.P.LoadByte(new UserPtr(a + 3 * K4 + 100), out _).Signal, Is.Null);
        Assert.That(r.M.InjectPoison(new PhysAddr(r.Dax.Start + 3 * K4 + 64)), Is.EqualTo(0));
        var res = r.P.LoadByte(new UserPtr(a + 3 * K4 + 100), out _);
        Assert.That(res.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + 3 * K4, 12, true)));
    }

    [TestCase("5.10", 0x3000UL)]
    [TestCase("6.12", 0UL)]
    public void Poison1G_SiAddrAndLsb30(string kernel, ulong siOffset)
    {
        var r = Boot(kernel, G1, nsSize: 3 * G1, offset: G1, size: 2 * G1);
        var a = MapShared(r, 2 * G1);
        Assert.That(r.P.LoadByte(new UserPtr(a + 0x3008), out _).Signal, Is.Null);
        Assert.That(r.M.InjectPoison(new PhysAddr(r.Dax.Start + 0x3000)), Is.EqualTo(0));
        var res = r.P.LoadByte(new UserPtr(a + 0x3008), out _);
        Assert.That(res.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + siOffset, 30, true)));
        Assert.That(r.P.Mm.PfnAt(a), Is.Null);
    }

    [Test]
    public void Poison_Before419_IsNotRecovered_PlainSigbus()
    {
        var r = Boot("4.18", M2);
        var a = MapShared(r, M2);
        Assert.That(r.M.InjectPoison(new PhysAddr(r.Dax.Start + 0x40)), Is.EqualTo(0));
        var res = r.P.LoadByte(new UserPtr(a + 0x40), out _);
        Assert.That(res.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.SI_KERNEL, 0, 0, true)));
        Assert.That(r.M.State.Dmesg, Does.Contain("Memory error not recovered"));
    }

    [Test]
    public void PoisonStays_ARetouchRefaultsAndSignalsAgain()
    {
        var r = Boot("6.12", M2);
        var a = MapShared(r, 4UL << 20);
        Assert.That(r.M.InjectPoison(new PhysAddr(r.Dax.Start + 0x80)), Is.EqualTo(0));
        Assert.That(r.P.LoadByte(new UserPtr(a + 0x80), out _).Signal?.Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
        Assert.That(r.P.LoadByte(new UserPtr(a + 0x80), out _).Signal?.Code, Is.EqualTo(Sig.BUS_MCEERR_AR), "no clearing in place");
        Assert.That(r.Dax.PmdFaults, Is.EqualTo(2));
    }

    [Test]
    public void MadvHwpoison_SignalsInsideMadvise()
    {
        var r = Boot("6.12", M2);
        var a = MapShared(r, 4UL << 20);
        Assert.That(r.P.Madvise(a + 0x201000, K4, Mman.MADV_HWPOISON), Is.EqualTo(0));
        Assert.That(r.P.SignalsReceived.Last(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + 0x200000, 21, true)));
    }

    [Test]
    public void Unbind_ZapsMappings_OpenIsEnxio_BindRestores()
    {
        var r = Boot("6.12", M2);
        var fd = (int)r.P.Open("/dev/dax0.0", Fcntl.O_RDWR);
        var a = MapShared(r, M2, fd: fd);
        Assert.That(r.P.LoadByte(new UserPtr(a), out _).Signal, Is.Null);
        const string drv = "/sys/bus/dax/drivers/device_dax/";
        Assert.That(r.P.WriteText(drv + "unbind", "dax0.0\n"), Is.EqualTo(7));
        Assert.That(r.Dax.Bound, Is.False);
        Assert.That(r.P.Mm.PfnAt(a), Is.Null);
        Assert.That(r.P.LoadByte(new UserPtr(a + 1), out _).Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_ADRERR, a + 1, 0, true)));
        Assert.That(r.P.Open("/dev/dax0.0", Fcntl.O_RDWR), Is.EqualTo(-Errno.ENXIO));
        Assert.That(r.P.Mmap(0, M2, Mman.PROT_READ, Mman.MAP_SHARED, fd, 0), Is.EqualTo(-Errno.ENXIO));
        Assert.That(r.P.ReadLink("/sys/bus/dax/devices/dax0.0/driver", out _), Is.EqualTo(-Errno.ENOENT));
        Assert.That(r.P.WriteText(drv + "unbind", "dax0.0"), Is.EqualTo(-Errno.ENODEV));
        Assert.That(r.P.WriteText(drv + "bind", "dax9.9"), Is.EqualTo(-Errno.ENODEV));
        Assert.That(r.P.WriteText(drv + "new_id", "dax0"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(r.P.WriteText(drv + "bind", "dax0.0"), Is.EqualTo(6));
        Assert.That(r.P.WriteText(drv + "bind", "dax0.0"), Is.EqualTo(-Errno.ENODEV), "already bound");
        Assert.That(r.P.Open("/dev/dax0.0", Fcntl.O_RDWR), Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void Attach_Errors_AndDetach()
    {
        var r = Boot("6.12", M2);
        var parent = r.M.Services.GetRequiredService<Sysfs>().Root.Dir("devices/platform/ndbus0/region0/dax0.1");
        Assert.That(DevDax.Attach(r.M, 0, 1, r.Dax.Start, M2, 8192, parent, out _), Is.EqualTo(-Errno.EINVAL));
        Assert.That(DevDax.Attach(r.M, 0, 1, r.Dax.Start + K4, M2, M2, parent, out _), Is.EqualTo(-Errno.ENOMEM));
        Assert.That(DevDax.Attach(r.M, 0, 0, r.Dax.Start, M2, M2, parent, out _), Is.EqualTo(-Errno.EEXIST));
        Assert.That(r.Dax.Detach(), Is.EqualTo(0));
        Assert.That(r.Dax.Detach(), Is.EqualTo(-Errno.ENXIO));
        Assert.That(r.P.Open("/dev/dax0.0", Fcntl.O_RDWR), Is.EqualTo(-Errno.ENOENT));
        Assert.That(r.P.ReadText("/sys/bus/dax/devices/dax0.0/size", out _), Is.EqualTo(-Errno.ENOENT));
        var noPmem = new MachineBuilder().Build();
        Assert.That(DevDax.Attach(noPmem, 0, 0, 4UL << 30, M2, M2, parent, out _), Is.EqualTo(-Errno.ENODEV));
    }
}
