using KernelSim.Tests.Infrastructure;
using System.Buffers.Binary;
using KernelSim.Block;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Pmem;

/// <summary>devdax and sector namespaces wired to their drivers: dax_pmem on daxR.N, nd_pmem with the BTT on bttR.N.</summary>
public class NdModesTests
{
    private const string Nd = "/sys/bus/nd/devices";
    private const ulong Base = 4UL << 30, M2 = 2UL << 20;

    // One BTT arena on 64 MiB − 4 KiB with 512-byte sectors (docs/kernel/pmem.md BT1).
    private const uint ExternalNlba = 129736;

    private static string Cat(Process p, string path) => Sim.Cat(p, path);

    internal static long Echo(Process p, string path, string text) => p.WriteText(path, text);

    private static Machine Boot(NamespaceMode mode, ulong size = 64UL << 20, ulong align = M2, uint sector = 512, string kernel = "6.12") =>
        new MachineBuilder().WithKernel(kernel).AddPmem(new PmemNamespaceSpec(size, mode, sector) { Align = align }).Build();

    [Test]
    public void BootDevdax_DaxPmemBindsDax01_AndDevDax00AppearsBelowIt()
    {
        var m = Boot(NamespaceMode.Devdax);
        var p = m.Spawn("sh");
        Assert.That(p.ListDir(Nd, out var names), Is.EqualTo(0));
        Assert.That(names, Is.EqualTo(new[] { "ndbus0", "nmem0", "region0", "namespace0.0", "btt0.0", "pfn0.0", "dax0.0", "dax0.1", "namespace0.1" }));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("dax\n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/holder"), Is.EqualTo("dax0.1\n"));
        Assert.That(p.ReadLink($"{Nd}/dax0.1/driver", out var drv), Is.EqualTo(0));
        Assert.That(drv, Is.EqualTo("../../../../../../bus/nd/drivers/dax_pmem"));
        Assert.That(Cat(p, $"{Nd}/dax0.1/resource"), Is.EqualTo("0x100200000\n"));
        Assert.That(Cat(p, $"{Nd}/dax0.1/size"), Is.EqualTo("65011712\n"));
        Assert.That(Cat(p, $"{Nd}/dax0.1/dax_region/id"), Is.EqualTo("0\n"));
        Assert.That(Cat(p, $"{Nd}/dax0.1/dax_region/size"), Is.EqualTo("65011712\n"));
        Assert.That(Cat(p, $"{Nd}/region0/namespace_seed"), Is.EqualTo("namespace0.1\n"), "the dax device's namespace was the seed");
        Assert.That(Cat(p, $"{Nd}/region0/dax_seed"), Is.EqualTo("dax0.0\n"));
        Assert.That(p.ReadLink("/sys/bus/dax/devices/dax0.0", out var target), Is.EqualTo(0));
        Assert.That(target, Is.EqualTo("../../../devices/platform/nfit_test.0/ndbus0/region0/dax0.1/dax0.0"));
        Assert.That(Cat(p, "/sys/bus/dax/devices/dax0.0/resource"), Is.EqualTo("0x100200000\n"));
        Assert.That(Cat(p, "/sys/bus/dax/devices/dax0.0/align"), Is.EqualTo("2097152\n"));
        Assert.That(p.ReadLink("/sys/bus/dax/devices/dax0.0/driver", out _), Is.EqualTo(0));
        Assert.That(Nvdimm.Find(m, "pmem0"), Is.Null, "no block device in devdax mode");
        var dev = m.Services.GetRequiredService<DevTmpFs>();
        Assert.That(dev.CharNodes["dax0.0"].Major, Is.EqualTo(DaxBus.DaxMajor));

        // A MAP_SHARED mapping of the whole device is served by PMD faults from the data area after the info block.
        var fd = (int)p.Open("/dev/dax0.0", Fcntl.O_RDWR);
        var a = p.Mmap(0, 62UL << 20, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        Assert.That(a % (long)M2, Is.Zero);
        Assert.That(p.Store(new UserPtr((ulong)a + 5), [0x5a]).Signal, Is.Null);
        Assert.That(p.Mm.MappingShift((ulong)a), Is.EqualTo(21));
        var b = new byte[1];
        m.Phys.PeekBytes(new PhysAddr(Base + M2 + 5), b);
        Assert.That(b[0], Is.EqualTo(0x5a));
    }

