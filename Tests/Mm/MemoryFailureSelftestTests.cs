using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.FsDax;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>
/// tools/testing/selftests/mm/memory-failure.c, case by case: MADV_HWPOISON ("madv_hard") and MADV_SOFT_OFFLINE
/// ("madv_soft") on an anonymous page, a clean page-cache page (written, then fsynced) and a dirty one, checked through
/// /proc/self/pagemap, /proc/kpageflags and /proc/meminfo, then unpoisoned through debugfs. The page cache is a daxfs
/// dax=never file on /dev/pmem0 (ext4-like: it writes back and has -&gt;error_remove_folio).
/// </summary>
public class MemoryFailureSelftestTests
{
    private const ulong Ps = PageDefs.PAGE_SIZE;

    private sealed class Fixture
    {
        public Fixture(string kernel, bool pagecache)
        {
            if (pagecache)
            {
                S = new DaxScenario(kernel, DaxMode.Never);
                M = S.M;
            }
            else
            {
                M = Sim.Boot(kernel);
            }
            P = M.Spawn("memory-failure");
            P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
            U = new MfUser(P);
        }

        public DaxScenario? S;
        public Machine M;
        public Process P;
        public MfUser U;
        public int Fd = -1;

        public UserPtr Anon()
        {
            var a = P.MapAnonymous(Ps);
            Assert.That(P.Fill(a, Ps, _ => 0xce).Done, Is.EqualTo(Ps));
            return a;
        }

        /// <summary>prepare_file + mmap(MAP_SHARED) + memset(0xce), fsync when <paramref name="clean"/>.</summary>
        public UserPtr File(bool clean)
        {
            Fd = (int)P.Open(S!.Path(clean ? "clean-page-cache-test-file" : "dirty-page-cache-test-file"), Fcntl.O_RDWR | Fcntl.O_CREAT);
            Assert.That(Fd, Is.GreaterThanOrEqualTo(0));
            Assert.That(P.Ftruncate(Fd, (long)Ps), Is.Zero);
            var r = P.Mmap(0, Ps, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, Fd, 0);
            Assert.That(r, Is.GreaterThan(0));
            var a = new UserPtr((ulong)r);
            Assert.That(P.Fill(a, Ps, _ => 0xce).Done, Is.EqualTo(Ps));
            if (clean) Assert.That(P.Fsync(Fd), Is.Zero);
            return a;
        }

        public bool ContentIntact(UserPtr a)
        {
            var b = new byte[Ps];
            return P.Load(a, b).Completed(Ps) && b.All(x => x == 0xce);
        }
    }

    private static void CheckHard(Fixture f, UserPtr a, ulong pfn, ulong hc0)
    {
        // MADV_HARD_ANON / MADV_HARD_DIRTY_PAGECACHE on 6.11+: SIGBUS BUS_MCEERR_AR inside madvise, at the page, lsb 12.
        Assert.That(f.P.SignalsReceived, Has.Count.EqualTo(1));
        var s = f.P.SignalsReceived[0];
        Assert.Multiple(() =>
        {
            Assert.That((s.Signo, s.Code, s.Addr, s.AddrLsb), Is.EqualTo((Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value, (short)12)));
            Assert.That(MfUser.IsSwapped(f.U.Pagemap(a)), Is.True, "the PTE is a hwpoison (swap) entry");
            Assert.That(f.U.HardwareCorruptedKb(), Is.EqualTo(hc0 + 4));
            Assert.That(MfUser.HasHwpoison(f.U.Kpageflags(pfn)), Is.True);
        });
    }

    private static void CheckSoft(Fixture f, UserPtr a, ulong pfn, ulong hc0)
    {
        Assert.Multiple(() =>
        {
            Assert.That(f.P.SignalsReceived, Is.Empty, "no SIGBUS");
            Assert.That(f.ContentIntact(a), Is.True, "the content is unchanged");
            Assert.That(f.U.Pfn(a), Is.Not.EqualTo(pfn).And.Not.EqualTo(ulong.MaxValue), "the backing pfn changed");
            Assert.That(f.U.HardwareCorruptedKb(), Is.EqualTo(hc0 + 4));
            Assert.That(MfUser.HasHwpoison(f.U.Kpageflags(pfn)), Is.True);
        });
    }

    private static void Cleanup(Fixture f, ulong pfn, ulong hc0)
    {
        Assert.That(f.U.Unpoison(pfn), Is.GreaterThan(0), "unpoison-pfn accepted the write");
        Assert.Multiple(() =>
        {
            Assert.That(MfUser.HasHwpoison(f.U.Kpageflags(pfn)), Is.False);
            Assert.That(f.U.HardwareCorruptedKb(), Is.EqualTo(hc0));
            Assert.That(f.M.State.Dmesg, Has.Some.EqualTo($"Memory failure: 0x{pfn:x}: software-unpoisoned page"));
        });
    }

