using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Shmem;

/// <summary>
/// tmpfs's own hwpoison behaviour (SH2–SH5): from 5.17 shmem_error_remove_folio keeps the poisoned folio, so read and
/// write fail with −EIO and a fault gets SIGBUS BUS_MCEERR_AR until truncate or a hole punch removes it; before, the
/// folio was truncated and the data silently became zeros.
/// </summary>
public class TmpFsHwpoisonTests
{
    private const int Len = 3 * 4096;

    [TestCase("5.17")]
    [TestCase("6.12")]
    public void Kept_ReadFromBefore_GetsBytesBeforeThePage_ReadAtIt_EIO(string kernel)
    {
        var s = new TmpFsScenario(kernel);
        var fd = s.CreateWritten(TmpFsScenario.Bytes(Len, 4));
        var pfn = s.PfnOf(1);
        Assert.That(s.Poison(1), Is.EqualTo(0));
        Assert.That(s.M.Phys.Frame(pfn).IsHwPoison, Is.True);
        Assert.That(s.PfnOf(1), Is.EqualTo(pfn), "shmem_error_remove_folio keeps the folio in the page cache");
        Assert.That(s.M.State.Dmesg, Has.Some.Contains("recovery action for dirty LRU page: Recovered"));
        Assert.That(s.P.Pread64(fd, s.U, Len, 100), Is.EqualTo(4096 - 100), "the bytes before the poisoned page");
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(0), "pread leaves f_pos");
        Assert.That(s.P.Pread64(fd, s.U, 10, 4096 + 5), Is.EqualTo(-Errno.EIO));
        Assert.That(s.P.Pread64(fd, s.U, 10, 2 * 4096), Is.EqualTo(10), "pages after it read normally");
    }

    [TestCase("5.16")]
    [TestCase("4.17")]
    public void Truncated_BeforeFiveSeventeen_ThePageReadsBackAsZeros(string kernel)
    {
        var s = new TmpFsScenario(kernel);
        var fd = s.CreateWritten(TmpFsScenario.Bytes(Len, 4));
        Assert.That(s.Poison(1), Is.EqualTo(0));
        Assert.That(s.Fs.Files["f"].Mapping!.Find(1), Is.Null, "generic_error_remove_page truncated the folio");
        Assert.That(s.P.Pread64(fd, s.U, Len, 0), Is.EqualTo(Len), "no error: silent data loss");
        var back = new byte[Len];
        s.P.Load(s.U, back);
        Assert.That(back[..4096], Is.EqualTo(TmpFsScenario.Bytes(4096, 4)));
        Assert.That(back[4096..8192].All(b => b == 0), Is.True, "the poisoned page's data became a hole");
        Assert.That(back[8192..], Is.EqualTo(TmpFsScenario.Bytes(Len, 4)[8192..]));
    }

    [TestCase("5.17", true)]
    [TestCase("6.12", true)]
    [TestCase("5.16", false)]
    public void WriteOverThePage_EIOWhenKept_ElseAFreshPage(string kernel, bool kept)
    {
        var s = new TmpFsScenario(kernel);
        var fd = s.CreateWritten(TmpFsScenario.Bytes(Len, 4));
        s.Poison(1);
        s.P.Store(s.U, TmpFsScenario.Bytes(200, 99));
        // A write that starts before the page: the bytes before it, then write_begin's −EIO stops the loop.
        Assert.That(s.P.Pwrite64(fd, s.U, 200, 4096 - 100), Is.EqualTo(kept ? 100 : 200));
        Assert.That(s.P.Pwrite64(fd, s.U, 10, 4096 + 8), Is.EqualTo(kept ? -Errno.EIO : 10));
        if (!kept) Assert.That(s.M.Phys.Frame(s.PfnOf(1)).IsHwPoison, Is.False, "a new page replaced the truncated one");
    }

    [TestCase("6.12", Sig.BUS_MCEERR_AR)]
    [TestCase("5.17", Sig.BUS_MCEERR_AR)]
    [TestCase("5.16", 0)]
    public void FaultOnThePage_SigbusMceerrArAtTheAddress_WhenKept(string kernel, int code)
    {
        var s = new TmpFsScenario(kernel);
        var fd = s.CreateWritten(TmpFsScenario.Bytes(Len, 4));
        s.Poison(1);
        var a = (ulong)s.P.Mmap(0, Len, Mman.PROT_READ, Mman.MAP_SHARED, fd, 0);
        var one = new byte[1];
        var r = s.P.Load(new UserPtr(a + 4096 + 0x123), one);
        if (code == 0)
        {
            Assert.That(r.Signal, Is.Null, "before 5.17 the fault allocates a new zero page: no signal");
            Assert.That(one[0], Is.EqualTo(0));
            return;
        }
        Assert.That(r.Signal, Is.Not.Null);
        var sig = r.Signal!.Value;
        Assert.That((sig.Signo, sig.Code, sig.Addr, sig.AddrLsb), Is.EqualTo((Sig.SIGBUS, code, a + 4096 + 0x123, (short)12)));
        Assert.That(s.P.Alive, Is.False, "SIGBUS with the default disposition kills");
    }

    [TestCase("6.12")]
    public void TruncateOrPunch_RemovesThePoisonedFolio_ThenTheRangeReadsZeros(string kernel)
    {
        var s = new TmpFsScenario(kernel);
        var fd = s.CreateWritten(TmpFsScenario.Bytes(Len, 4));
        s.Poison(1);
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, 4096, 4096), Is.EqualTo(0));
        Assert.That(s.Fs.Files["f"].Mapping!.Find(1), Is.Null);
        Assert.That(s.P.Pread64(fd, s.U, Len, 0), Is.EqualTo(Len));
        Assert.That(s.P.Pwrite64(fd, s.U, 10, 4096), Is.EqualTo(10), "a write allocates a new page");

        var s2 = new TmpFsScenario(kernel);
        var fd2 = s2.CreateWritten(TmpFsScenario.Bytes(Len, 4));
        s2.Poison(2);
        Assert.That(s2.P.Pread64(fd2, s2.U, 10, 2 * 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s2.P.Ftruncate(fd2, 2 * 4096), Is.EqualTo(0));
        Assert.That(s2.P.Ftruncate(fd2, Len), Is.EqualTo(0));
        Assert.That(s2.P.Pread64(fd2, s2.U, 10, 2 * 4096), Is.EqualTo(10));
        Assert.That(s2.Fs.ReadData("f")[(2 * 4096)..].All(b => b == 0), Is.True);
    }

    [Test]
    public void MappedDirtyPage_PoisonedWhileMapped_KillsTheMapper_LaterFaultsSigbusToo()
    {
        var s = new TmpFsScenario("6.12");
        var fd = s.CreateWritten(TmpFsScenario.Bytes(Len, 4));
        var a = (ulong)s.P.Mmap(0, Len, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.Store(new UserPtr(a + 4096), [1]).Done, Is.EqualTo(1UL));
        s.M.MemoryFailure.EarlyKill = true;
        s.Poison(1);
        Assert.That(s.P.SignalsReceived.Select(x => (x.Signo, x.Code, x.Addr)), Is.EqualTo(new[] { (Sig.SIGBUS, Sig.BUS_MCEERR_AO, a + 4096) }));
        var q = s.M.Spawn("second");
        var fd2 = (int)q.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);
        var b = (ulong)q.Mmap(0, Len, Mman.PROT_READ, Mman.MAP_SHARED, fd2, 0);
        var r = q.Load(new UserPtr(b + 4096 + 8), new byte[1]);
        Assert.That((r.Signal!.Value.Code, r.Signal.Value.Addr), Is.EqualTo((Sig.BUS_MCEERR_AR, b + 4096 + 8)), "a new mapping finds the kept folio");
    }
}
