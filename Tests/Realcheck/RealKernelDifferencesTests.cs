using System.Buffers.Binary;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Tests.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Realcheck;

/// <summary>
/// Real-kernel answers the simulator does not give yet (Debian 6.1.0-57 and 6.12.118 under QEMU TCG, 2025-12-05,
/// tools/realcheck; docs/crosscheck.md "Facts checked on real kernels"). Explicit: each fails today and states the
/// real value, for whoever models it.
/// </summary>
[Explicit("real-kernel values the simulator does not model yet")]
public class RealKernelDifferencesTests
{
    private const ulong Ps = PageDefs.PAGE_SIZE;

    private static Machine Boot(string kernel) => new MachineBuilder().WithKernel(kernel).AddTmpFs().Build();

    private static string TmpPath(Machine m, string name) => ((TmpFs)m.Vfs.Mounts.Single(f => f is TmpFs)).PathOf(name);

    /// <summary>Debian's kernels have CONFIG_HUGETLBFS: memfd_create(MFD_HUGETLB) works; F_GET_SEALS is F_SEAL_SEAL.</summary>
    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Memfd_Hugetlb_Works(string kernel)
    {
        var p = Boot(kernel).Spawn("probe");
        Assert.That(p.MemfdCreate("x", Memfd.MFD_HUGETLB | (22u << 26)), Is.EqualTo(-Errno.ENODEV));
        var fd = p.MemfdCreate("x", Memfd.MFD_HUGETLB);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(p.DoFcntl((int)fd, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_SEAL));
    }

    /// <summary>6.1 shows swap type 26 in a hwpoison pagemap entry (6.12: 27); the simulator gives 27 on every release.</summary>
    [Test]
    public void Hwpoison_PagemapSwapType_On61Is26()
    {
        var p = Sim.Boot("6.1").Spawn("probe");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var a = p.MapAnonymous(Ps);
        p.Fill(a, Ps, _ => 1);
        Assert.That(p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(new MfUser(p).Pagemap(a) & 31, Is.EqualTo(26UL));
    }

    /// <summary>An untouched anonymous page: get_user_pages maps the zero page and memory_failure refuses it (−EBUSY, both releases).</summary>
    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Hwpoison_UntouchedAnonymousPage_Ebusy(string kernel)
    {
        var p = Sim.Boot(kernel).Spawn("probe");
        var a = p.MapAnonymous(Ps);
        Assert.That(p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.EqualTo(-Errno.EBUSY));
    }

    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Statx_Tmpfs_BtimeAndAttributesMask(string kernel)
    {
        var m = Boot(kernel);
        var p = m.Spawn("probe");
        Assert.That(p.Open(TmpPath(m, "st"), Fcntl.O_RDWR | Fcntl.O_CREAT), Is.GreaterThanOrEqualTo(0));
        var buf = p.MapAnonymous(Ps);
        Assert.That(p.Statx(Stat.AT_FDCWD, TmpPath(m, "st"), 0, Stat.STATX_BASIC_STATS | 0x800, buf), Is.Zero);
        var b = new byte[256];
        Assert.That(p.Load(buf, b).Completed(256), Is.True);
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(0x38)), Is.EqualTo(kernel == "6.12" ? 0x303070UL : 0x203070UL), "stx_attributes_mask");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(b), Is.EqualTo(0x1fffu), "stx_mask with STATX_BTIME");
    }

    /// <summary>tmpfs has fileattr_get/set since 6.0 (shmem_fileattr_get): FS_IOC_FSGETXATTR and FS_IOC_GETFLAGS return 0; ramfs −ENOTTY.</summary>
    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Ioctl_Tmpfs_Fsgetxattr(string kernel)
    {
        var m = Boot(kernel);
        var p = m.Spawn("probe");
        var fd = (int)p.Open(TmpPath(m, "io"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        var buf = p.MapAnonymous(Ps);
        Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_FSGETXATTR, buf.Value), Is.Zero, "shmem_fileattr_get (6.0+)");
        Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_GETFLAGS, buf.Value), Is.Zero);
    }
}
