using System.Buffers.Binary;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>
/// ndctl-suite-shaped poison flows (daxdev-errors.sh, btt-errors.sh) on devdax and sector namespaces booted as an earlier
/// boot left them: inject with notify → ARS → region badblocks → SIGBUS (devdax) / EIO (sector) → clear.
/// </summary>
public class NdModePoisonTests
{
    private const ulong Base = 4UL << 30, K4 = 4096, M2 = 2UL << 20, G1 = 1UL << 30;

    private static (Machine M, NvdimmBus Bus, Process P) Boot(NamespaceMode mode, ulong size, ulong align, string kernel)
    {
        var m = new MachineBuilder().WithKernel(kernel).AddPmem(new PmemNamespaceSpec(size, mode) { Align = align }).Build();
        var p = m.Spawn("daxdev-errors");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        return (m, m.NvdimmBus()!, p);
    }

    /// <summary>ARS_INJECT_SET with notify for the 512 bytes at <paramref name="phys"/>, and the scrub it starts, run to completion.</summary>
    private static void InjectAndScrub(Machine m, NvdimmBus bus, ulong phys)
    {
        Assert.That(bus.Firmware!.InjectSet(phys, 512, notify: true), Is.EqualTo(0));
        Assert.That(m.WorkQueue.RunPending(), Is.GreaterThan(0), "the 0x81 notification queued an ARS");
    }

    /// <summary>
    /// Poison 0x1240 bytes into the second alignment block of /dev/dax0.0 (block size = align). The device starts at
    /// dataoff (2 MiB, or 1 GiB for 1 GiB alignment); si_addr names the poisoned 4 KiB page (≤5.16, 4 KiB devices) or the
    /// head of the block (6.12); si_addr_lsb is the mapping size.
    /// </summary>
    [TestCase("6.12", 4096UL, 0x1000UL, 12)]
    [TestCase("6.12", 2UL << 20, 0UL, 21)]
    [TestCase("6.12", 1UL << 30, 0UL, 30)]
    [TestCase("5.10", 2UL << 20, 0x1000UL, 21)]
    [TestCase("5.10", 1UL << 30, 0x1000UL, 30)]
    public void Devdax_InjectScrubBadblocks_Sigbus_NotClearedInPlace_BusClearErrorClears(string kernel, ulong align, ulong siInBlock, int lsb)
    {
        var nsSize = align == G1 ? 3 * G1 : 64UL << 20;
        var dataoff = align == G1 ? G1 : M2;
        var (m, bus, p) = Boot(NamespaceMode.Devdax, nsSize, align, kernel);
        var dev = ((NdClaim)bus.FindDevice("dax0.1")!).DevDax!;
        Assert.That((dev.Start, dev.Size, dev.Align), Is.EqualTo((Base + dataoff, nsSize - dataoff, align)));

        var bad = dev.Start + align + 0x1240;
        InjectAndScrub(m, bus, bad & ~511UL);
        var sector = (bad - Base) >> 9;
        Assert.That(bus.Regions[0].BadblocksShow(), Is.EqualTo($"{sector} 1\n"), "region badblocks (device-dax has none of its own)");

        var fd = (int)p.Open("/dev/dax0.0", Fcntl.O_RDWR);
        var len = Math.Max(4 * align, 4 * M2);
        var a = (ulong)p.Mmap(0, len, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        Assert.That(a % align, Is.Zero, "placed on an alignment boundary");
        Assert.That(p.LoadByte(new UserPtr(a), out _).Signal, Is.Null, "the first block is clean");
        var res = p.LoadByte(new UserPtr(a + align + 0x1240), out _);
        Assert.That(res.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + align + siInBlock, (short)lsb, true)));
        Assert.That(m.State.Dmesg, Does.Contain($"Memory failure: 0x{bad >> 12:x}: recovery action for dax page: Recovered"));

