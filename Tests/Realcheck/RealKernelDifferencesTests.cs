using System.Buffers.Binary;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Tests.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Realcheck;

/// <summary>
/// Real-kernel answers the simulator once gave differently (Debian 6.1.0-57 and 6.12.118 under QEMU TCG, 2025-12-05,
/// tools/realcheck; docs/crosscheck.md "Facts checked on real kernels"), now modelled: each fact on both captured
/// releases and on both sides of the release change that brought it.
/// </summary>
public class RealKernelDifferencesTests
{
    private const ulong Ps = PageDefs.PAGE_SIZE;

    private static Machine Boot(string kernel) => new MachineBuilder().WithKernel(kernel).AddTmpFs().Build();

    private static string TmpPath(Machine m, string name) => ((TmpFs)m.Vfs.Mounts.Single(f => f is TmpFs)).PathOf(name);

    /// <summary>Debian's kernels have CONFIG_HUGETLBFS: memfd_create(MFD_HUGETLB) works; F_GET_SEALS is F_SEAL_SEAL (SH11).</summary>
    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Memfd_Hugetlb_Works(string kernel)
    {
        var p = Boot(kernel).Spawn("probe");
        Assert.That(p.MemfdCreate("x", Memfd.MFD_HUGETLB | (22u << 26)), Is.EqualTo(-Errno.ENODEV), "no 4 MiB hstate");
        var fd = p.MemfdCreate("x", Memfd.MFD_HUGETLB);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(p.DoFcntl((int)fd, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_SEAL));
        var fd2 = p.MemfdCreate("y", Memfd.MFD_HUGETLB | Memfd.MFD_ALLOW_SEALING | (21u << 26));
        Assert.That(fd2, Is.EqualTo(fd + 1), "MFD_HUGE_2MB: the default hstate's size");
        Assert.That(p.DoFcntl((int)fd2, Memfd.F_GET_SEALS), Is.Zero, "MFD_ALLOW_SEALING clears F_SEAL_SEAL");
        Assert.That(p.MemfdCreate("x", 22u << 26), Is.EqualTo(-Errno.EINVAL), "size bits without MFD_HUGETLB");
        Assert.That(p.MemfdCreate("x", Memfd.MFD_HUGETLB | 0x40), Is.EqualTo(-Errno.EINVAL), "unknown flag");
    }

    /// <summary>hugetlbfs keeps memfd seals: F_SEAL_GROW / F_SEAL_SHRINK refuse ftruncate in that direction (hugetlbfs_setattr).</summary>
    [Test]
    public void Memfd_Hugetlb_SealsRefuseTruncate()
    {
        var p = Boot("6.12").Spawn("probe");
        var fd = (int)p.MemfdCreate("s", Memfd.MFD_HUGETLB | Memfd.MFD_ALLOW_SEALING);
        Assert.That(p.Ftruncate(fd, (long)Hugetlb.HPAGE_SIZE), Is.Zero);
        Assert.That(p.DoFcntl(fd, Memfd.F_ADD_SEALS, (ulong)(Memfd.F_SEAL_GROW | Memfd.F_SEAL_SHRINK)), Is.Zero);
        Assert.That(p.Ftruncate(fd, 2 * (long)Hugetlb.HPAGE_SIZE), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.Ftruncate(fd, 0), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.DoFcntl(fd, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_GROW | Memfd.F_SEAL_SHRINK));
    }

    /// <summary>
    /// The swap type of a hwpoison pagemap entry is SWP_HWPOISON = MAX_SWAPFILES (MF25): 26 on 6.1 (SWP_SWAPIN_ERROR
    /// still takes a type), 27 from 6.2 (it became a PTE marker) and on 5.19 (before it came), 29 before 5.19.
    /// </summary>
    [TestCase("5.18", 29UL)]
    [TestCase("5.19", 27UL)]
    [TestCase("6.0", 26UL)]
    [TestCase("6.1", 26UL)]
    [TestCase("6.2", 27UL)]
    [TestCase("6.12", 27UL)]
    public void Hwpoison_PagemapSwapType(string kernel, ulong type)
    {
        var p = Sim.Boot(kernel).Spawn("probe");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var a = p.MapAnonymous(Ps);
        p.Fill(a, Ps, _ => 1);
        Assert.That(p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        var e = new MfUser(p).Pagemap(a);
        Assert.That(e >> 62, Is.EqualTo(1UL), "PM_SWAP, not present");
        Assert.That(e & 31, Is.EqualTo(type));
    }

    /// <summary>
    /// An untouched anonymous page: get_user_pages maps the zero page and memory_failure refuses it as a reserved
    /// kernel page (−EBUSY, both releases, no signal; MF26); the page stays readable as zeros and a write gets a
    /// page of its own.
    /// </summary>
    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Hwpoison_UntouchedAnonymousPage_Ebusy(string kernel)
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn("probe");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var a = p.MapAnonymous(Ps);
        Assert.That(p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.EqualTo(-Errno.EBUSY));
        Assert.That(p.SignalsReceived, Is.Empty);
        Assert.That(m.State.Dmesg, Has.Some.Contains("recovery action for reserved kernel page: Ignored"));
        var zero = p.Mm.PfnAt(a.Value)!.Value;
        Assert.That(m.Phys.IsZeroPfn(zero), Is.True, "GUP's read fault mapped ZERO_PAGE");
        Assert.That(p.LoadByte(a + 5, out var v).Completed(1), Is.True);
        Assert.That(v, Is.Zero);
        Assert.That(p.Store(a + 5, new byte[] { 7 }).Completed(1), Is.True);
        Assert.That(p.Mm.PfnAt(a.Value), Is.Not.EqualTo(zero), "wp_page_copy: a new page replaces the zero page");
        Assert.That(p.LoadByte(a + 5, out v).Completed(1) && v == 7, Is.True);
        Assert.That(p.LoadByte(a + 6, out v).Completed(1) && v == 0, Is.True, "the copy starts zeroed");
    }