    [Test]
    public void Anon_MadvHard_SigbusInsideMadvise_ThenUnpoison()
    {
        var f = new Fixture("6.12", pagecache: false);
        var a = f.Anon();
        var pfn = f.U.Pfn(a);
        var hc0 = f.U.HardwareCorruptedKb();
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        CheckHard(f, a, pfn, hc0);
        Assert.That(f.M.State.Dmesg, Has.Some.EqualTo($"Memory failure: 0x{pfn:x}: recovery action for dirty LRU page: Recovered"));
        Cleanup(f, pfn, hc0);
    }

    [Test]
    public void Anon_MadvSoft_Migrates_NoSignal_ThenUnpoison()
    {
        var f = new Fixture("6.12", pagecache: false);
        var a = f.Anon();
        var pfn = f.U.Pfn(a);
        var hc0 = f.U.HardwareCorruptedKb();
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_SOFT_OFFLINE), Is.Zero);
        CheckSoft(f, a, pfn, hc0);
        Assert.That(f.M.State.Dmesg, Has.Some.EqualTo($"Soft offlining pfn 0x{pfn:x} at process virtual address 0x{a.Value:x}"));
        Cleanup(f, pfn, hc0);
    }

    [Test]
    public void CleanPagecache_MadvHard_DroppedWithoutSignal_ReReadFromTheFile()
    {
        var f = new Fixture("6.12", pagecache: true);
        var a = f.File(clean: true);
        var pfn = f.U.Pfn(a);
        var hc0 = f.U.HardwareCorruptedKb();
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        Assert.Multiple(() =>
        {
            Assert.That(f.M.State.Dmesg, Has.Some.EqualTo($"Memory failure: 0x{pfn:x}: corrupted page was clean: dropped without side effects"));
            Assert.That(f.M.State.Dmesg, Has.Some.EqualTo($"Memory failure: 0x{pfn:x}: recovery action for clean LRU page: Recovered"));
            Assert.That(f.U.Pagemap(a) & (1UL << 63), Is.Zero, "unmapped, not a hwpoison entry");
        });
        // FORCE_READ: the fault reads the block again into a new page.
        CheckSoft(f, a, pfn, hc0);
        Assert.That(f.P.Fsync(f.Fd), Is.Zero, "a clean page leaves no write-back error");
        Cleanup(f, pfn, hc0);
    }

    [Test]
    public void CleanPagecache_MadvSoft_Migrates()
    {
        var f = new Fixture("6.12", pagecache: true);
        var a = f.File(clean: true);
        var pfn = f.U.Pfn(a);
        var hc0 = f.U.HardwareCorruptedKb();
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_SOFT_OFFLINE), Is.Zero);
        CheckSoft(f, a, pfn, hc0);
        Cleanup(f, pfn, hc0);
    }

    [Test]
    public void DirtyPagecache_MadvHard_Sigbus_AndEveryOpenFileSeesEioOnce()
    {
        var f = new Fixture("6.12", pagecache: true);
        var a = f.File(clean: false);
        var other = (int)f.P.Open(f.S!.Path("dirty-page-cache-test-file"), Fcntl.O_RDONLY);
        var pfn = f.U.Pfn(a);
        var hc0 = f.U.HardwareCorruptedKb();
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        CheckHard(f, a, pfn, hc0);
        Assert.Multiple(() =>
        {
            Assert.That(f.M.State.Dmesg, Has.Some.EqualTo($"Memory failure: 0x{pfn:x}: recovery action for dirty LRU page: Recovered"));
            Assert.That(f.P.Fsync(f.Fd), Is.EqualTo(-Errno.EIO), "mapping_set_error: the first fsync reports the lost page");
            Assert.That(f.P.Fsync(f.Fd), Is.Zero, "once per file");
            Assert.That(f.P.Fsync(other), Is.EqualTo(-Errno.EIO), "the other open file is told too");
            Assert.That(f.P.Fsync(other), Is.Zero);
        });
        var late = (int)f.P.Open(f.S!.Path("dirty-page-cache-test-file"), Fcntl.O_RDONLY);
        Assert.That(f.P.Fsync(late), Is.Zero, "a file opened after the error was seen is not told");
        Cleanup(f, pfn, hc0);
    }

    [Test]
    public void DirtyPagecache_MadvSoft_Migrates_DirtyStaysForWriteback()
    {
        var f = new Fixture("6.12", pagecache: true);
        var a = f.File(clean: false);
        var pfn = f.U.Pfn(a);
        var hc0 = f.U.HardwareCorruptedKb();
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_SOFT_OFFLINE), Is.Zero);
        CheckSoft(f, a, pfn, hc0);
        Assert.That(f.P.Fsync(f.Fd), Is.Zero, "migration loses nothing: the dirty data is written back");
        Cleanup(f, pfn, hc0);
    }

    [Test]
    public void Fsync_CleansPteDirtyBits_SoAJustFsyncedPageCountsAsClean()
    {
        var f = new Fixture("6.12", pagecache: true);
        var a = f.File(clean: true);
        // Store again after fsync: the write-protected PTE faults, the folio is dirty again, and poison now kills.
        Assert.That(f.P.Store(a, [0xce]).Completed(1), Is.True);
        var pfn = f.U.Pfn(a);
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(f.P.SignalsReceived.Single().Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
        Assert.That(f.M.State.Dmesg, Has.Some.EqualTo($"Memory failure: 0x{pfn:x}: recovery action for dirty LRU page: Recovered"));
    }

    [Test]
    public void Unpoison_RefusesAMappedPage_AndAnUnpoisonedOne()
    {
        var f = new Fixture("6.12", pagecache: false);
        var a = f.Anon();
        var pfn = f.U.Pfn(a);
        Assert.Multiple(() =>
        {
            Assert.That(f.U.Unpoison(pfn), Is.EqualTo(-Errno.EBUSY), "not HWPoison");
            Assert.That(f.M.State.Dmesg, Has.Some.EqualTo($"Memory failure: 0x{pfn:x}: page was already unpoisoned"));
            Assert.That(f.P.WriteText("/sys/kernel/debug/hwpoison/unpoison-pfn", "zz"), Is.EqualTo(-Errno.EINVAL));
            Assert.That(f.P.WriteText("/sys/kernel/debug/hwpoison/corrupt-pfn", $"0x{pfn:x}\n"), Is.EqualTo(pfn.ToString("x").Length + 3));
            Assert.That(f.U.Unpoison(pfn), Is.Zero.Or.GreaterThan(0));
        });
    }

    [Test]
    public void Unpoison_IsDisabledAfterARealHardwareFailure_From519()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("t");
        var u = new MfUser(p);
        var pfn = (ulong)m.Phys.AllocPage();
        m.Run(() => m.MemoryFailure.Run(pfn, MfFlags.None)); // a machine check's memory_failure: no MF_SW_SIMULATED
        Assert.That(u.Unpoison(pfn), Is.EqualTo(-Errno.EOPNOTSUPP));
        var old = Sim.Boot("5.18");
        var po = old.Spawn("t");
        var pfn2 = (ulong)old.Phys.AllocPage();
        old.Run(() => old.MemoryFailure.Run(pfn2, MfFlags.None));
        Assert.That(new MfUser(po).Unpoison(pfn2), Is.GreaterThan(0), "5.18: no hw_memory_failure latch");
    }

    [Test]
    public void SoftOffline_SysctlOff_Eopnotsupp_On_Works([Values("6.11", "6.12")] string kernel)
    {
        var f = new Fixture(kernel, pagecache: false);
        var a = f.Anon();
        Assert.That(f.U.Sysctl("enable_soft_offline", "0\n"), Is.EqualTo(2));
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_SOFT_OFFLINE), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(f.M.State.Dmesg.Count(l => l == "Memory failure: disabled by /proc/sys/vm/enable_soft_offline"), Is.EqualTo(1));
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_SOFT_OFFLINE), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(f.M.State.Dmesg.Count(l => l == "Memory failure: disabled by /proc/sys/vm/enable_soft_offline"), Is.EqualTo(1), "pr_info_once");
        Assert.That(f.U.Sysctl("enable_soft_offline", "1"), Is.EqualTo(1));
        var pfn = f.U.Pfn(a);
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_SOFT_OFFLINE), Is.Zero);
        Assert.That(f.U.Pfn(a), Is.Not.EqualTo(pfn));
    }

    [Test]
    public void SoftOffline_Before611_HasNoSysctl_AndAlwaysRuns()
    {
        var f = new Fixture("6.10", pagecache: false);
        var a = f.Anon();
        Assert.That(f.P.Open("/proc/sys/vm/enable_soft_offline", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_SOFT_OFFLINE), Is.Zero);
    }

    [Test]
    public void MadvSoftOffline_NeedsCapSysAdmin()
    {
        var f = new Fixture("6.12", pagecache: false);
        var a = f.Anon();
        f.P.CapSysAdmin = false;
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_SOFT_OFFLINE), Is.EqualTo(-Errno.EPERM));
        Assert.That(f.P.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.EqualTo(-Errno.EPERM));
    }
}
