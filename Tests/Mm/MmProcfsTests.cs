using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>The vm sysctls, /proc/meminfo, /proc/kpageflags and /proc/&lt;pid&gt;/pagemap as files; drop_caches; the panic option.</summary>
public class MmProcfsTests
{
    [Test]
    public void Sysctl_Formats_Ranges_AndPermissions()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("sysctl");
        Assert.Multiple(() =>
        {
            Assert.That(p.ReadText("/proc/sys/vm/memory_failure_early_kill", out var t), Is.Zero);
            Assert.That(t, Is.EqualTo("0\n"));
            Assert.That(p.ReadText("/proc/sys/vm/memory_failure_recovery", out t), Is.Zero);
            Assert.That(t, Is.EqualTo("1\n"));
            Assert.That(p.WriteText("/proc/sys/vm/memory_failure_early_kill", "2"), Is.EqualTo(-Errno.EINVAL), "above extra2");
            Assert.That(p.WriteText("/proc/sys/vm/memory_failure_early_kill", "-1"), Is.EqualTo(-Errno.EINVAL), "below extra1");
            Assert.That(p.WriteText("/proc/sys/vm/memory_failure_early_kill", "1x"), Is.EqualTo(-Errno.EINVAL));
            Assert.That(p.WriteText("/proc/sys/vm/memory_failure_early_kill", " \n"), Is.EqualTo(-Errno.EINVAL));
            Assert.That(p.WriteText("/proc/sys/vm/memory_failure_early_kill", " 1 \n"), Is.EqualTo(4));
            Assert.That(m.MemoryFailure.EarlyKill, Is.True);
            Assert.That(p.WriteText("/proc/sys/vm/memory_failure_early_kill", "0 7"), Is.EqualTo(2), "the second number is not consumed");
            Assert.That(m.MemoryFailure.EarlyKill, Is.False);
            Assert.That(p.Open("/proc/sys/vm/drop_caches", Fcntl.O_RDONLY), Is.EqualTo(-Errno.EACCES), "0200: even root cannot read");
            Assert.That(p.WriteText("/proc/sys/vm/drop_caches", "5"), Is.EqualTo(-Errno.EINVAL), "1..4");
        });
        p.CapSysAdmin = false;
        Assert.That(p.Open("/proc/sys/vm/memory_failure_recovery", Fcntl.O_WRONLY), Is.EqualTo(-Errno.EACCES));
        Assert.That(p.ReadText("/proc/sys/vm/memory_failure_recovery", out _), Is.Zero, "0644: others read");
        Assert.That(p.Open("/proc/kpageflags", Fcntl.O_RDONLY), Is.EqualTo(-Errno.EACCES), "0400");
        Assert.That(p.Open("/sys/kernel/debug/hwpoison/corrupt-pfn", Fcntl.O_WRONLY), Is.EqualTo(-Errno.EACCES));
    }

    [Test]
    public void Sysctl_WriteAtNonZeroPositionIsIgnored_Strict()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("t");
        var buf = p.MapAnonymous(PageDefs.PAGE_SIZE);
        p.Store(buf, "1"u8);
        var fd = (int)p.Open("/proc/sys/vm/memory_failure_early_kill", Fcntl.O_WRONLY);
        Assert.That(p.Pwrite64(fd, buf, 1, 1), Is.EqualTo(1));
        Assert.That(m.MemoryFailure.EarlyKill, Is.False);
        Assert.That(p.Pwrite64(fd, buf, 1, 0), Is.EqualTo(1));
        Assert.That(m.MemoryFailure.EarlyKill, Is.True);
    }

    [Test]
    public void Recovery0_Panics_OnTheNextMemoryFailure()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("t");
        var a = p.MapAnonymous(PageDefs.PAGE_SIZE);
        p.Fill(a, PageDefs.PAGE_SIZE, _ => 1);
        Assert.That(p.WriteText("/proc/sys/vm/memory_failure_recovery", "0"), Is.EqualTo(1));
        Assert.That(p.Madvise(a.Value, PageDefs.PAGE_SIZE, Mman.MADV_HWPOISON), Is.EqualTo(Machine.NoReturn));
        Assert.That(m.State.PanicMessage, Does.StartWith("Memory failure on page "));
    }

    [Test]
    public void PanicOnUnrecoverable_IsInNoModelledRelease()
    {
        var p = Sim.Boot("7.1").Spawn("t");
        Assert.That(p.Open("/proc/sys/vm/panic_on_unrecoverable_memory_failure", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void PanicOnUnrecoverable_WhatIf_KernelPagePanics_UserPageStillSigbus()
    {
        var m = new MachineBuilder().WithProfile(KernelProfile.ForVersion("7.1") with { PanicOnUnrecoverableMf = true }).Build();
        var p = m.Spawn("hwpoison-panic");
        Assert.That(new MfUser(p).Sysctl("panic_on_unrecoverable_memory_failure", "1"), Is.EqualTo(1));
        // panic_on_unrecoverable_user_page: a user anonymous page is recovered with SIGBUS, no panic.
        var a = p.MapAnonymous(PageDefs.PAGE_SIZE);
        p.Store(a, [1]);
        Assert.That(p.Madvise(a.Value, PageDefs.PAGE_SIZE, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(p.KilledBy?.Signo, Is.EqualTo(Sig.SIGBUS));
        Assert.That(m.State.Alive, Is.True);
        // A reserved kernel page through corrupt-pfn: MF_MSG_KERNEL / MF_IGNORED → panic.
        var k = m.Kmalloc(1)!.Value;
        var pfn = m.KernelMap.Pa(k)!.Value.Pfn;
        var root = m.Spawn("root");
        Assert.That(root.WriteText("/sys/kernel/debug/hwpoison/corrupt-pfn", pfn.ToString()), Is.EqualTo(Machine.NoReturn));
        Assert.That(m.State.PanicMessage, Is.EqualTo($"Memory failure: 0x{pfn:x}: unrecoverable page"));
        Assert.That(m.State.Dmesg, Has.Some.EqualTo($"Memory failure: 0x{pfn:x}: recovery action for reserved kernel page: Ignored"));
    }

    [Test]
    public void PanicOnUnrecoverable_Off_KernelPageIsIgnored()
    {
        var m = new MachineBuilder().WithProfile(KernelProfile.ForVersion("7.1") with { PanicOnUnrecoverableMf = true }).Build();
        var root = m.Spawn("root");
        var pfn = m.KernelMap.Pa(m.Kmalloc(1)!.Value)!.Value.Pfn;
        Assert.That(root.WriteText("/sys/kernel/debug/hwpoison/corrupt-pfn", pfn.ToString()), Is.EqualTo(-Errno.EBUSY));
        Assert.That(m.State.Alive, Is.True);
    }

    [Test]
    public void Meminfo_Kpageflags_Pagemap_Formats()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("t");
        var u = new MfUser(p);
        Assert.Multiple(() =>
        {
            Assert.That(u.Meminfo("MemTotal"), Is.EqualTo("MemTotal:         262144 kB"));
            Assert.That(u.Meminfo("HardwareCorrupted"), Is.EqualTo("HardwareCorrupted:     0 kB"));
            Assert.That(u.Meminfo("Hugepagesize"), Is.EqualTo("Hugepagesize:       2048 kB"));
            Assert.That(u.Meminfo("Hugetlb"), Is.EqualTo("Hugetlb:               0 kB"));
        });
        var a = p.MapAnonymous(PageDefs.PAGE_SIZE);
        p.Store(a, [1]);
        var e = u.Pagemap(a);
        var pfn = p.Mm.PfnAt(a.Value)!.Value;
        Assert.That(e, Is.EqualTo(pfn | 1UL << 63 | 1UL << 56 | 1UL << 55), "present, exclusive, soft-dirty, the pfn");
        var flags = u.Kpageflags(pfn);
        Assert.That(flags, Is.EqualTo(1UL << 11 | 1UL << 12 | 1UL << 14 | 1UL << 3), "MMAP, ANON, SWAPBACKED, UPTODATE");
        Assert.That(u.Kpageflags(0), Is.EqualTo(1UL << 20), "below DRAM: KPF_NOPAGE");
        var hole = u.Pagemap(new UserPtr(0x10000));
        Assert.That(hole, Is.Zero, "outside any VMA");
        p.CapSysAdmin = false;
        Assert.That(u.Pagemap(a), Is.EqualTo(1UL << 63 | 1UL << 56 | 1UL << 55), "no CAP_SYS_ADMIN: PFN hidden");
    }

    [Test]
    public void Pagemap_MisalignedRead_IsEinval()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("t");
        var buf = p.MapAnonymous(PageDefs.PAGE_SIZE);
        var fd = (int)p.Open("/proc/self/pagemap", Fcntl.O_RDONLY);
        Assert.That(p.Pread64(fd, buf, 8, 4), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Pread64(fd, buf, 7, 0), Is.EqualTo(-Errno.EINVAL));
        var kf = (int)p.Open("/proc/kpageflags", Fcntl.O_RDONLY);
        Assert.That(p.Pread64(kf, buf, 8, 3), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Pread64(kf, buf, 8, (long)m.Phys.DramPfns.End * 8), Is.Zero, "at max_pfn: end of file");
    }

    [Test]
    public void DropCaches_ThenABlockDeviceReadGoesToTheMedia()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(new PmemNamespaceSpec(16UL << 20)).Build();
        var pmem = m.Pmem();
        var p = m.Spawn("dd");
        var fd = (int)p.Open("/dev/" + pmem.Disk.Name, Fcntl.O_RDONLY);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        var buf = p.MapAnonymous(PageDefs.PAGE_SIZE);
        Assert.That(p.Pread64(fd, buf, 16, 0), Is.EqualTo(16));
        m.Phys.PokeBytes(new PhysAddr(pmem.BbRangeStart), [0x5a, 0x5a]);
        Assert.That(p.Pread64(fd, buf, 16, 0), Is.EqualTo(16));
        Assert.That(p.Peek(buf, 1)[0], Is.EqualTo((byte)0), "still the cached page");
        Assert.That(p.WriteText("/proc/sys/vm/drop_caches", "3\n"), Is.EqualTo(2));
        Assert.That(p.Pread64(fd, buf, 16, 0), Is.EqualTo(16));
        Assert.That(p.Peek(buf, 2), Is.EqualTo(new byte?[] { 0x5a, 0x5a }), "re-read from the media");
        Assert.That(m.State.Dmesg, Has.Some.EqualTo($"dd ({p.Pid}): drop_caches: 3"));
    }
}
