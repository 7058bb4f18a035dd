using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>
/// Where mmap puts a mapping (mm/mmap.c __get_unmapped_area, mm/huge_memory.c thp_get_unmapped_area) and which flags
/// MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK), on both sides of every release change (MM8–MM10).
/// </summary>
public class PlacementTests
{
    private const int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private const int Anon = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
    private const ulong MiB = 1 << 20;
    private const ulong Hint = 0x1_0000_0000;

    private static (Process P, int Fd) FileOn(string kernel, DaxMode mode, ulong size = 4 * MiB)
    {
        var m = new MachineBuilder().WithKernel(kernel).WithCpu(CpuModel.FastString)
            .AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs().Build();
        var fs = DaxFs.FormatAndMount(m, m.Pmem().Disk, new DaxFsOptions { Dax = mode });
        var p = m.Spawn("app");
        var fd = (int)p.Open(fs.PathOf("f"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Fallocate(fd, 0, 0, (long)size), Is.Zero);
        return (p, fd);
    }

    [TestCase("4.17", DaxMode.Always, 0x7ffff7a00000L)]
    [TestCase("5.17", DaxMode.Always, 0x7ffff7a00000L)]
    [TestCase("5.17", DaxMode.Never, 0x7ffff7bff000L)]  // IS_DAX check: a page-cache file is not aligned
    [TestCase("5.18", DaxMode.Never, 0x7ffff7a00000L)]  // 1854bc6e2420: any file of ext4/XFS
    [TestCase("6.12", DaxMode.Always, 0x7ffff7a00000L)]
    public void FileMapping_4MiB_Placement(string kernel, DaxMode mode, long expected)
    {
        var (p, fd) = FileOn(kernel, mode);
        Assert.That(p.Mmap(0, 4 * MiB, RW, Mman.MAP_SHARED, fd, 0), Is.EqualTo(expected));
    }

    [Test]
    public void FileMapping_OffsetOf1MiB_KeepsTheFileOffsetColour()
    {
        var (p, fd) = FileOn("6.12", DaxMode.Always, 8 * MiB);
        var a = p.Mmap(0, 4 * MiB, RW, Mman.MAP_SHARED, fd, (long)MiB);
        Assert.That(((ulong)a - MiB) % (2 * MiB), Is.Zero, "virtual address and file offset agree modulo 2 MiB");
        Assert.That(a, Is.EqualTo(0x7ffff7b00000L));
    }

    [TestCase("6.7", 0x7ffff7800000L)]
    [TestCase("6.8", 0x7ffff7a00000L)]  // 96204e153543: an aligned top-down result moves up by 2 MiB
    public void FileMapping_AlreadyAlignedTopDown_Placement(string kernel, long expected)
    {
        var (p, fd) = FileOn(kernel, DaxMode.Always);
        Assert.That(p.Mmap(0, 0x1ff000, RW, Anon), Is.EqualTo(0x7ffff7e00000L), "a blocker leaves the top 2 MiB-aligned");
        Assert.That(p.Mmap(0, 4 * MiB, RW, Mman.MAP_SHARED, fd, 0), Is.EqualTo(expected));
    }

    [TestCase("5.3", (long)Hint)]            // any hint: no alignment, the hint is used
    [TestCase("5.4", 0x7ffff7a00000L)]       // the hint is tried with the padded length, which does not fit there
    public void FileMapping_HintWithRoomForLenButNotThePadding(string kernel, long expected)
    {
        var (p, fd) = FileOn(kernel, DaxMode.Always);
        Assert.That(p.Mmap(Hint + 4 * MiB, 4096, RW, Anon | Mman.MAP_FIXED), Is.EqualTo((long)(Hint + 4 * MiB)));
        Assert.That(p.Mmap(Hint, 4 * MiB, RW, Mman.MAP_SHARED, fd, 0), Is.EqualTo(expected));
    }

    [Test]
    public void FileMapping_FreeHint_IsKept()
    {
        var (p, fd) = FileOn("6.12", DaxMode.Always);
        Assert.That(p.Mmap(Hint + 0x1000, 4 * MiB, RW, Mman.MAP_SHARED, fd, 0), Is.EqualTo((long)Hint + 0x1000));
    }

    [TestCase("6.6", 4 * MiB, 0x7ffff7bff000L)]
    [TestCase("6.7", 4 * MiB, 0x7ffff7a00000L)]   // efa7df3e3bb5
    [TestCase("6.11", 3 * MiB, 0x7ffff7c00000L)]  // any length that can hold an aligned 2 MiB
    [TestCase("6.12", 3 * MiB, 0x7ffff7cff000L)]  // d4148aeab412: only multiples of 2 MiB
    [TestCase("6.12", 4 * MiB, 0x7ffff7a00000L)]
    [TestCase("6.12", 1 * MiB, 0x7ffff7eff000L)]
    public void AnonymousMapping_Placement(string kernel, ulong len, long expected)
    {
        var p = Sim.Boot(kernel).Spawn();
        Assert.That(p.Mmap(0, len, RW, Anon), Is.EqualTo(expected));
    }

    [TestCase("6.12", 0x7ffff7a00000L)]
    [TestCase("6.13", (long)Hint)]  // 249608ee4713: a hint turns the THP alignment off
    public void AnonymousMapping_HintWithRoomForLenButNotThePadding(string kernel, long expected)
    {
        var p = Sim.Boot(kernel).Spawn();
        Assert.That(p.Mmap(Hint + 4 * MiB, 4096, RW, Anon | Mman.MAP_FIXED), Is.EqualTo((long)(Hint + 4 * MiB)));
        Assert.That(p.Mmap(Hint, 4 * MiB, RW, Anon), Is.EqualTo(expected));
    }

    [Test]
    public void SharedAnonymous_IsNotAligned()
    {
        var p = Sim.Boot("6.12").Spawn();
        Assert.That(p.Mmap(0, 4 * MiB, RW, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS), Is.EqualTo(0x7ffff7bff000L));
    }

    [TestCase(Mman.MAP_SYNC, 0L)]
    [TestCase(Mman.MAP_POPULATE | Mman.MAP_NORESERVE | Mman.MAP_LOCKED | Mman.MAP_NONBLOCK | Mman.MAP_STACK, 0L)]
    [TestCase(Mman.MAP_DENYWRITE | Mman.MAP_EXECUTABLE | Mman.MAP_32BIT | Mman.MAP_UNINITIALIZED, 0L)]
    [TestCase(Mman.MAP_HUGE_2MB, 0L)]
    [TestCase(Mman.MAP_HUGE_1GB, 0L)]
    [TestCase(Mman.MAP_FIXED_NOREPLACE, -Errno.EOPNOTSUPP)] // never added to LEGACY_MAP_MASK
    [TestCase(0x200000, -Errno.EOPNOTSUPP)]
    [TestCase(0x1000000, -Errno.EOPNOTSUPP)]
    public void MapSharedValidate_AcceptsLegacyMaskAndTheFilesFlags(int extra, long expected)
    {
        var (p, fd) = FileOn("6.12", DaxMode.Always);
        var r = p.Mmap(Hint, 4096, RW, Mman.MAP_SHARED_VALIDATE | extra, fd, 0);
        if (expected == 0) Assert.That(r, Is.EqualTo((long)Hint));
        else Assert.That(r, Is.EqualTo(expected));
        // Plain MAP_SHARED drops what it does not know.
        Assert.That(p.Mmap(Hint + MiB, 4096, RW, Mman.MAP_SHARED | 0x1000000, fd, 0), Is.EqualTo((long)(Hint + MiB)));
    }
}