    [Test]
    public void DaxClaimUnbind_RemovesDevDax_AndZapsTheMapping_BindBringsItBack()
    {
        var m = Boot(NamespaceMode.Devdax);
        var p = m.Spawn("sh");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var fd = (int)p.Open("/dev/dax0.0", Fcntl.O_RDWR);
        var a = (ulong)p.Mmap(0, M2, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        Assert.That(p.LoadByte(new UserPtr(a), out _).Signal, Is.Null);
        Assert.That(Echo(p, "/sys/bus/nd/drivers/dax_pmem/unbind", "dax0.1"), Is.EqualTo(6));
        Assert.That(p.Open("/dev/dax0.0", Fcntl.O_RDWR), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.ReadLink("/sys/bus/dax/devices/dax0.0", out _), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.ListDir($"{Nd}/dax0.1", out var names), Is.EqualTo(0));
        Assert.That(names, Has.No.Member("dax_region").And.No.Member("dax0.0"));
        Assert.That(p.Mm.PfnAt(a), Is.Null, "kill_dev_dax zapped the mapping");
        Assert.That(p.LoadByte(new UserPtr(a), out _).Signal?.Signo, Is.EqualTo(Sig.SIGBUS), "the device is dead: the fault is SIGBUS");
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("dax\n"), "still claimed");

        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/bind", "dax0.1"), Is.EqualTo(-Errno.ENODEV), "a dax device is dax_pmem's");
        Assert.That(Echo(p, "/sys/bus/nd/drivers/dax_pmem/bind", "dax0.1"), Is.EqualTo(6));
        Assert.That(p.Open("/dev/dax0.0", Fcntl.O_RDWR), Is.GreaterThanOrEqualTo(0));
        Assert.That(Echo(p, "/sys/bus/nd/drivers/dax_pmem/bind", "dax0.1"), Is.EqualTo(-Errno.EBUSY));
    }

    [Test]
    public void BootSector_NdBttProbeFindsTheArena_Btt01_Pmem0s()
    {
        var m = Boot(NamespaceMode.Sector);
        var p = m.Spawn("sh");
        Assert.That(p.ListDir(Nd, out var names), Is.EqualTo(0));
        Assert.That(names, Is.EqualTo(new[] { "ndbus0", "nmem0", "region0", "namespace0.0", "btt0.0", "pfn0.0", "dax0.0", "btt0.1", "namespace0.1" }));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("safe\n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/holder"), Is.EqualTo("btt0.1\n"));
        Assert.That(Cat(p, $"{Nd}/btt0.1/uuid"), Is.EqualTo("00000000-0000-4000-8000-000000000200\n"), "read from the info block");
        Assert.That(Cat(p, $"{Nd}/btt0.1/sector_size"), Is.EqualTo("[512] 520 528 4096 4104 4160 4224 \n"));
        Assert.That(Cat(p, $"{Nd}/btt0.1/size"), Is.EqualTo($"{ExternalNlba * 512UL}\n"));
        Assert.That(p.ReadText($"{Nd}/btt0.0/size", out _), Is.EqualTo(-Errno.ENXIO));
        Assert.That(p.ReadLink($"{Nd}/btt0.1/driver", out var drv), Is.EqualTo(0));
        Assert.That(drv, Is.EqualTo("../../../../../../bus/nd/drivers/nd_pmem"));
        var btt = m.NvdimmBus()!.FindDevice("btt0.1") is NdClaim c ? c.Btt! : null;
        Assert.That(btt, Is.Not.Null);
        Assert.That(btt!.Discovered, Is.True, "discover_arenas found the boot layout");
        Assert.That(btt.Disk!.Name, Is.EqualTo("pmem0s"));
        Assert.That(m.State.Dmesg, Does.Not.Contain("No existing arenas"));
        Assert.That(p.Open("/dev/pmem0", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));

        var fd = (int)p.Open("/dev/pmem0s", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        var u = p.MapAnonymous(4096);
        p.Fill(u, 512, _ => 0x42);
        Assert.That(p.Pwrite64(fd, u, 512, 512), Is.EqualTo(512));
        Assert.That(p.Pread64(fd, u + 512UL, 512, 512), Is.EqualTo(512));
        Assert.That(p.Peek(u + 512UL, 1), Is.EqualTo(new byte?[] { 0x42 }));
        // The write went to lane 0's free block (ExternalNlba), not to block 1.
        var b = new byte[1];
        m.Phys.PeekBytes(new PhysAddr(Base + 8192 + ExternalNlba * 512UL), b);
        Assert.That(b[0], Is.EqualTo(0x42));
    }