        // Nothing clears device-dax poison in place: the block faults in again and the load consumes it again.
        res = p.LoadByte(new UserPtr(a + align + 0x1240), out _);
        Assert.That(res.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + align + siInBlock, (short)lsb, true)));
        Assert.That(p.Store(new UserPtr(a + align + 0x1200), new byte[64]).Signal, Is.Null, "a store does not consume poison…");
        Assert.That(m.Phys.IsPoisoned(new PhysAddr(bad)), Is.True, "…and does not clear it either");
        Assert.That(bus.Regions[0].BadblocksShow(), Is.EqualTo($"{sector} 1\n"));

        // daxdev-errors' way out: the bus CLEAR_ERROR command over the bad sector (nvdimm_clear_poison).
        Assert.That(bus.ClearPoison(bad & ~511UL, 512), Is.EqualTo(512));
        Assert.That(bus.Regions[0].BadblocksShow(), Is.Empty);
        Assert.That(m.Phys.IsPoisoned(new PhysAddr(bad)), Is.False);
        Assert.That(p.LoadByte(new UserPtr(a + align + 0x1240), out _).Signal, Is.Null);
    }

    [Test]
    public void Sector_InjectScrubBadblocks_ReadEio_WriteRemapsAroundTheBadBlock_AndClearsIt()
    {
        var (m, bus, p) = Boot(NamespaceMode.Sector, 64UL << 20, M2, "6.12");
        var claim = (NdClaim)bus.FindDevice("btt0.1")!;
        const uint lba = 7, externalNlba = 129736;
        // LBA 7 is still identity-mapped: its data block 7 is namespace byte 4096 (initial offset) + 4096 (dataoff) + 7·512.
        var bad = Base + 8192 + lba * 512UL;
        InjectAndScrub(m, bus, bad);
        Assert.That(bus.Regions[0].BadblocksShow(), Is.EqualTo("23 1\n"));
        Assert.That(claim.Ns!.Io!.Bb.Show(), Is.EqualTo("23 1\n"), "nd_pmem_notify → the namespace's nsio->bb");

        var fd = (int)p.Open("/dev/pmem0s", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        var u = p.MapAnonymous(8192);
        Assert.That(p.Pread64(fd, u, 512, lba * 512L), Is.EqualTo(-Errno.EIO));
        Assert.That(Map(m, lba), Is.EqualTo(0x40000000u | lba), "btt_read_pg set the E flag");
        Assert.That(m.State.Dmesg, Does.Contain($"nd_btt namespace0.0: io error in READ sector {lba}, len 512,"));
        Assert.That(p.Pread64(fd, u, 4096, 0), Is.EqualTo(-Errno.EIO), "a larger read over it fails as a whole");
        Assert.That(p.Pread64(fd, u, 512, (lba + 1) * 512L), Is.EqualTo(512), "the next sector is fine");

        p.Fill(u, 512, _ => 0x5c);
        Assert.That(p.Pwrite64(fd, u, 512, lba * 512L), Is.EqualTo(512));
        Assert.That(Map(m, lba), Is.EqualTo(0xC0000000u | externalNlba), "remapped to lane 0's free block");
        Assert.That(bus.Regions[0].BadblocksShow(), Is.Empty, "the old block, now the free block, was cleared at once");
        Assert.That(claim.Ns.Io.Bb.Count, Is.Zero);
        Assert.That(m.Phys.IsPoisoned(new PhysAddr(bad)), Is.False);
        Assert.That(p.Pread64(fd, u + 4096UL, 512, lba * 512L), Is.EqualTo(512));
        Assert.That(p.Peek(u + 4096UL, 2), Is.EqualTo(new byte?[] { 0x5c, 0x5c }));
        Assert.That(p.SignalsReceived, Is.Empty, "sector mode never signals");
    }

    /// <summary>The BTT map entry of <paramref name="lba"/> on the media (arena 0's map at 0x3f7b000 of the raw BTT space).</summary>
    private static uint Map(Machine m, uint lba)
    {
        var b = new byte[4];
        m.Phys.PeekBytes(new PhysAddr(Base + 4096 + 0x3F7B000 + lba * 4UL), b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }
}
