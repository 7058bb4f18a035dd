using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>mmap/munmap/mprotect/madvise/prctl argument checks and effects (mm/mmap.c, mm/mprotect.c, mm/madvise.c, kernel/sys.c).</summary>
public class MmSyscallTests
{
    private const int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private const int Anon = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;

    [Test]
    public void Mmap_FirstAnonymousMapping_LandsBelowMmapBase()
    {
        var p = Sim.Boot().Spawn();
        Assert.That(p.Mmap(0, 4096, RW, Anon), Is.EqualTo(0x7ffff7ffe000L));
        Assert.That(p.Mmap(0, 8192, RW, Anon), Is.EqualTo(0x7ffff7ffc000L));
    }

    [TestCase(0x1000UL, 0UL, Anon, 0L, -Errno.EINVAL)]                    // len 0
    [TestCase(0x1000UL, 4096UL, Anon, 5L, -Errno.EINVAL)]                 // offset not page aligned
    [TestCase(0UL, ulong.MaxValue, Anon, 0L, -Errno.ENOMEM)]              // PAGE_ALIGN overflow
    [TestCase(0UL, 1UL << 48, Anon, 0L, -Errno.ENOMEM)]                   // len > TASK_SIZE
    [TestCase(0x10001UL, 4096UL, Anon | Mman.MAP_FIXED, 0L, -Errno.EINVAL)] // MAP_FIXED unaligned
    [TestCase(0x800000000000UL, 4096UL, Anon | Mman.MAP_FIXED, 0L, -Errno.ENOMEM)] // beyond TASK_SIZE
    [TestCase(0UL, 4096UL, Mman.MAP_ANONYMOUS, 0L, -Errno.EINVAL)]        // neither SHARED nor PRIVATE
    [TestCase(0UL, 4096UL, Mman.MAP_SHARED_VALIDATE | Mman.MAP_ANONYMOUS, 0L, -Errno.EINVAL)]
    [TestCase(0UL, 4096UL, Mman.MAP_PRIVATE, 0L, -Errno.EBADF)]           // file mapping without a file
    public void Mmap_BadArguments_Errno(ulong addr, ulong len, int flags, long off, int expected)
    {
        var p = Sim.Boot().Spawn();
        Assert.That(p.Mmap(addr, len, RW, flags, null, off), Is.EqualTo((long)expected));
    }

    [Test]
    public void Mmap_FixedNoreplaceOverExisting_Eexist()
    {
        var p = Sim.Boot().Spawn();
        var a = p.Mmap(0, 4096, RW, Anon);
        Assert.That(p.Mmap((ulong)a, 4096, RW, Anon | Mman.MAP_FIXED_NOREPLACE), Is.EqualTo((long)-Errno.EEXIST));
        Assert.That(p.Mmap((ulong)a, 4096, RW, Anon | Mman.MAP_FIXED), Is.EqualTo(a));
    }

    [Test]
    public void Munmap_ChecksAndHoles()
    {
        var p = Sim.Boot().Spawn();
        var a = (ulong)p.Mmap(0, 3 * 4096, RW, Anon);
        Assert.That(p.Munmap(a + 1, 4096), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Munmap(a, 0), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Munmap(ulong.MaxValue & PageDefs.PAGE_MASK, 4096), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Munmap(a + 4096, 4096), Is.Zero);
        Assert.That(p.Munmap(a + 4096, 4096), Is.Zero, "unmapping a hole is fine");
        Assert.That(p.Mm.Vmas, Has.Count.EqualTo(2));
        var r = p.LoadByte(new UserPtr(a + 4096 + 5), out _);
        Assert.That(p.State, Is.EqualTo(ProcessState.Killed));
        Assert.That(p.KilledBy, Is.EqualTo(new SigInfo(Sig.SIGSEGV, Sig.SEGV_MAPERR, a + 4096 + 5, 0, true)));
        Assert.That(r.Done, Is.Zero);
    }

    [Test]
    public void Mprotect_ReadOnlyStoreGivesAccerr_HoleGivesEnomemButEarlierPartChanged()
    {
        var m = Sim.Boot();
        var p = m.Spawn();
        var a = (ulong)p.Mmap(0, 3 * 4096, RW, Anon);
        p.Fill(new UserPtr(a), 3 * 4096, _ => 1);
        p.Munmap(a + 2 * 4096, 4096);
        Assert.That(p.Mprotect(a + 1, 4096, Mman.PROT_READ), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Mprotect(a, 0, 0x100), Is.Zero, "len 0 is checked before prot");
        Assert.That(p.Mprotect(a, 4096, 0x100), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Mprotect(a, 3 * 4096, Mman.PROT_READ), Is.EqualTo((long)-Errno.ENOMEM));
        p.SetSignalHandler(Sig.SIGSEGV, SignalDisposition.Catch);
        var s = p.Store(new UserPtr(a + 4096 + 7), [1, 2, 3]);
        Assert.That(s.Signal, Is.EqualTo(new SigInfo(Sig.SIGSEGV, Sig.SEGV_ACCERR, a + 4096 + 7, 0, true)));
        Assert.That(p.Mprotect(a, 4096, Mman.PROT_NONE), Is.Zero);
        var l = p.LoadByte(new UserPtr(a + 9), out _);
        Assert.That(l.Signal!.Value.Code, Is.EqualTo(Sig.SEGV_ACCERR));
        Assert.That(p.Mprotect(a, 4096, RW), Is.Zero);
        Assert.That(p.LoadByte(new UserPtr(a + 9), out var v).Completed(1), Is.True);
        Assert.That(v, Is.EqualTo(1), "PROT_NONE kept the page");
    }

