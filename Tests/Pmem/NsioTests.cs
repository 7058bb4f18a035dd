using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>nsio_rw_bytes (drivers/nvdimm/claim.c) over a raw namespace: reads, the write-clears-poison rule, and errnos.</summary>
public class NsioTests
{
    internal static (Machine M, PmemDevice Dev, Nsio Ns) Raw(string kernel = "6.12", ulong size = 64UL << 20, Action<PmemOptions>? more = null, CpuModel? cpu = null)
    {
        var m = new MachineBuilder().WithKernel(kernel).WithCpu(cpu ?? CpuModel.FastString).AddPmem(o =>
        {
            o.Namespaces.Add(new PmemNamespaceSpec(size, NamespaceMode.Raw));
            more?.Invoke(o);
        }).Build();
        var dev = m.Pmem();
        return (m, dev, new Nsio(m, dev.Region, "namespace0.0", dev.PhysAddr, dev.Size));
    }

    private static byte[] Media(Machine m, ulong phys, int len)
    {
        var b = new byte[len];
        m.Phys.PeekBytes(new PhysAddr(phys), b);
        return b;
    }

    [Test]
    public void Read_CopiesFromTheMedia_AndWriteReachesIt()
    {
        var (m, dev, ns) = Raw();
        m.Phys.PokeBytes(new PhysAddr(dev.PhysAddr + 1000), [1, 2, 3, 4]);
        var buf = Sim.KernelFilled(m, 4096);
        Assert.That(ns.RwBytes(1000, buf, 4, write: false, NvdimmIoFlags.None), Is.EqualTo(0));
        Assert.That(Sim.ReadKernel(m, buf, 5), Is.EqualTo(new byte[] { 1, 2, 3, 4, 0xff }));
        Assert.That(ns.RwBytes(2000, buf, 3, write: true, NvdimmIoFlags.NVDIMM_IO_ATOMIC), Is.EqualTo(0));
        Assert.That(Media(m, dev.PhysAddr + 2000, 3), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(ns.Flushes, Is.EqualTo(1));
    }

    [Test]
    public void EmptyAndOutOfRange()
    {
        var (m, _, ns) = Raw();
        var buf = Sim.KernelFilled(m, 4096);
        Assert.That(ns.RwBytes(ns.Size, buf, 0, write: false, NvdimmIoFlags.None), Is.EqualTo(0));
        Assert.That(ns.RwBytes(ns.Size - 1, buf, 2, write: false, NvdimmIoFlags.None), Is.EqualTo(-Errno.EFAULT));
        Assert.That(ns.RwBytes(ns.Size - 1, buf, 2, write: true, NvdimmIoFlags.None), Is.EqualTo(-Errno.EFAULT));
        Assert.That(m.State.Dmesg, Does.Contain("WARNING: namespace0.0: request out of range"));
    }

    [Test]
    public void KnownBadSector_ReadIsEio_WithoutTouchingTheMedia()
    {
        var (m, dev, ns) = Raw();
        Assert.That(Ndctl.Run(m.Spawn("ndctl"), "inject-error namespace0.0 --block=8 --count=1").Rc, Is.Zero);
        ns.RevalidatePoison();
        Assert.That(ns.Bb.Show(), Is.EqualTo("8 1\n"));
        var buf = Sim.KernelFilled(m, 4096);
        var mces = m.Mce.Log.Count;
        Assert.That(ns.RwBytes(8 * 512 + 500, buf, 100, write: false, NvdimmIoFlags.None), Is.EqualTo(-Errno.EIO), "500..600 of the range rounds out to sectors 8–9");
        Assert.That(ns.RwBytes(7 * 512, buf, 512, write: false, NvdimmIoFlags.None), Is.EqualTo(0), "the sector before is fine");
        Assert.That(m.Mce.Log.Count, Is.EqualTo(mces));
    }

    [TestCase("6.12", -5)]
    [TestCase("5.4", 512)]
    public void LatentPoison_Read_CopyMcResult_OnAMcsafeCpu(string kernel, int expected)
    {
        // 5.10+: copy_mc_to_kernel != 0 → −EIO; 4.18–5.9: memcpy_mcsafe's bytes-remaining count returned as is.
        var (m, dev, ns) = Raw(kernel, cpu: CpuModel.Fragile);
        Assert.That(m.InjectPoison(new PhysAddr(dev.PhysAddr + 4096)), Is.EqualTo(0));
        var buf = Sim.KernelFilled(m, 4096);
        var r = m.Run(() => (long)ns.RwBytes(4096, buf, 512, write: false, NvdimmIoFlags.None));
        Assert.That(r.Value, Is.EqualTo(expected));
        Assert.That(ns.Bb.Count, Is.Zero, "no badblocks until the notifier's revalidation");
    }

    [Test]
    public void LatentPoison_Read_Before510_WithoutMcsafeKey_IsAFatalMachineCheck()
    {
        // memcpy_mcsafe falls back to memcpy when mcsafe_key is off: the kernel consumes the poison unprotected.
        var (m, dev, ns) = Raw("5.4", cpu: CpuModel.FastString);
        Assert.That(m.InjectPoison(new PhysAddr(dev.PhysAddr + 4096)), Is.EqualTo(0));
        var buf = Sim.KernelFilled(m, 4096);
        var r = m.Run(() => (long)ns.RwBytes(4096, buf, 512, write: false, NvdimmIoFlags.None));
        Assert.That(r.Returned, Is.False);
        Assert.That(r.Outcome, Does.Contain("Fatal local machine check"));
    }

    [Test]
    public void Write_AlignedOverBadSector_ClearsPoisonAndBadblocks()
    {
        var (m, dev, ns) = Raw();
        Assert.That(Ndctl.Run(m.Spawn("ndctl"), "inject-error namespace0.0 --block=8 --count=2").Rc, Is.Zero);
        ns.RevalidatePoison();
        Assert.That(m.Phys.IsPoisoned(new PhysAddr(dev.PhysAddr + 8 * 512)), Is.True);
        var buf = Sim.KernelBuffer(m, 4096, seed: 3);
        Assert.That(ns.RwBytes(8 * 512, buf, 512, write: true, NvdimmIoFlags.None), Is.EqualTo(0));
        Assert.That(ns.Bb.Show(), Is.EqualTo("9 1\n"), "only the written sector was cleared");
        Assert.That(m.Phys.IsPoisoned(new PhysAddr(dev.PhysAddr + 8 * 512)), Is.False);
        Assert.That(Media(m, dev.PhysAddr + 8 * 512, 4), Is.EqualTo(Sim.ReadKernel(m, buf, 4)));
        Assert.That(ns.RwBytes(9 * 512, buf, 512, write: false, NvdimmIoFlags.None), Is.EqualTo(-Errno.EIO));
    }

    [Test]
    public void Write_UnalignedOrAtomicOverBadSector_IsEio_ButTheDataIsWritten()
    {
        var (m, dev, ns) = Raw();
        Assert.That(Ndctl.Run(m.Spawn("ndctl"), "inject-error namespace0.0 --block=8 --count=1").Rc, Is.Zero);
        ns.RevalidatePoison();
        var buf = Sim.KernelBuffer(m, 4096, seed: 5);
        Assert.That(ns.RwBytes(8 * 512 + 8, buf, 16, write: true, NvdimmIoFlags.None), Is.EqualTo(-Errno.EIO));
        Assert.That(Media(m, dev.PhysAddr + 8 * 512 + 8, 16), Is.EqualTo(Sim.ReadKernel(m, buf, 16)));
        Assert.That(ns.RwBytes(8 * 512, buf, 512, write: true, NvdimmIoFlags.NVDIMM_IO_ATOMIC), Is.EqualTo(-Errno.EIO));
        Assert.That(Media(m, dev.PhysAddr + 8 * 512, 512), Is.EqualTo(Sim.ReadKernel(m, buf, 512)));
        Assert.That(ns.Bb.Show(), Is.EqualTo("8 1\n"));
    }

    [Test]
    public void Write_WhenTheClearFails_ReturnsZero_TheBadblockStays()
    {
        // clear_err_unit 0: nvdimm_clear_poison → −ENXIO; "long cleared < size_t size" is false for a negative value.
        var (m, dev, ns) = Raw(more: o => o.ClearErrUnit = 0);
        Assert.That(m.NvdimmBus()!.Firmware!.InjectSet(dev.PhysAddr + 8 * 512, 512, notify: false), Is.EqualTo(0));
        Assert.That(m.NvdimmBus()!.ArsStart(), Is.EqualTo(0));
        m.WorkQueue.RunPending();
        ns.RevalidatePoison();
        Assert.That(ns.Bb.Show(), Is.EqualTo("8 1\n"));
        var buf = Sim.KernelBuffer(m, 4096);
        Assert.That(ns.RwBytes(8 * 512, buf, 512, write: true, NvdimmIoFlags.None), Is.EqualTo(0));
        Assert.That(ns.Bb.Show(), Is.EqualTo("8 1\n"));
        Assert.That(m.Phys.IsPoisoned(new PhysAddr(dev.PhysAddr + 8 * 512)), Is.True);
    }

    [Test]
    public void Write_PartialClear_IsEio_WholeClearedSectorsLeave()
    {
        // clear_err_unit 1024: a 512-byte clear is refused (−ENXIO → 0 as above); a 2048-byte one clears it all.
        var (m, dev, ns) = Raw(more: o => o.ClearErrUnit = 1024);
        Assert.That(Ndctl.Run(m.Spawn("ndctl"), "inject-error namespace0.0 --block=8 --count=4").Rc, Is.Zero);
        ns.RevalidatePoison();
        Assert.That(ns.Bb.Show(), Is.EqualTo("8 4\n"));
        var buf = Sim.KernelBuffer(m, 4096);
        Assert.That(ns.RwBytes(8 * 512, buf, 2048, write: true, NvdimmIoFlags.None), Is.EqualTo(0));
        Assert.That(ns.Bb.Count, Is.Zero);
    }
}
