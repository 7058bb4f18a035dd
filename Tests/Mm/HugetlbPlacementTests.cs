using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>hugetlb_get_unmapped_area (fs/hugetlbfs/inode.c): hugetlbfs mappings land on 2 MiB boundaries in every release.</summary>
public class HugetlbPlacementTests
{
    private const ulong M2 = Hugetlb.HPAGE_SIZE;
    private const int Rw = Mman.PROT_READ | Mman.PROT_WRITE;

    private static (Process P, int Fd) Setup(string kernel)
    {
        var p = Sim.Boot(kernel).Spawn("t");
        Assert.That(p.WriteText("/proc/sys/vm/nr_hugepages", "4"), Is.EqualTo(1));
        var fd = (int)p.MemfdCreate("h", Memfd.MFD_HUGETLB);
        Assert.That(p.Ftruncate(fd, (long)(4 * M2)), Is.Zero);
        return (p, fd);
    }

    [TestCase("5.10")]
    [TestCase("6.12")]
    public void TopDown_HighestAlignedRange_BelowAnUnalignedNeighbour(string kernel)
    {
        var (p, fd) = Setup(kernel);
        Assert.That(p.Mmap(0, 4096, Rw, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS), Is.EqualTo(0x7ffff7ffa000L), "below UserLib's 16 KiB scratch");
        // Below 0x7ffff7ffa000 the highest 2 MiB-aligned start with room for 2 MiB is 0x7ffff7c00000.
        Assert.That(p.Mmap(0, M2, Rw, Mman.MAP_SHARED, fd, 0), Is.EqualTo(0x7ffff7c00000L));
        Assert.That(p.Mmap(0, 4096, Rw, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS), Is.EqualTo(0x7ffff7ff9000L), "the gap above it is still used by small mappings");
    }

    [Test]
    public void Hint_RoundedUpTo2M_Fixed_MustBeAligned_LengthMustBeAMultiple()
    {
        var (p, fd) = Setup("6.12");
        Assert.That(p.Mmap(0x7e0000001000, M2, Rw, Mman.MAP_SHARED, fd, 0), Is.EqualTo(0x7e0000200000L));
        Assert.That(p.Mmap(0x7d0000001000, M2, Rw, Mman.MAP_SHARED | Mman.MAP_FIXED, fd, 0), Is.EqualTo(-Errno.EINVAL), "prepare_hugepage_range");
        Assert.That(p.Mmap(0x7d0000000000, M2, Rw, Mman.MAP_SHARED | Mman.MAP_FIXED, fd, 0), Is.EqualTo(0x7d0000000000L));
        Assert.That(p.Mmap(0, M2 + 4096, Rw, Mman.MAP_SHARED, fd, 0), Is.EqualTo(-Errno.EINVAL), "len & ~huge_page_mask");
    }
}