    /// <summary>
    /// statx on tmpfs (and a memfd): stx_mask has STATX_BTIME from 5.18 (SH9); stx_attributes_mask has APPEND |
    /// IMMUTABLE | NODUMP from 6.0 (SH10) and STATX_ATTR_VERITY on 6.12 (DX14).
    /// </summary>
    [TestCase("5.17", 0x17ffu, 0x203000UL)]
    [TestCase("5.18", 0x1fffu, 0x203000UL)]
    [TestCase("5.19", 0x1fffu, 0x203000UL)]
    [TestCase("6.0", 0x1fffu, 0x203070UL)]
    [TestCase("6.1", 0x1fffu, 0x203070UL)]
    [TestCase("6.12", 0x1fffu, 0x303070UL)]
    public void Statx_Tmpfs_BtimeAndAttributesMask(string kernel, uint stxMask, ulong attributesMask)
    {
        var m = Boot(kernel);
        var p = m.Spawn("probe");
        Assert.That(p.Open(TmpPath(m, "st"), Fcntl.O_RDWR | Fcntl.O_CREAT), Is.GreaterThanOrEqualTo(0));
        var buf = p.MapAnonymous(Ps);
        var b = new byte[256];
        Assert.That(p.Statx(Stat.AT_FDCWD, TmpPath(m, "st"), 0, Stat.STATX_BASIC_STATS | Stat.STATX_BTIME, buf), Is.Zero);
        Assert.That(p.Load(buf, b).Completed(256), Is.True);
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(0x38)), Is.EqualTo(attributesMask), "stx_attributes_mask");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(b), Is.EqualTo(stxMask), "stx_mask");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8)), Is.Zero, "stx_attributes");
        var fd = (int)p.MemfdCreate("st", 0);
        Assert.That(p.Statx(fd, "", Stat.AT_EMPTY_PATH, Stat.STATX_BASIC_STATS | Stat.STATX_BTIME, buf), Is.Zero);
        Assert.That(p.Load(buf, b).Completed(256), Is.True);
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(0x38)) & ~Stat.STATX_ATTR_MOUNT_ROOT, Is.EqualTo(attributesMask & ~Stat.STATX_ATTR_MOUNT_ROOT), "memfd");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(b), Is.EqualTo(stxMask), "memfd stx_mask");
    }

    /// <summary>The ramfs mask (generic_fillattr only): 0x203000 on 6.1, 0x303000 on 6.12 (DX14); no btime.</summary>
    [TestCase("6.1", 0x203000UL)]
    [TestCase("6.12", 0x303000UL)]
    public void Statx_Ramfs_AttributesMask(string kernel, ulong attributesMask)
    {
        var m = new MachineBuilder().WithKernel(kernel).AddRamFs().Build();
        var p = m.Spawn("probe");
        var path = ((RamFs)m.Vfs.Mounts.Single(f => f is RamFs)).MountPoint + "/st";
        Assert.That(p.Open(path, Fcntl.O_RDWR | Fcntl.O_CREAT), Is.GreaterThanOrEqualTo(0));
        var buf = p.MapAnonymous(Ps);
        var b = new byte[256];
        Assert.That(p.Statx(Stat.AT_FDCWD, path, 0, Stat.STATX_BASIC_STATS | Stat.STATX_BTIME, buf), Is.Zero);
        Assert.That(p.Load(buf, b).Completed(256), Is.True);
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(0x38)), Is.EqualTo(attributesMask));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(b), Is.EqualTo(0x17ffu));
    }

    /// <summary>
    /// tmpfs has fileattr_get/set since 6.0 (shmem_fileattr_get, SH10): FS_IOC_FSGETXATTR, FS_IOC_GETFLAGS and
    /// FS_IOC_FSSETXATTR(0) return 0 with everything zero; 5.19 has none (−ENOTTY); ramfs never (−ENOTTY).
    /// </summary>
    [TestCase("5.19", false)]
    [TestCase("6.0", true)]
    [TestCase("6.1", true)]
    [TestCase("6.12", true)]
    public void Ioctl_Tmpfs_Fileattr(string kernel, bool has)
    {
        var m = new MachineBuilder().WithKernel(kernel).AddTmpFs().AddRamFs().Build();
        var p = m.Spawn("probe");
        var fd = (int)p.Open(TmpPath(m, "io"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        var buf = p.MapAnonymous(Ps);
        p.Fill(buf, 64, _ => 0xee);
        var want = has ? 0L : -Errno.ENOTTY;
        Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_FSGETXATTR, buf.Value), Is.EqualTo(want));
        var x = new byte[32];
        Assert.That(p.Load(buf, x).Completed(32), Is.True);
        if (has) Assert.That(x.Take(28), Is.All.Zero, "struct fsxattr: xflags, extsize, nextents, projid, cowextsize, pad");
        Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_GETFLAGS, buf.Value + 32), Is.EqualTo(want));
        if (has) Assert.That(p.Load(buf + 32, x.AsSpan(0, 4)).Completed(4) && BinaryPrimitives.ReadUInt32LittleEndian(x) == 0, Is.True);
        p.Fill(buf, 28, _ => 0);
        Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_FSSETXATTR, buf.Value), Is.EqualTo(want));
        var rfd = (int)p.Open(((RamFs)m.Vfs.Mounts.Single(f => f is RamFs)).MountPoint + "/io", Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Ioctl(rfd, FsIoctl.FS_IOC_FSGETXATTR, buf.Value), Is.EqualTo(-Errno.ENOTTY));
        Assert.That(p.Ioctl(rfd, FsIoctl.FS_IOC_GETFLAGS, buf.Value), Is.EqualTo(-Errno.ENOTTY));
        Assert.That(p.Ioctl(rfd, FsIoctl.FS_IOC_FSSETXATTR, buf.Value), Is.EqualTo(-Errno.ENOTTY));
    }

    /// <summary>
    /// chattr on tmpfs (shmem_fileattr_set): +d (NODUMP) is kept and shows in GETFLAGS and stx_attributes; a flag
    /// outside SHMEM_FL_USER_MODIFIABLE or an fsx-only field is −EOPNOTSUPP; +i / +a are refused the same way here
    /// (their enforcement is not modelled, docs/tmpfs.md).
    /// </summary>
    [Test]
    public void Ioctl_Tmpfs_Setflags()
    {
        var m = Boot("6.12");
        var p = m.Spawn("probe");
        var fd = (int)p.Open(TmpPath(m, "fl"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        var buf = p.MapAnonymous(Ps);
        Span<byte> w = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(w, FsIoctl.FS_NODUMP_FL);
        Assert.That(p.Store(buf, w.ToArray()).Completed(4), Is.True);
        Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_SETFLAGS, buf.Value), Is.Zero);
        Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_GETFLAGS, buf.Value + 8), Is.Zero);
        var r = new byte[4];
        Assert.That(p.Load(buf + 8, r).Completed(4), Is.True);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(r), Is.EqualTo(FsIoctl.FS_NODUMP_FL));
        Assert.That(p.Statx(Stat.AT_FDCWD, TmpPath(m, "fl"), 0, Stat.STATX_BASIC_STATS, buf + 64), Is.Zero);
        var st = new byte[16];
        Assert.That(p.Load(buf + 64, st).Completed(16), Is.True);
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(st.AsSpan(8)), Is.EqualTo(Stat.STATX_ATTR_NODUMP), "stx_attributes");
        foreach (var bad in new[] { FsIoctl.FS_SYNC_FL, FsIoctl.FS_IMMUTABLE_FL, FsIoctl.FS_APPEND_FL })
        {
            BinaryPrimitives.WriteUInt32LittleEndian(w, bad);
            Assert.That(p.Store(buf, w.ToArray()).Completed(4), Is.True);
            Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_SETFLAGS, buf.Value), Is.EqualTo(-Errno.EOPNOTSUPP), $"0x{bad:x}");
        }
        var fsx = new byte[28];
        BinaryPrimitives.WriteUInt32LittleEndian(fsx.AsSpan(12), 5); // fsx_projid
        Assert.That(p.Store(buf, fsx).Completed(28), Is.True);
        Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_FSSETXATTR, buf.Value), Is.EqualTo(-Errno.EOPNOTSUPP), "fileattr_has_fsx");
    }
}