    [Test]
    public void BttDevice_ConfiguredThroughSysfs_IncompleteIsEnodev_ThenANewLayout()
    {
        var m = Boot(NamespaceMode.Raw);
        var p = m.Spawn("sh");
        const string drv = "/sys/bus/nd/drivers/nd_pmem";
        Assert.That(Echo(p, $"{drv}/unbind", "namespace0.0"), Is.EqualTo(12));
        Assert.That(Echo(p, $"{Nd}/btt0.0/namespace", "namespace0.0\n"), Is.EqualTo(13));
        Assert.That(Echo(p, $"{drv}/bind", "btt0.0"), Is.EqualTo(-Errno.ENODEV), "no uuid, no sector size");
        Assert.That(m.State.Dmesg, Does.Contain("nd_pmem btt0.0: incomplete btt configuration"));
        Assert.That(Echo(p, $"{Nd}/btt0.0/uuid", "0a0b0c0d-0000-4000-8000-000000000007\n"), Is.EqualTo(37));
        Assert.That(Echo(p, $"{Nd}/btt0.0/sector_size", "4096\n"), Is.EqualTo(5));
        Assert.That(Echo(p, $"{drv}/bind", "btt0.0"), Is.EqualTo(6));
        Assert.That(m.State.Dmesg, Does.Contain("nd_btt namespace0.0: No existing arenas"));
        Assert.That(Cat(p, $"{Nd}/region0/btt_seed"), Is.EqualTo("btt0.1\n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("safe\n"));
        Assert.That(Echo(p, $"{Nd}/btt0.0/sector_size", "512\n"), Is.EqualTo(-Errno.EBUSY));
        var fd = (int)p.Open("/dev/pmem0s", Fcntl.O_RDONLY);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(p.Close(fd), Is.Zero);

        // The namespace itself cannot be bound while claimed; unbinding the btt device removes the disk.
        Assert.That(Echo(p, $"{drv}/bind", "namespace0.0"), Is.EqualTo(-Errno.ENXIO));
        Assert.That(Echo(p, $"{drv}/unbind", "btt0.0"), Is.EqualTo(6));
        Assert.That(p.Open("/dev/pmem0s", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.ReadText($"{Nd}/btt0.0/size", out _), Is.EqualTo(-Errno.ENXIO));
        // Rebinding finds the layout it wrote.
        Assert.That(Echo(p, $"{drv}/bind", "btt0.0"), Is.EqualTo(6));
        var c = (NdClaim)m.NvdimmBus()!.FindDevice("btt0.0")!;
        Assert.That(c.Btt!.Discovered, Is.True);
        Assert.That(c.Btt.SectorSize, Is.EqualTo(4096u));
    }

    [Test]
    public void SectorSpecs_TooSmallForAnArena_AreRefusedAtSetup()
    {
        Assert.Throws<ArgumentException>(() => Boot(NamespaceMode.Sector, size: 16UL << 20));
    }

    [Test]
    public void RevalidatePoison_ReachesTheBttNamespace_ReadIsEio()
    {
        var m = Boot(NamespaceMode.Sector);
        var p = m.Spawn("dd");
        var bus = m.NvdimmBus()!;
        var c = (NdClaim)bus.FindDevice("btt0.1")!;
        // LBA 5 is identity-mapped at boot: namespace byte 8192 + 5·512, sector 21.
        Assert.That(bus.Firmware!.InjectSet(Base + 8192 + 5 * 512, 512, notify: true), Is.EqualTo(0));
        m.WorkQueue.RunPending();
        Assert.That(c.Ns!.Io!.Bb.Show(), Is.EqualTo("21 1\n"), "nd_pmem_notify filled nsio->bb");
        Assert.That(Cat(p, $"{Nd}/region0/badblocks"), Is.EqualTo("21 1\n"));
        var fd = (int)p.Open("/dev/pmem0s", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        var u = p.MapAnonymous(4096);
        Assert.That(p.Pread64(fd, u, 512, 5 * 512), Is.EqualTo(-Errno.EIO));
        Assert.That(m.Mce.Log, Is.Empty, "refused from the badblocks, the media was not touched");
    }

    [Test]
    public void Qemu_MemmapErrorThatCannotBeCleared_PfnBindSpinsForever_ReportedAsALivelock()
    {
        // QEMU has no clear-error DSM: nvdimm_clear_poison fails, nsio_rw_bytes still returns 0 (NS2), and
        // nd_pfn_clear_memmap_errors finds the same region badblock on every pass.
        var m = NdReconfigTests.Qemu();
        var p = m.Spawn("sh");
        var fd = (int)p.Open("/dev/pmem0", Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        var u = p.MapAnonymous(4096);
        Assert.That(m.InjectPoison(new PhysAddr(Base + 0x10000)), Is.Zero);
        Assert.That(p.Pread64(fd, u, 512, 0x10000), Is.EqualTo(-Errno.EIO), "consumed: nfit_handle_mce records the line");
        p.Close(fd);
        Assert.That(Cat(p, $"{Nd}/region0/badblocks"), Is.EqualTo("128 1\n"), "inside the memmap area of a future pfn device");
        var s = new NdByHand(p);
        s.Disable();
        Assert.That(Echo(p, $"{Nd}/pfn0.0/uuid", "a6b7c8d9-0000-4000-8000-000000000009"), Is.EqualTo(36));
        Assert.That(Echo(p, $"{Nd}/pfn0.0/mode", "pmem"), Is.EqualTo(4));
        Assert.That(Echo(p, $"{Nd}/pfn0.0/namespace", "namespace0.0"), Is.EqualTo(12));
        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/bind", "pfn0.0"), Is.EqualTo(Machine.NoReturn));
        Assert.That(p.State, Is.EqualTo(ProcessState.Livelocked));
        Assert.That(p.StuckReason, Is.EqualTo("no progress after 8 retries in nd_pfn_clear_memmap_errors"));
    }
}
