using System.Buffers.Binary;
using KernelSim.Fs.Dax;
using KernelSim.Mm;
using KernelSim.Uapi;
using static KernelSim.Uapi.FsIoctl;
using static KernelSim.Uapi.Stat;

namespace KernelSim.Tests.FsDax;

/// <summary>fstat/stat/statx byte layouts and rules, the VFS ioctls and sync/syncfs/fdatasync (docs/kernel/fsdax.md DX5–DX9).</summary>
public class VfsCallsTests
{
    private static ulong U64(byte[] b, int o) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(o));
    private static uint U32(byte[] b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(o));

    [Test]
    public void Fstat_StructStatLayout_EveryField()
    {
        var s = new DaxScenario("6.12");
        var u = new UserStructs(s.P);
        s.M.Clock.Advance(TimeSpan.FromSeconds(5));
        var fd = s.CreateFile("f", 5000);
        var ino = s.Fs.Lookup("f")!.Ino;
        u.Scribble();
        Assert.That(s.P.Fstat(fd, u.Buf), Is.Zero);
        var b = u.Bytes(160);
        Assert.That(U64(b, 0), Is.EqualTo(0x10300UL), "st_dev: new_encode_dev(259:0)");
        Assert.That(U64(b, 8), Is.EqualTo(ino));
        Assert.That(U64(b, 16), Is.EqualTo(1UL), "st_nlink");
        Assert.That(U32(b, 24), Is.EqualTo(0x81a4u), "st_mode S_IFREG | 0644");
        Assert.That(U32(b, 28), Is.Zero);
        Assert.That(U32(b, 32), Is.Zero);
        Assert.That(U32(b, 36), Is.Zero, "__pad0");
        Assert.That(U64(b, 40), Is.Zero, "st_rdev");
        Assert.That(U64(b, 48), Is.EqualTo(5000UL));
        Assert.That(U64(b, 56), Is.EqualTo(4096UL), "st_blksize");
        Assert.That(U64(b, 64), Is.EqualTo(16UL), "st_blocks: two 4 KiB blocks");
        Assert.That(U64(b, 72), Is.EqualTo(5UL), "st_atime");
        Assert.That(U64(b, 88), Is.EqualTo(5UL), "st_mtime");
        Assert.That(U64(b, 104), Is.EqualTo(5UL), "st_ctime");
        Assert.That(b.AsSpan(120, 24).ToArray(), Is.All.EqualTo(0), "__unused");
        Assert.That(b.AsSpan(144, 16).ToArray(), Is.All.EqualTo(0xAA), "nothing past 144 bytes");
        Assert.That(s.P.Fstat(99, u.Buf), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Fstat(fd, new UserPtr(0x10)), Is.EqualTo(-Errno.EFAULT));
    }

    [Test]
    public void Write_UpdatesMtimeAndCtime_NotAtime()
    {
        var s = new DaxScenario("6.12");
        var u = new UserStructs(s.P);
        s.M.Clock.Advance(TimeSpan.FromSeconds(5));
        var fd = s.CreateFile("f", 100);
        s.M.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(s.P.Pwrite64(fd, s.U, 10, 0), Is.EqualTo(10));
        Assert.That(s.P.Stat(s.Path("f"), u.Buf), Is.Zero);
        Assert.That((U64(u.Bytes(144), 72), U64(u.Bytes(144), 88), U64(u.Bytes(144), 104)), Is.EqualTo((5UL, 7UL, 7UL)));
    }

    [Test]
    public void Statx_Layout_MaskMntIdAndMountRoot_6_12()
    {
        var s = new DaxScenario("6.12");
        var u = new UserStructs(s.P);
        s.M.Clock.Advance(TimeSpan.FromSeconds(3));
        s.CreateFile("f", 8192);
        Assert.That(u.Statx(s.Path("f")), Is.Zero);
        var b = u.Bytes(256);
        Assert.That(U32(b, 0), Is.EqualTo(STATX_BASIC_STATS | STATX_MNT_ID), "stx_mask");
        Assert.That(U32(b, 4), Is.EqualTo(4096u));
        Assert.That(U64(b, 8), Is.EqualTo(STATX_ATTR_DAX));
        Assert.That(U32(b, 16), Is.EqualTo(1u));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(28)), Is.EqualTo((ushort)0x81a4));
        Assert.That(U64(b, 40), Is.EqualTo(8192UL));
        Assert.That(U64(b, 48), Is.EqualTo(16UL));
        Assert.That(U64(b, 56), Is.EqualTo(STATX_ATTR_AUTOMOUNT | STATX_ATTR_MOUNT_ROOT | STATX_ATTR_DAX));
        Assert.That(U64(b, 64), Is.EqualTo(3UL), "stx_atime.tv_sec");
        Assert.That(U64(b, 80), Is.Zero, "stx_btime not asked for");
        Assert.That((U32(b, 136), U32(b, 140)), Is.EqualTo((259u, 0u)), "stx_dev");
        Assert.That(U64(b, 144), Is.EqualTo((ulong)s.Fs.MntId));
        Assert.That(b.AsSpan(152, 104).ToArray(), Is.All.EqualTo(0), "the rest of struct statx is zeroed");

        Assert.That(u.Statx(s.Path("f"), STATX_BASIC_STATS | STATX_BTIME), Is.Zero);
        Assert.That(u.StxMask, Is.EqualTo(STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID));
        Assert.That(u.U64(80), Is.EqualTo(3UL), "stx_btime: the creation time");

        Assert.That(u.Statx(s.Fs.MountPoint), Is.Zero);
        Assert.That(u.StxAttributes, Is.EqualTo(STATX_ATTR_MOUNT_ROOT), "the mount's root; a directory is never DAX");
        Assert.That(u.U32(28) & 0xffff, Is.EqualTo(0x41edu), "S_IFDIR | 0755");
    }

    [Test]
    public void Statx_Before58_NoMntIdNoMountRoot()
    {
        var s = new DaxScenario("5.4");
        var u = new UserStructs(s.P);
        s.CreateFile("f", 10);
        Assert.That(u.Statx(s.Fs.MountPoint), Is.Zero);
        Assert.That(u.StxMask, Is.EqualTo(STATX_BASIC_STATS));
        Assert.That(u.StxAttributes, Is.Zero);
        Assert.That(u.U64(144), Is.Zero);
    }

    [Test]
    public void Statx_Errnos_AndEmptyPathAndRelativePath()
    {
        var s = new DaxScenario("6.12");
        var u = new UserStructs(s.P);
        var fd = s.CreateFile("f", 10);
        Assert.That(u.Statx(s.Path("f"), STATX__RESERVED), Is.EqualTo(-Errno.EINVAL));
        Assert.That(u.Statx(s.Path("f"), flags: AT_STATX_SYNC_TYPE), Is.EqualTo(-Errno.EINVAL));
        Assert.That(u.Statx(s.Path("f"), flags: 0x1), Is.EqualTo(-Errno.EINVAL), "unknown flag");
        Assert.That(u.Statx(s.Path("nope")), Is.EqualTo(-Errno.ENOENT));
        Assert.That(u.Statx(""), Is.EqualTo(-Errno.ENOENT), "empty path without AT_EMPTY_PATH");
        Assert.That(s.P.Statx(AT_FDCWD, s.Path("f"), 0, STATX_BASIC_STATS, new UserPtr(0x10)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(u.Statx("", flags: AT_EMPTY_PATH, dirfd: 77), Is.EqualTo(-Errno.EBADF));
        Assert.That(u.Statx("", flags: AT_EMPTY_PATH, dirfd: fd), Is.Zero);
        Assert.That(u.U64(40), Is.EqualTo(10UL));
        Assert.That(u.Statx(s.Path("f")[1..]), Is.Zero, "relative to the cwd, /");
        Assert.That(u.Statx("f", dirfd: fd), Is.EqualTo(-Errno.ENOSYS), "relative to a directory fd: not modelled");
        Assert.That(u.Statx(s.Path("f"), 0), Is.Zero);
        Assert.That(u.StxMask, Is.EqualTo(STATX_BASIC_STATS | STATX_MNT_ID), "mask 0: the basic fields come anyway");
    }

    [Test]
    public void Lstat_DoesNotFollowAKernfsLink_StatDoes()
    {
        var s = new DaxScenario("6.12");
        var u = new UserStructs(s.P);
        Assert.That(s.P.Lstat("/proc/self", u.Buf), Is.Zero);
        Assert.That(u.U32(24) & Fcntl.S_IFMT, Is.EqualTo((uint)Fcntl.S_IFLNK));
        Assert.That(s.P.Stat("/proc/self", u.Buf), Is.Zero);
        Assert.That(u.U32(24) & Fcntl.S_IFMT, Is.EqualTo((uint)Fcntl.S_IFDIR));
    }

    [Test]
    public void Stat_BlockDeviceNode_RdevIsTheDisk()
    {
        var s = new DaxScenario("6.12");
        var u = new UserStructs(s.P);
        Assert.That(s.P.Stat("/dev/pmem0", u.Buf), Is.Zero);
        Assert.That(u.U32(24) & Fcntl.S_IFMT, Is.EqualTo((uint)Fcntl.S_IFBLK));
        Assert.That(u.U64(40), Is.EqualTo(NewEncodeDev(259, 0)));
        Assert.That(u.U64(48), Is.EqualTo((ulong)s.Pmem.Disk.SizeBytes));
    }

    // ---- ioctls ------------------------------------------------------------------------------------------------

    [Test]
    public void Figetbsz_Fionread_Fionbio()
    {
        var s = new DaxScenario("6.12");
        var u = new UserStructs(s.P);
        var fd = s.CreateFile("f", 5000);
        Assert.That(s.P.Lseek(fd, 1000, Fcntl.SEEK_SET), Is.EqualTo(1000));
        Assert.That(u.IntIoctl(fd, FIGETBSZ), Is.EqualTo((0L, 4096)));
        Assert.That(u.IntIoctl(fd, FIONREAD), Is.EqualTo((0L, 4000)));
        Assert.That(u.IntIoctl(fd, FIONBIO, 1).Ret, Is.Zero);
        Assert.That(s.P.FileAt(fd)!.Flags & Fcntl.O_NONBLOCK, Is.EqualTo(Fcntl.O_NONBLOCK));
        Assert.That(u.IntIoctl(fd, FIONBIO, 0).Ret, Is.Zero);
        Assert.That(s.P.FileAt(fd)!.Flags & Fcntl.O_NONBLOCK, Is.Zero);
        Assert.That(s.P.Ioctl(fd, 0xdead, 0), Is.EqualTo(-Errno.ENOTTY), "unknown ioctl");
        Assert.That(s.P.Ioctl(99, FIGETBSZ, u.Buf.Value), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Ioctl(fd, FIGETBSZ, 0x10), Is.EqualTo(-Errno.EFAULT));
    }

    [TestCase(FailureRoute.Generic, true)]
    [TestCase(FailureRoute.NotifyFailure, false)]
    public void Fibmap_Ext4MapsDaxFiles_XfsDaxAopsHaveNoBmap(FailureRoute route, bool mapped)
    {
        var s = new DaxScenario("6.12", route: route);
        var u = new UserStructs(s.P);
        var fd = s.CreateFile("f", 8192);
        var r = u.IntIoctl(fd, FIBMAP, 1);
        if (mapped) Assert.That(r, Is.EqualTo((0L, (int)(s.Fs.DeviceOffsetOf("f", 4096) >> 12))));
        else Assert.That(r, Is.EqualTo((-(long)Errno.EINVAL, 0)), "bmap() error: 0 stored");
    }

    [Test]
    public void Fibmap_HoleUnwrittenPagecacheAndErrnos()
    {
        var s = new DaxScenario("6.12", DaxMode.Never);
        var u = new UserStructs(s.P);
        var fd = s.CreateFile("f", 4096);
        var ino = (DaxInode)s.Fs.Lookup("f")!;
        Assert.That(ino.Mapping!.Folios.Count(f => f.Dirty), Is.EqualTo(1));
        Assert.That(u.IntIoctl(fd, FIBMAP, 0), Is.EqualTo((0L, (int)(s.Fs.DeviceOffsetOf("f", 0) >> 12))));
        Assert.That(ino.Mapping.Folios.Count(f => f.Dirty), Is.Zero, "iomap_bmap wrote the page cache back first");
        Assert.That(u.IntIoctl(fd, FIBMAP, 9), Is.EqualTo((0L, 0)), "a hole");
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_KEEP_SIZE, 65536, 4096), Is.Zero);
        Assert.That(u.IntIoctl(fd, FIBMAP, 16), Is.EqualTo((0L, 0)), "an unwritten extent");
        Assert.That(u.IntIoctl(fd, FIBMAP, -1), Is.EqualTo((-(long)Errno.EINVAL, -1)), "negative: nothing stored");
        s.P.CapSysAdmin = false;
        Assert.That(u.IntIoctl(fd, FIBMAP, 0).Ret, Is.EqualTo(-Errno.EPERM), "CAP_SYS_RAWIO");
        s.P.CapSysAdmin = true;
        Assert.That(s.P.Mkdir(s.Path("d")), Is.Zero);
        Assert.That(u.IntIoctl(s.Open("d", Fcntl.O_RDONLY), FIBMAP).Ret, Is.EqualTo(-Errno.ENOTTY), "not a regular file");
    }

    [Test]
    public void Fibmap_Before55_MissingBmapIsEinvalBeforeTheCapabilityCheck()
    {
        var s = new DaxScenario("5.4", route: FailureRoute.NotifyFailure);
        var u = new UserStructs(s.P);
        var fd = s.CreateFile("f", 4096);
        s.P.CapSysAdmin = false;
        Assert.That(u.IntIoctl(fd, FIBMAP, 7), Is.EqualTo((-(long)Errno.EINVAL, 7)), "nothing stored");
        var e = new DaxScenario("5.4");
        var ue = new UserStructs(e.P);
        var fe = e.CreateFile("f", 4096);
        e.P.CapSysAdmin = false;
        Assert.That(ue.IntIoctl(fe, FIBMAP, 0).Ret, Is.EqualTo(-Errno.EPERM));
    }

    [Test]
    public void Fileattr_FlagsAndXflags_Errnos()
    {
        var s = new DaxScenario("6.12", DaxMode.Inode, route: FailureRoute.NotifyFailure);
        var u = new UserStructs(s.P);
        var fd = s.CreateFile("f", 3 * 4096);
        Assert.That(u.IntIoctl(fd, FS_IOC_SETFLAGS, (int)FS_DAX_FL).Ret, Is.Zero);
        Assert.That(u.IntIoctl(fd, FS_IOC_GETFLAGS), Is.EqualTo((0L, (int)FS_DAX_FL)));
        Assert.That(u.GetXflags(fd), Is.EqualTo((0L, FS_XFLAG_DAX)));
        var b = u.Bytes((int)FsxattrSize);
        Assert.That(U32(b, 8), Is.EqualTo(1u), "fsx_nextents (XFS)");
        Assert.That(b.AsSpan(12, 16).ToArray(), Is.All.EqualTo(0), "projid, cowextsize, padding");
        Assert.That(u.SetXflags(fd, FS_XFLAG_APPEND), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(u.IntIoctl(fd, FS_IOC_SETFLAGS, (int)FS_NODUMP_FL).Ret, Is.EqualTo(-Errno.EOPNOTSUPP));
        s.P.CapSysAdmin = false;
        Assert.That(u.SetXflags(fd, 0), Is.EqualTo(-Errno.EPERM), "inode_owner_or_capable");
        Assert.That(u.GetXflags(fd).Ret, Is.Zero, "reading needs no privilege");
        Assert.That(u.GetXflags((int)s.P.Open("/dev/pmem0", Fcntl.O_RDONLY)).Ret, Is.EqualTo(-Errno.ENOTTY), "no fileattr_get: the driver's ioctl");
    }

    // ---- sync ------------------------------------------------------------------------------------------------

    [Test]
    public void Sync_WritesBackEveryMount_Fdatasync()
    {
        var s = new DaxScenario("6.12", DaxMode.Never);
        var fd = s.CreateFile("f", 8192);
        var ino = (DaxInode)s.Fs.Lookup("f")!;
        Assert.That(ino.Mapping!.Folios.Count(f => f.Dirty), Is.EqualTo(2));
        Assert.That(s.P.Sync(), Is.Zero);
        Assert.That(ino.Mapping.Folios.Count(f => f.Dirty), Is.Zero);
        Assert.That(ino.MetadataDirty, Is.False);
        Assert.That(s.P.Fdatasync(fd), Is.Zero);
        Assert.That(s.P.Fdatasync(42), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Syncfs(42), Is.EqualTo(-Errno.EBADF));
    }

    [TestCase("6.12", -Errno.EIO)]
    [TestCase("5.8", -Errno.EIO)]
    [TestCase("5.4", 0)]
    public void Syncfs_ReportsAWritebackErrorOncePerFile_From58(string kernel, int first)
    {
        var s = new DaxScenario(kernel, DaxMode.Never, clearErrUnit: 8192); // a 4 KiB write cannot clear the bad sector
        var fd = s.CreateFile("f", 4096);
        Assert.That(s.P.Fsync(fd), Is.Zero);
        var other = s.Open("f");
        s.MarkBad("f", 0);
        Assert.That(s.P.Pwrite64(fd, s.U, 512, 0), Is.EqualTo(512));

        Assert.That(s.P.Syncfs(fd), Is.EqualTo(first), "the writeback bio failed");
        Assert.That(s.P.Syncfs(fd), Is.Zero, "seen");
        Assert.That(s.P.Syncfs(other), Is.EqualTo(first), "another open file sees it once too");
        Assert.That(s.P.Fsync(fd), Is.EqualTo(-Errno.EIO), "mapping_set_error: fsync reports it as well");
    }
}
