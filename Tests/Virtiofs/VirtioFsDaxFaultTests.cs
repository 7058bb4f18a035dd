using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Virtiofs;

/// <summary>
/// DAX faults on the virtio-fs window (fs/fuse/dax.c __fuse_dax_fault, VF17–VF20): PMD faults, the writable
/// SETUPMAPPING upgrade on a store after a read fault, and MAP_PRIVATE mappings of DAX files.
/// </summary>
public class VirtioFsDaxFaultTests
{
    private const ulong MiB = 1 << 20;
    private const ulong Aligned = 0x7f00_0000_0000UL;

    private static List<FuseMessage> Setups(VfsScenario s) => s.Log.Where(x => x.Opcode == FuseOpcode.FUSE_SETUPMAPPING).ToList();

    private static byte HostByte(VfsScenario s, long off)
    {
        var b = new byte[1];
        s.F.Read(off, b);
        return b[0];
    }

    private static ulong WindowPfn(VfsScenario s, ulong moffset) => (s.Dax.Window.Start.Value + moffset) >> PageDefs.PAGE_SHIFT;

    [TestCase("6.12")]
    [TestCase("5.10")]
    public void StoreAfterReadFault_UpgradesTheRangeWithSetupmappingReadWrite_OnTheSameMoffset(string kernel)
    {
        // Before 5.17 the mount option is plain "-o dax" (VF5).
        var s = VfsScenario.Boot(o => o.Dax = kernel == "5.10" ? DaxMountMode.Legacy : DaxMountMode.Always, kernel: kernel);
        s.Share.Transport.ClearLog();
        var a = (ulong)s.P.Mmap(0, 4 * MiB, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, s.Fd, 0);
        var one = new byte[1];
        Assert.That(s.P.Load(new UserPtr(a + 0x3000), one).Signal, Is.Null);
        Assert.That(one[0], Is.EqualTo(VfsScenario.HostShare_Pattern(0x3000)));
        Assert.That(s.P.Mm.ShiftAt(a + 0x3000), Is.EqualTo(12), "mmap's address is not 2 MiB aligned: 4 KiB faults");
        Assert.That(s.P.Store(new UserPtr(a + 0x3000), [0x5a]).Done, Is.EqualTo(1UL));
        var setups = Setups(s);
        Assert.That(setups.Select(x => (x.Offset, x.Size, x.Flags, x.MOffset)),
            Is.EqualTo(new[] { (0UL, 2 * MiB, VfsScenario.Read, 0UL), (0UL, 2 * MiB, VfsScenario.ReadWrite, 0UL) }));
        Assert.That(s.Inode().RangeAt(0)!.Writable, Is.True);
        Assert.That(HostByte(s, 0x3000), Is.EqualTo(0x5a), "the store reached the host page cache");
        Assert.That(s.P.Store(new UserPtr(a + 0x4000), [1]).Done, Is.EqualTo(1UL));
        Assert.That(Setups(s), Has.Count.EqualTo(2), "a writable range needs no further SETUPMAPPING");
    }

    [Test]
    public void PmdFault_AlignedMapping_MapsTheWholeRangeWithOneEntry()
    {
        var s = VfsScenario.Boot();
        s.Share.Transport.ClearLog();
        var a = (ulong)s.P.Mmap(Aligned, 4 * MiB, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED, s.Fd, 0);
        Assert.That(a, Is.EqualTo(Aligned));
        var one = new byte[1];
        Assert.That(s.P.Load(new UserPtr(a + 2 * MiB + 0x1234), one).Signal, Is.Null);
        Assert.That(one[0], Is.EqualTo(VfsScenario.HostShare_Pattern((long)(2 * MiB + 0x1234))));
        var setup = Setups(s).Single();
        Assert.That((setup.Offset, setup.Size, setup.Flags), Is.EqualTo((2 * MiB, 2 * MiB, VfsScenario.Read)));
        Assert.That(s.P.Mm.ShiftAt(a + 2 * MiB), Is.EqualTo(21));
        Assert.That(s.P.Mm.PfnAt(a + 2 * MiB), Is.EqualTo(WindowPfn(s, setup.MOffset)));
        Assert.That(s.P.Mm.PfnAt(a + 4 * MiB - 4096), Is.EqualTo(WindowPfn(s, setup.MOffset) + 511), "the whole 2 MiB is mapped");
        Assert.That(s.P.Mm.PfnAt(a), Is.Null, "the other PMD is untouched");
    }

