using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Fs;

/// <summary>read/write/pread64/pwrite64/readv/writev/preadv2/pwritev2/lseek/open/close: results and errnos (fs/read_write.c, F6).</summary>
public class ReadWriteSyscallTests
{
    [TestCase("6.12")]
    [TestCase("5.10")]
    public void Writev_ThreeSegmentsWithEmptyOne_WritesBothBuffers_ThenReadvSplitsThem(string kernel)
    {
        var s = new FsScenario(kernel);
        var vec = s.U + 0x2000UL;
        s.StoreIovecs(vec, (s.U.Value, 100), (s.U.Value + 500, 0), (s.U.Value + 1000, 200));
        var fd = s.OpenNew();
        Assert.That(s.P.Writev(fd, vec, 3), Is.EqualTo(300));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(300));
        var expected = FsScenario.PatternBytes(0, 100).Concat(FsScenario.PatternBytes(1000, 200)).ToArray();
        Assert.That(s.Fs.ReadData("f"), Is.EqualTo(expected));
        // readv back into {U+0x1000, 50}, {U+0x1100, 1000}: 50 + 250.
        s.StoreIovecs(vec, (s.U.Value + 0x1000, 50), (s.U.Value + 0x1100, 1000));
        Assert.That(s.P.Lseek(fd, 0, Fcntl.SEEK_SET), Is.EqualTo(0));
        Assert.That(s.P.Readv(fd, vec, 2), Is.EqualTo(300));
        Assert.That(s.UserBytes(s.U + 0x1000UL, 50), Is.EqualTo(expected[..50]));
        Assert.That(s.UserBytes(s.U + 0x1100UL, 250), Is.EqualTo(expected[50..]));
        Assert.That(s.UserBytes(s.U + 0x1100UL + 250UL, 10), Is.EqualTo(FsScenario.PatternBytes(0x1100 + 250, 10)), "untouched tail");
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(300));
    }

    [TestCase("6.12")]
    [TestCase("6.15")]
    public void Writev_ThirdSegmentUnmapped_ReturnsBytesOfFirstTwo(string kernel)
    {
        var s = new FsScenario(kernel, WriteEndPolicy.Block, pages: 4);
        s.UnmapPage(3);
        var vec = s.U + 0x2000UL;
        s.StoreIovecs(vec, (s.U.Value, 100), (s.U.Value + 0x1000, 200), (s.U.Value + 0x3000, 50));
        var fd = s.OpenNew();
        // import_iovec only checks access_ok, so the unmapped buffer is found by the copy: partial progress wins.
        Assert.That(s.P.Writev(fd, vec, 3), Is.EqualTo(300));
        Assert.That(s.Fs.ReadData("f"), Is.EqualTo(FsScenario.PatternBytes(0, 100).Concat(FsScenario.PatternBytes(0x1000, 200)).ToArray()));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(300));
    }

    [Test]
    public void Readv_SecondSegmentUnmapped_ReturnsFirstSegmentBytes()
    {
        var s = new FsScenario("6.12", pages: 4);
        s.UnmapPage(3);
        s.Fs.CreateWithData("f", FsScenario.PatternBytes(77, 1000));
        var vec = s.U + 0x2000UL;
        s.StoreIovecs(vec, (s.U.Value + 0x1000, 100), (s.U.Value + 0x3000, 100));
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);
        Assert.That(s.P.Readv(fd, vec, 2), Is.EqualTo(100));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(100));
    }

    [Test]
    public void Preadv2_PosMinusOne_UsesAndUpdatesFilePosition_Pwritev2AppendFlagAppends()
    {
        var s = new FsScenario("6.12");
        s.Fs.CreateWithData("f", FsScenario.PatternBytes(0, 1000));
        var fd = s.OpenNew();
        var vec = s.U + 0x2000UL;
        s.StoreIovecs(vec, (s.U.Value + 0x1000, 10));
        Assert.That(s.P.Preadv2(fd, vec, 1, -1, 0), Is.EqualTo(10));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(10));
        Assert.That(s.P.Preadv2(fd, vec, 1, 500, Fcntl.RWF_HIPRI), Is.EqualTo(10));
        Assert.That(s.UserBytes(s.U + 0x1000UL, 10), Is.EqualTo(FsScenario.PatternBytes(500, 10)));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(10), "explicit offset leaves f_pos alone");
        Assert.That(s.P.Pwritev2(fd, vec, 1, 0, Fcntl.RWF_APPEND), Is.EqualTo(10));
        Assert.That(s.Fs.Lookup("f")!.Size, Is.EqualTo(1010));
        Assert.That(s.Fs.ReadData("f")[1000..], Is.EqualTo(FsScenario.PatternBytes(500, 10)));
    }

    [Test]
    public void Pwritev2_UnknownFlag_Eopnotsupp_Nowait_Eopnotsupp_OnRamfs()
    {
        var s = new FsScenario("6.12");
        var fd = s.OpenNew();
        var vec = s.U + 0x2000UL;
        s.StoreIovecs(vec, (s.U.Value, 10));
        Assert.That(s.P.Pwritev2(fd, vec, 1, 0, 0x100), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(s.P.Preadv2(fd, vec, 1, 0, Fcntl.RWF_NOWAIT), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(s.Fs.Lookup("f")!.Size, Is.EqualTo(0));
    }

    [Test]
    public void Pwritev2_Nowait_OnNowaitMount_BufferedWriteIsEinval()
    {
        var m = KernelSim.Tests.Infrastructure.Sim.Boot("6.12");
        var fs = RamFs.Mount(m, new RamFsOptions { Nowait = true });
        var p = m.Spawn();
        var u = p.MapAnonymous(PageDefs.PAGE_SIZE);
        p.Fill(u, 64, i => (byte)i);
        var fd = (int)p.Open(fs.PathOf("f"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        p.Store(u + 32UL, BitConverter.GetBytes(u.Value).Concat(BitConverter.GetBytes(8UL)).ToArray());
        // generic_write_checks: IOCB_NOWAIT without IOCB_DIRECT → −EINVAL.
        Assert.That(p.Pwritev2(fd, u + 32UL, 1, 0, Fcntl.RWF_NOWAIT), Is.EqualTo(-Errno.EINVAL));
    }

    [Test]
    public void Errnos_BadFd_WrongMode_NegativeOffsets_BadBuffers()
    {
        var s = new FsScenario("6.12");
        var fd = s.OpenNew();
        var ro = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);
        var wo = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_WRONLY);
        Assert.That(s.P.Read(77, s.U, 10), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Write(-1, s.U, 10), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Write(ro, s.U, 10), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Read(wo, s.U, 10), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Pread64(77, s.U, 10, -1), Is.EqualTo(-Errno.EINVAL), "negative offset checked before the fd");
        Assert.That(s.P.Pwrite64(fd, s.U, 10, -5), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Pwrite64(fd, s.U, 10, long.MaxValue - 5), Is.EqualTo(-Errno.EINVAL), "pos + count overflows loff_t");
        Assert.That(s.P.Read(fd, new UserPtr(PageDefs.USER_PTR_MAX - 4), 10), Is.EqualTo(-Errno.EFAULT), "access_ok");
        Assert.That(s.P.Write(fd, s.U, 0), Is.EqualTo(0));
        Assert.That(s.P.Readv(fd, s.U, 1025), Is.EqualTo(-Errno.EINVAL), "more than UIO_MAXIOV");
        Assert.That(s.P.Readv(fd, s.U, -1), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Readv(fd, new UserPtr(0x1000), 2), Is.EqualTo(-Errno.EFAULT), "unreadable iovec array");
        Assert.That(s.P.Readv(fd, s.U, 0), Is.EqualTo(0));
        Assert.That(s.P.Preadv2(fd, s.U, 1, -2, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Writev(ro, s.U, 1), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.Fs.Lookup("f")!.Size, Is.EqualTo(0));
    }

    [Test]
    public void Lseek_WhenceAndRange()
    {
        var s = new FsScenario("6.12");
        s.Fs.CreateWithData("f", new byte[1000]);
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDWR);
        Assert.That(s.P.Lseek(fd, 10, Fcntl.SEEK_SET), Is.EqualTo(10));
        Assert.That(s.P.Lseek(fd, 5, Fcntl.SEEK_CUR), Is.EqualTo(15));
        Assert.That(s.P.Lseek(fd, -20, Fcntl.SEEK_CUR), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(15));
        Assert.That(s.P.Lseek(fd, -1, Fcntl.SEEK_END), Is.EqualTo(999));
        Assert.That(s.P.Lseek(fd, 1000, Fcntl.SEEK_DATA), Is.EqualTo(-Errno.ENXIO));
        Assert.That(s.P.Lseek(fd, 3, Fcntl.SEEK_HOLE), Is.EqualTo(1000));
        Assert.That(s.P.Lseek(fd, 0, 5), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Lseek(fd, 0, -1), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Lseek(99, 0, Fcntl.SEEK_SET), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Lseek(fd, 1L << 40, Fcntl.SEEK_SET), Is.EqualTo(1L << 40), "seeking past EOF is allowed");
    }

    [Test]
    public void OpenClose_Errnos_LowestFreeFd_AppendAndTrunc()
    {
        var s = new FsScenario("6.12");
        Assert.That(s.P.Open(s.Fs.PathOf("nope"), Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(s.P.Open("/elsewhere/x", Fcntl.O_RDWR | Fcntl.O_CREAT), Is.EqualTo(-Errno.ENOENT));
        var a = s.P.Open(s.Fs.PathOf("a"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        var b = s.P.Open(s.Fs.PathOf("b"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That((a, b), Is.EqualTo((0L, 1L)));
        Assert.That(s.P.Open(s.Fs.PathOf("a"), Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL), Is.EqualTo(-Errno.EEXIST));
        Assert.That(s.P.Close(0), Is.EqualTo(0));
        Assert.That(s.P.Close(0), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Read(0, s.U, 1), Is.EqualTo(-Errno.EBADF));
        var ap = s.P.Open(s.Fs.PathOf("a"), Fcntl.O_WRONLY | Fcntl.O_APPEND);
        Assert.That(ap, Is.EqualTo(0), "lowest free descriptor");
        Assert.That(s.P.Write((int)b, s.U, 5), Is.EqualTo(5));
        Assert.That(s.P.Write((int)ap, s.U, 7), Is.EqualTo(7));
        Assert.That(s.P.Write((int)ap, s.U, 7), Is.EqualTo(7));
        Assert.That(s.Fs.Lookup("a")!.Size, Is.EqualTo(14));
        Assert.That(s.P.Pwrite64((int)ap, s.U + 100UL, 3, 0), Is.EqualTo(3), "pwrite on O_APPEND still appends");
        Assert.That(s.Fs.ReadData("a")[14..], Is.EqualTo(FsScenario.PatternBytes(100, 3)));
        var t = s.P.Open(s.Fs.PathOf("a"), Fcntl.O_RDWR | Fcntl.O_TRUNC);
        Assert.That(t, Is.GreaterThanOrEqualTo(0));
        Assert.That(s.Fs.Lookup("a")!.Size, Is.EqualTo(0));
        Assert.That(s.P.Fsync((int)t), Is.EqualTo(0));
        Assert.That(s.Fs.Unlink("a"), Is.EqualTo(0));
        Assert.That(s.Fs.Unlink("a"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(s.P.Write((int)t, s.U, 4), Is.EqualTo(4), "an unlinked open file still works");
    }
}
