using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Shmem;

/// <summary>tmpfs as a filesystem (mm/shmem.c): create, read, write, truncate, fallocate, mmap shared and private.</summary>
public class TmpFsTests
{
    [Test]
    public void WriteThenRead_RoundTrips_AndHolesReadAsZerosWithoutAllocating()
    {
        var s = new TmpFsScenario("6.12");
        var data = TmpFsScenario.Bytes(5000, 1);
        var fd = s.CreateWritten(data);
        Assert.That(s.Fs.Files["f"].Size, Is.EqualTo(5000));
        Assert.That(s.P.Ftruncate(fd, 3 * 4096 + 10), Is.EqualTo(0));
        Assert.That(s.Fs.Files["f"].Mapping!.NrPages, Is.EqualTo(2), "the extension is a hole");
        Assert.That(s.P.Pread64(fd, s.U, 4 * 4096, 0), Is.EqualTo(3 * 4096 + 10));
        var back = new byte[3 * 4096 + 10];
        s.P.Load(s.U, back);
        Assert.That(back[..5000], Is.EqualTo(data));
        Assert.That(back[5000..].All(b => b == 0), Is.True);
        Assert.That(s.Fs.Files["f"].Mapping!.NrPages, Is.EqualTo(2), "reading a hole allocates nothing (SGP_READ)");
        Assert.That(s.Fs.Files["f"].Mode, Is.EqualTo(Fcntl.S_IFREG | 0x1a4));
    }

    [Test]
    public void Truncate_ShrinksAndZeroesThePartialPage()
    {
        var s = new TmpFsScenario("6.12");
        var fd = s.CreateWritten(TmpFsScenario.Bytes(8192, 7));
        Assert.That(s.P.Ftruncate(fd, 100), Is.EqualTo(0));
        Assert.That(s.P.Ftruncate(fd, 8192), Is.EqualTo(0));
        var data = s.Fs.ReadData("f");
        Assert.That(data[..100], Is.EqualTo(TmpFsScenario.Bytes(100, 7)));
        Assert.That(data[100..].All(b => b == 0), Is.True);
        Assert.That(s.Fs.Files["f"].Mapping!.NrPages, Is.EqualTo(1));
    }

    [Test]
    public void Fallocate_PunchHoleZeroesRange_KeepSizeRequired_OtherModesRefused()
    {
        var s = new TmpFsScenario("6.12");
        var fd = s.CreateWritten(TmpFsScenario.Bytes(3 * 4096, 3));
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE, 0, 10), Is.EqualTo(-Errno.EOPNOTSUPP), "vfs_fallocate: PUNCH_HOLE needs KEEP_SIZE");
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_ZERO_RANGE, 0, 10), Is.EqualTo(-Errno.EOPNOTSUPP), "shmem_fallocate: only KEEP_SIZE | PUNCH_HOLE");
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, 100, 2 * 4096), Is.EqualTo(0));
        var data = s.Fs.ReadData("f");
        var want = TmpFsScenario.Bytes(3 * 4096, 3);
        Array.Clear(want, 100, 2 * 4096);
        Assert.That(data, Is.EqualTo(want));
        Assert.That(s.Fs.Files["f"].Mapping!.Find(1), Is.Null, "the whole page inside the hole is gone");
        Assert.That(s.Fs.Files["f"].Size, Is.EqualTo(3 * 4096));
        Assert.That(s.P.Fallocate(fd, 0, 0, 5 * 4096), Is.EqualTo(0));
        Assert.That(s.Fs.Files["f"].Size, Is.EqualTo(5 * 4096));
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_KEEP_SIZE, 0, 8 * 4096), Is.EqualTo(0));
        Assert.That(s.Fs.Files["f"].Size, Is.EqualTo(5 * 4096));
        Assert.That(s.Fs.Files["f"].Mapping!.NrPages, Is.EqualTo(8));
    }

    [Test]
    public void MmapShared_StoreIsSeenByRead_AndPastEofIsSigbus()
    {
        var s = new TmpFsScenario("6.12");
        var fd = s.CreateWritten(TmpFsScenario.Bytes(4096 + 100, 5));
        var a = s.P.Mmap(0, 3 * 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        Assert.That(a, Is.GreaterThan(0));
        var va = new UserPtr((ulong)a);
        Assert.That(s.P.Store(va + 10UL, [0xAA, 0xBB]).Done, Is.EqualTo(2UL));
        Assert.That(s.Fs.ReadData("f")[10..12], Is.EqualTo(new byte[] { 0xAA, 0xBB }));
        Assert.That(s.Fs.Files["f"].Mapping!.Find(0)!.Dirty, Is.True);
        var r = s.P.Load(va + 2UL * 4096, new byte[1]);
        Assert.That(r.Signal, Is.Not.Null);
        Assert.That((r.Signal!.Value.Signo, r.Signal.Value.Code, r.Signal.Value.Addr), Is.EqualTo((Sig.SIGBUS, Sig.BUS_ADRERR, (ulong)a + 2 * 4096)));
    }

    [Test]
    public void MmapPrivate_ReadSharesThePageCache_StoreCopies()
    {
        var s = new TmpFsScenario("6.12");
        var fd = s.CreateWritten(TmpFsScenario.Bytes(4096, 9));
        var a = (ulong)s.P.Mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE, fd, 0);
        var one = new byte[1];
        s.P.Load(new UserPtr(a), one);
        Assert.That(s.P.Mm.PfnAt(a), Is.EqualTo(s.PfnOf(0)), "a read fault maps the page-cache page");
        Assert.That(s.P.Store(new UserPtr(a), [0x55]).Done, Is.EqualTo(1UL));
        Assert.That(s.P.Mm.PfnAt(a), Is.Not.EqualTo(s.PfnOf(0)), "the store got a private copy");
        Assert.That(s.Fs.ReadData("f")[0], Is.EqualTo(TmpFsScenario.Bytes(1, 9)[0]), "the file is unchanged");
        s.P.Load(new UserPtr(a + 1), one);
        Assert.That(one[0], Is.EqualTo(TmpFsScenario.Bytes(2, 9)[1]), "the copy holds the file's bytes");
    }

    [Test]
    public void Unlink_OpenFileKeepsItsData_NameIsGone()
    {
        var s = new TmpFsScenario("6.12");
        var fd = s.CreateWritten(TmpFsScenario.Bytes(100, 2));
        Assert.That(s.M.Run(() => s.Fs.Unlink("f")).Value, Is.EqualTo(0));
        Assert.That(s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(s.P.Pread64(fd, s.U, 100, 0), Is.EqualTo(100));
        Assert.That(s.P.Open(s.Fs.PathOf("g"), Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL), Is.EqualTo(1));
        Assert.That(s.P.Open(s.Fs.PathOf("g"), Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL), Is.EqualTo(-Errno.EEXIST));
    }
}
