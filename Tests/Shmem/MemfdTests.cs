using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Shmem;

/// <summary>memfd_create(2) and its seals (mm/memfd.c, SH6–SH8), both sides of the 5.1 and 6.3 changes.</summary>
public class MemfdTests
{
    private static Process Boot(string kernel) => Sim.Boot(kernel).Spawn("memfd");

    [TestCase("6.12")]
    [TestCase("4.17")]
    public void Create_NameRules_249BytesOk_250Einval(string kernel)
    {
        var p = Boot(kernel);
        Assert.That(p.MemfdCreate(new string('n', 249), 0), Is.EqualTo(0));
        Assert.That(p.MemfdCreate(new string('n', 250), 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.MemfdCreate("", 0), Is.EqualTo(1), "an empty name is fine");
        var inode = (ShmemInode)p.FileAt(0)!.Inode;
        Assert.That(inode.Name, Is.EqualTo("memfd:" + new string('n', 249)));
        Assert.That(inode.Nlink, Is.EqualTo(0));
        Assert.That(inode.Mode, Is.EqualTo(Fcntl.S_IFREG | 0x1ff));
        Assert.That(p.FileAt(0)!.Flags, Is.EqualTo(Fcntl.O_RDWR | Fcntl.O_LARGEFILE));
        Assert.That(p.DoFcntl(0, Memfd.F_GETFL), Is.EqualTo(Fcntl.O_RDWR | Fcntl.O_LARGEFILE));
    }

    [TestCase("6.12")]
    [TestCase("5.10")]
    public void Create_UnknownFlagsEinval_HugeSizeBitsOnlyWithHugetlb(string kernel)
    {
        var p = Boot(kernel);
        Assert.That(p.MemfdCreate("x", 0x20), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.MemfdCreate("x", Memfd.MFD_HUGE_2MB), Is.EqualTo(-Errno.EINVAL), "size bits without MFD_HUGETLB");
        Assert.That(p.MemfdCreate("x", Memfd.MFD_HUGETLB | 0x20), Is.EqualTo(-Errno.EINVAL), "bits 5..25 stay invalid with MFD_HUGETLB");
    }

    [TestCase("6.12")]
    [TestCase("4.17")]
    public void Create_Hugetlb_OnTheInternalHugetlbfsMount_AfterTheNameCheck(string kernel)
    {
        var p = Boot(kernel);
        Assert.That(p.MemfdCreate(new string('n', 250), Memfd.MFD_HUGETLB), Is.EqualTo(-Errno.EINVAL), "the name check comes first");
        Assert.That(p.MemfdCreate("g", Memfd.MFD_HUGETLB | (30u << Memfd.MFD_HUGE_SHIFT)), Is.EqualTo(-Errno.ENODEV), "no 1 GiB hstate: get_hstate_idx");
        Assert.That(p.MemfdCreate("s", 0), Is.EqualTo(0), "the descriptor was given back");
        Assert.That(p.MemfdCreate("h", Memfd.MFD_HUGETLB | Memfd.MFD_HUGE_2MB), Is.EqualTo(1));
        Assert.That(p.FileAt(1)!.Inode, Is.TypeOf<HugetlbInode>());
        Assert.That(((HugetlbInode)p.FileAt(1)!.Inode).Name, Is.EqualTo("memfd:h"));
        Assert.That(p.Ftruncate(1, 4096), Is.EqualTo(-Errno.EINVAL), "hugetlbfs_setattr: huge-page multiples only");
        Assert.That(p.DoFcntl(1, Memfd.F_GET_SEALS), Is.EqualTo(-Errno.EINVAL), "hugetlbfs seals are not modelled");
    }

    [TestCase("6.3", true)]
    [TestCase("6.12", true)]
    [TestCase("6.2", false)]
    public void ExecFlags_SixThreeOn(string kernel, bool known)
    {
        var p = Boot(kernel);
        var r = p.MemfdCreate("ne", Memfd.MFD_NOEXEC_SEAL);
        if (!known)
        {
            Assert.That(r, Is.EqualTo(-Errno.EINVAL));
            Assert.That(p.MemfdCreate("e", Memfd.MFD_EXEC), Is.EqualTo(-Errno.EINVAL));
            return;
        }
        Assert.That(r, Is.EqualTo(0));
        Assert.That(p.FileAt(0)!.Inode.Mode, Is.EqualTo(Fcntl.S_IFREG | 0x1b6), "x bits cleared");
        Assert.That(p.DoFcntl(0, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_EXEC), "F_SEAL_SEAL cleared: sealing allowed");
        Assert.That(p.MemfdCreate("both", Memfd.MFD_NOEXEC_SEAL | Memfd.MFD_EXEC), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.MemfdCreate("e", Memfd.MFD_EXEC), Is.EqualTo(1));
        Assert.That(p.DoFcntl(1, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_SEAL));
    }

    [TestCase("6.12")]
    [TestCase("4.17")]
    public void Seals_WithoutAllowSealing_Eperm_WithIt_Work(string kernel)
    {
        var p = Boot(kernel);
        Assert.That(p.MemfdCreate("a", 0), Is.EqualTo(0));
        Assert.That(p.DoFcntl(0, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_SEAL));
        Assert.That(p.DoFcntl(0, Memfd.F_ADD_SEALS, (ulong)Memfd.F_SEAL_SHRINK), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.MemfdCreate("b", Memfd.MFD_ALLOW_SEALING), Is.EqualTo(1));
        Assert.That(p.DoFcntl(1, Memfd.F_GET_SEALS), Is.EqualTo(0));
        Assert.That(p.Ftruncate(1, 8192), Is.EqualTo(0));
        Assert.That(p.DoFcntl(1, Memfd.F_ADD_SEALS, (ulong)(Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW)), Is.EqualTo(0));
        Assert.That(p.Ftruncate(1, 4096), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.Ftruncate(1, 3 * 4096), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.Ftruncate(1, 8192), Is.EqualTo(0), "same size is fine");
        Assert.That(p.DoFcntl(1, Memfd.F_ADD_SEALS, 1UL << 32), Is.EqualTo(-Errno.EINVAL), "upper 32 bits");
        Assert.That(p.DoFcntl(1, Memfd.F_ADD_SEALS, 0x40), Is.EqualTo(-Errno.EINVAL), "unknown seal");
        Assert.That(p.DoFcntl(1, Memfd.F_ADD_SEALS, (ulong)Memfd.F_SEAL_SEAL), Is.EqualTo(0));
        Assert.That(p.DoFcntl(1, Memfd.F_ADD_SEALS, (ulong)Memfd.F_SEAL_WRITE), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.DoFcntl(1, 9999), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.DoFcntl(7, Memfd.F_GET_SEALS), Is.EqualTo(-Errno.EBADF));
    }

    [Test]
    public void SealWrite_BusyWhileSharedWritableMapping_ThenWritesAndMappingsEperm()
    {
        var p = Boot("6.12");
        var fd = (int)p.MemfdCreate("w", Memfd.MFD_ALLOW_SEALING);
        Assert.That(p.Ftruncate(fd, 4096), Is.EqualTo(0));
        var a = (ulong)p.Mmap(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED, fd, 0);
        Assert.That(p.DoFcntl(fd, Memfd.F_ADD_SEALS, (ulong)Memfd.F_SEAL_WRITE), Is.EqualTo(-Errno.EBUSY), "a shared mapping of an O_RDWR file may write");
        Assert.That(p.Munmap(a, 4096), Is.EqualTo(0));
        Assert.That(p.DoFcntl(fd, Memfd.F_ADD_SEALS, (ulong)Memfd.F_SEAL_WRITE), Is.EqualTo(0));
        var buf = p.MapAnonymous(4096);
        Assert.That(p.Pwrite64(fd, buf, 10, 0), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.Mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.Mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE, fd, 0), Is.GreaterThan(0), "private mappings are fine");
        Assert.That(p.Fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, 0, 4096), Is.EqualTo(-Errno.EPERM));
    }

    [TestCase("5.1", 0)]
    [TestCase("5.0", -Errno.EINVAL)]
    public void FutureWrite_FiveOneOn(string kernel, int expected)
    {
        var p = Boot(kernel);
        var fd = (int)p.MemfdCreate("f", Memfd.MFD_ALLOW_SEALING);
        Assert.That(p.DoFcntl(fd, Memfd.F_ADD_SEALS, (ulong)Memfd.F_SEAL_FUTURE_WRITE), Is.EqualTo(expected));
    }

    [TestCase("6.12", Memfd.F_SEAL_EXEC | Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW | Memfd.F_SEAL_WRITE | Memfd.F_SEAL_FUTURE_WRITE)]
    [TestCase("6.2", -Errno.EINVAL)]
    public void SealExec_OnAnExecutableMemfd_ImpliesTheWriteSeals(string kernel, int seals)
    {
        var p = Boot(kernel);
        var fd = (int)p.MemfdCreate("x", Memfd.MFD_ALLOW_SEALING);
        var r = p.DoFcntl(fd, Memfd.F_ADD_SEALS, (ulong)Memfd.F_SEAL_EXEC);
        Assert.That(seals < 0 ? r : p.DoFcntl(fd, Memfd.F_GET_SEALS), Is.EqualTo(seals));
    }

    [Test]
    public void Seals_OnATmpfsFileThatIsNotAMemfd_AreItsInitialSealSeal_AndRamfsSaysEinval()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddTmpFs().AddRamFs().Build();
        var p = m.Spawn("t");
        var fd = (int)p.Open("/mnt/tmpfs/f", Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.DoFcntl(fd, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_SEAL));
        Assert.That(p.DoFcntl(fd, Memfd.F_ADD_SEALS, (ulong)Memfd.F_SEAL_WRITE), Is.EqualTo(-Errno.EPERM));
        var rf = (int)p.Open("/mnt/ramfs/f", Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.DoFcntl(rf, Memfd.F_GET_SEALS), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.DoFcntl(rf, Memfd.F_ADD_SEALS, (ulong)Memfd.F_SEAL_WRITE), Is.EqualTo(-Errno.EINVAL));
        var ro = (int)p.Open("/mnt/tmpfs/f", Fcntl.O_RDONLY);
        Assert.That(p.DoFcntl(ro, Memfd.F_ADD_SEALS, 0x40), Is.EqualTo(-Errno.EPERM), "FMODE_WRITE is checked before the seal bits");
    }

    [Test]
    public void Memfd_WriteMmapAndHwpoison_LikeAnyShmemFile()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("m");
        var fd = (int)p.MemfdCreate("data", Memfd.MFD_CLOEXEC);
        Assert.That(p.Ftruncate(fd, 8192), Is.EqualTo(0));
        var a = (ulong)p.Mmap(0, 8192, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        Assert.That(p.Store(new UserPtr(a + 4096), [7, 8, 9]).Done, Is.EqualTo(3UL));
        var inode = (ShmemInode)p.FileAt(fd)!.Inode;
        var pfn = inode.Mapping!.Find(1)!.Pfn;
        Assert.That(p.Munmap(a, 8192), Is.EqualTo(0));
        Assert.That(m.Run(() => m.MemoryFailure.Run(pfn, MfFlags.None)).Value, Is.EqualTo(0));
        var buf = p.MapAnonymous(8192);
        Assert.That(p.Pread64(fd, buf, 8192, 0), Is.EqualTo(4096));
        Assert.That(p.Pread64(fd, buf, 8192, 4096), Is.EqualTo(-Errno.EIO));
    }
}