    [Test]
    public void PmdFault_FallsBack_WhenTheFileEndsInsideThe2MiB_OrTheOffsetColourDiffers()
    {
        var s = VfsScenario.Boot(hostSetup: h => h.CreateFile("F", (long)(3 * MiB), nodeId: 5));
        var a = (ulong)s.P.Mmap(Aligned, 4 * MiB, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_FIXED, s.Fd, 0);
        s.P.Load(new UserPtr(a + 2 * MiB), new byte[1]);
        Assert.That(s.P.Mm.ShiftAt(a + 2 * MiB), Is.EqualTo(12), "i_size 3 MiB does not cover [2, 4) MiB");
        s.P.Load(new UserPtr(a), new byte[1]);
        Assert.That(s.P.Mm.ShiftAt(a), Is.EqualTo(21));
        var b = (ulong)s.P.Mmap(Aligned + 64 * MiB, 2 * MiB, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_FIXED, s.Fd, 4096);
        s.P.Load(new UserPtr(b), new byte[1]);
        Assert.That(s.P.Mm.ShiftAt(b), Is.EqualTo(12), "file offset 4 KiB at a 2 MiB-aligned address: colour mismatch");
    }

    [Test]
    public void PmdWriteFault_SetsUpTheRangeReadWrite()
    {
        var s = VfsScenario.Boot();
        s.Share.Transport.ClearLog();
        var a = (ulong)s.P.Mmap(Aligned, 2 * MiB, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED, s.Fd, 0);
        Assert.That(s.P.Store(new UserPtr(a + 5), [0x77]).Done, Is.EqualTo(1UL));
        Assert.That(Setups(s).Select(x => x.Flags), Is.EqualTo(new[] { VfsScenario.ReadWrite }));
        Assert.That(s.P.Mm.ShiftAt(a), Is.EqualTo(21));
        Assert.That(HostByte(s, 5), Is.EqualTo(0x77));
    }

    [Test]
    public void PmdReadFault_ThenStore_UpgradesThroughTheHugeWriteFault()
    {
        var s = VfsScenario.Boot();
        s.Share.Transport.ClearLog();
        var a = (ulong)s.P.Mmap(Aligned, 2 * MiB, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED, s.Fd, 0);
        s.P.Load(new UserPtr(a + 5), new byte[1]);
        Assert.That(s.P.Store(new UserPtr(a + MiB), [0x66]).Done, Is.EqualTo(1UL));
        Assert.That(s.M.State.Status, Is.EqualTo(KernelSim.Kernel.MachineStatus.Running));
        Assert.That(Setups(s).Select(x => x.Flags), Is.EqualTo(new[] { VfsScenario.Read, VfsScenario.ReadWrite }),
            "the read PMD is read-only (write-notify); the store's huge write fault re-sets the range READ|WRITE");
        Assert.That(s.P.Mm.ShiftAt(a + MiB), Is.EqualTo(21));
        Assert.That(HostByte(s, (long)MiB), Is.EqualTo(0x66));
    }

    [Test]
    public void MapPrivate_ReadMapsTheWindow_StoreCopies_RangeStaysReadOnly_HostUnchanged()
    {
        var s = VfsScenario.Boot();
        s.Share.Transport.ClearLog();
        var a = (ulong)s.P.Mmap(0, 4 * MiB, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE, s.Fd, 0);
        Assert.That(a, Is.GreaterThan(0UL), "fuse_dax_mmap accepts private mappings");
        var one = new byte[1];
        s.P.Load(new UserPtr(a + 0x2000), one);
        var setup = Setups(s).Single();
        Assert.That(s.P.Mm.PfnAt(a + 0x2000), Is.EqualTo(WindowPfn(s, setup.MOffset) + 2), "a read maps the window page");
        Assert.That(s.P.Store(new UserPtr(a + 0x2000), [0x99]).Done, Is.EqualTo(1UL));
        var pfn = s.P.Mm.PfnAt(a + 0x2000)!.Value;
        Assert.That(s.M.Phys.FindRange(PhysAddr.FromPfn(pfn))!.Kind, Is.EqualTo(MemoryKind.Dram), "the store got an anonymous copy");
        Assert.That(HostByte(s, 0x2000), Is.EqualTo(VfsScenario.HostShare_Pattern(0x2000)), "the host file is unchanged");
        s.P.Load(new UserPtr(a + 0x2001), one);
        Assert.That(one[0], Is.EqualTo(VfsScenario.HostShare_Pattern(0x2001)), "the copy holds the file's bytes");
        Assert.That(s.P.Store(new UserPtr(a + 0x5000), [1]).Done, Is.EqualTo(1UL), "a first-touch private write copies too");
        Assert.That(Setups(s).Select(x => x.Flags), Is.EqualTo(new[] { VfsScenario.Read }), "never READ|WRITE for private copies");
        Assert.That(s.Inode().RangeAt(0)!.Writable, Is.False);
    }
}