    [Test]
    public void Madvise_Checks()
    {
        var p = Sim.Boot().Spawn();
        var a = (ulong)p.Mmap(0, 2 * 4096, RW, Anon);
        Assert.That(p.Madvise(a, 4096, 9999), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Madvise(a + 1, 4096, Mman.MADV_DONTNEED), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Madvise(a, 0, Mman.MADV_DONTNEED), Is.Zero);
        Assert.That(p.Madvise(a, 4 * 4096, Mman.MADV_DONTNEED), Is.EqualTo((long)-Errno.ENOMEM));
        p.CapSysAdmin = false;
        Assert.That(p.Madvise(a, 4096, Mman.MADV_HWPOISON), Is.EqualTo((long)-Errno.EPERM));
        Assert.That(p.Madvise(a + 1, 4096, Mman.MADV_HWPOISON), Is.EqualTo((long)-Errno.EINVAL), "range checks come first");
    }

    [Test]
    public void MadviseHwpoison_Since611_CallerGetsSigbusAr_Before611_NoSignalUntilTouch()
    {
        foreach (var (kernel, signalled) in new[] { ("6.12", true), ("6.6", false) })
        {
            var m = Sim.Boot(kernel);
            var p = m.Spawn();
            var a = p.MapAnonymous(2 * 4096);
            p.Fill(a, 2 * 4096, _ => 9);
            p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
            Assert.That(p.Madvise(a.Value + 4096, 4096, Mman.MADV_HWPOISON), Is.Zero, kernel);
            Assert.That(p.SignalsReceived.Count, Is.EqualTo(signalled ? 1 : 0), kernel);
            if (signalled) Assert.That(p.SignalsReceived[0], Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value + 4096, 12, true)));
            Assert.That(m.Phys.PoisonedLines(), Is.Empty, "madvise marks struct pages, it creates no media poison");
            Assert.That(p.Madvise(a.Value + 4096, 4096, Mman.MADV_HWPOISON), Is.EqualTo((long)-Errno.EFAULT), "GUP fails on the hwpoison entry");
            var t = p.LoadByte(a + 4100UL, out _);
            Assert.That(t.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value + 4100, 12, true)));
        }
    }

    [Test]
    public void Prctl_McekillArguments()
    {
        var p = Sim.Boot().Spawn();
        Assert.That(p.Prctl(Mman.PR_MCE_KILL_GET), Is.EqualTo((long)Mman.PR_MCE_KILL_DEFAULT));
        Assert.That(p.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_SET, Mman.PR_MCE_KILL_EARLY), Is.Zero);
        Assert.That(p.Prctl(Mman.PR_MCE_KILL_GET), Is.EqualTo((long)Mman.PR_MCE_KILL_EARLY));
        Assert.That(p.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_SET, 7), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_CLEAR, 1), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_SET, 0, 1), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Prctl(Mman.PR_MCE_KILL_GET, 1), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_SET, Mman.PR_MCE_KILL_LATE), Is.Zero);
        Assert.That(p.Prctl(Mman.PR_MCE_KILL_GET), Is.EqualTo((long)Mman.PR_MCE_KILL_LATE));
        Assert.That(p.Prctl(12345), Is.EqualTo((long)-Errno.EINVAL));
    }

    [Test]
    public void MemoryFailure_KernelPageIgnored_FreePageRecovered_OutsideRangeEnxio()
    {
        var m = Sim.Boot();
        var k = m.Kmalloc(4096)!.Value;
        var pfn = m.KernelMap.Pa(k)!.Value.Pfn;
        Assert.That(m.Run(() => m.MemoryFailure.Run(pfn, MfFlags.None)).Value, Is.EqualTo(-Errno.EBUSY));
        Assert.That(m.State.Dmesg, Has.Some.EndsWith("recovery action for reserved kernel page: Ignored"));
        var free = (ulong)m.Phys.AllocPage();
        m.Phys.FreePage(free);
        Assert.That(m.Run(() => m.MemoryFailure.Run(free, MfFlags.None)).Value, Is.Zero);
        Assert.That(m.Phys.AllocPage(), Is.Not.EqualTo((long)free), "a poisoned free page is never handed out again");
        Assert.That(m.Run(() => m.MemoryFailure.Run(1UL << 40, MfFlags.None)).Value, Is.EqualTo(-Errno.ENXIO));
        Assert.That(m.Run(() => m.MemoryFailure.Run(pfn, MfFlags.None)).Value, Is.EqualTo(-Errno.EHWPOISON));
    }

    [Test]
    public void MemoryFailureRecoveryOff_Panics()
    {
        var m = Sim.Boot();
        m.MemoryFailure.Recovery = false;
        var r = m.Run(() => m.MemoryFailure.Run(m.Dram.Start.Pfn + 5, MfFlags.None));
        Assert.That(r.Outcome, Does.StartWith("panic: Memory failure on page"));
    }
}
