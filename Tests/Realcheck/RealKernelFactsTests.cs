using System.Buffers.Binary;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Tests.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Realcheck;

/// <summary>
/// What Debian 6.1.0-57 (6.1.192) and 6.12.118 answered under QEMU TCG, checked 2025-12-05 with tools/realcheck
/// (docs/crosscheck.md "Facts checked on real kernels", captures in tools/realcheck/results), pinned on the simulator's
/// 6.1 and 6.12 profiles.
/// </summary>
public class RealKernelFactsTests
{
    private const ulong Ps = PageDefs.PAGE_SIZE;

    private static Machine Boot(string kernel) => new MachineBuilder().WithKernel(kernel).AddTmpFs().Build();

    private static string TmpPath(Machine m, string name) => ((KernelSim.Fs.TmpFs)m.Vfs.Mounts.Single(f => f is KernelSim.Fs.TmpFs)).PathOf(name);

    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Memfd_NamesFlagsAndSeals(string kernel)
    {
        var six12 = kernel == "6.12";
        var p = Boot(kernel).Spawn("probe");
        Assert.That(p.MemfdCreate(new string('a', 249), 0), Is.GreaterThanOrEqualTo(0));
        Assert.That(p.MemfdCreate(new string('a', 250), 0), Is.EqualTo(-Errno.EINVAL));
        foreach (var f in new uint[] { 0x20, 0x40, 0x80000000, 26u << 26 }) Assert.That(p.MemfdCreate("x", f), Is.EqualTo(-Errno.EINVAL), $"{f:x}");
        Assert.That(p.MemfdCreate("x", Memfd.MFD_EXEC | Memfd.MFD_NOEXEC_SEAL), Is.EqualTo(-Errno.EINVAL));
        var e = p.MemfdCreate("x", Memfd.MFD_EXEC);
        var ne = p.MemfdCreate("x", Memfd.MFD_NOEXEC_SEAL);
        if (!six12)
        {
            Assert.That(e, Is.EqualTo(-Errno.EINVAL));
            Assert.That(ne, Is.EqualTo(-Errno.EINVAL));
        }
        else
        {
            Assert.That(p.DoFcntl((int)e, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_SEAL));
            Assert.That(p.DoFcntl((int)ne, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_EXEC));
            Assert.That(((ShmemInode)p.FileAt((int)ne)!.Inode).Mode & 0xfff, Is.EqualTo(0x1b6)); // 0666
        }
        var plain = (int)p.MemfdCreate("x", 0);
        Assert.That(p.DoFcntl(plain, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_SEAL));
        Assert.That(p.DoFcntl(plain, Memfd.F_ADD_SEALS, Memfd.F_SEAL_WRITE), Is.EqualTo(-Errno.EPERM));
        var s = (int)p.MemfdCreate("x", Memfd.MFD_ALLOW_SEALING);
        Assert.That(p.DoFcntl(s, Memfd.F_GET_SEALS), Is.Zero);
        Assert.That(p.DoFcntl(s, Memfd.F_ADD_SEALS, 0x40), Is.EqualTo(-Errno.EINVAL));
        var x = (int)p.MemfdCreate("x", Memfd.MFD_ALLOW_SEALING);
        Assert.That(p.DoFcntl(x, Memfd.F_ADD_SEALS, Memfd.F_SEAL_EXEC), Is.EqualTo(six12 ? 0 : -Errno.EINVAL));
        Assert.That(p.DoFcntl(x, Memfd.F_GET_SEALS), Is.EqualTo(six12 ? 0x3e : 0), "6.12: SEAL_EXEC on a 0777 file adds SHRINK|GROW|WRITE|FUTURE_WRITE");
        Assert.That(p.Ftruncate(s, 2 * (long)Ps), Is.Zero);
        var a = p.Mmap(0, Ps, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, s, 0);
        Assert.That(p.DoFcntl(s, Memfd.F_ADD_SEALS, Memfd.F_SEAL_WRITE), Is.EqualTo(-Errno.EBUSY));
        Assert.That(p.Munmap((ulong)a, Ps), Is.Zero);
        Assert.That(p.DoFcntl(s, Memfd.F_ADD_SEALS, Memfd.F_SEAL_WRITE), Is.Zero);
        Assert.That(p.Mmap(0, Ps, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, s, 0), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.Mmap(0, Ps, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE, s, 0), Is.GreaterThan(0));
        Assert.That(p.DoFcntl(s, Memfd.F_ADD_SEALS, Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW), Is.Zero);
        Assert.That(p.Ftruncate(s, (long)Ps), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.Ftruncate(s, 3 * (long)Ps), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.Ftruncate(s, 2 * (long)Ps), Is.Zero);
        Assert.That(p.Fallocate(s, 0, 0, 4 * (long)Ps), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.Fallocate(s, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, 0, (long)Ps), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.DoFcntl(s, Memfd.F_ADD_SEALS, Memfd.F_SEAL_SEAL), Is.Zero);
        Assert.That(p.DoFcntl(s, Memfd.F_ADD_SEALS, Memfd.F_SEAL_GROW), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.DoFcntl(s, Memfd.F_ADD_SEALS, 0), Is.EqualTo(-Errno.EPERM));
        Assert.That(p.DoFcntl(s, Memfd.F_GET_SEALS), Is.EqualTo(15));
        var t = (int)p.Open(TmpPath(p.Machine, "sealfile"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.DoFcntl(t, Memfd.F_GET_SEALS), Is.EqualTo(Memfd.F_SEAL_SEAL), "a tmpfs file");
        Assert.That(p.DoFcntl(t, Memfd.F_ADD_SEALS, Memfd.F_SEAL_GROW), Is.EqualTo(-Errno.EPERM));
    }

    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Wait4_SigbusKill_CoreBitFromRlimitCore(string kernel)
    {
        var m = Boot(kernel);
        var parent = m.Spawn("parent");
        foreach (var (core, status) in new[] { (0UL, 0x7), (4095UL, 0x7), (4096UL, 0x87), (ulong.MaxValue, 0x87) })
        {
            parent.RlimitCore = core;
            Assert.That(parent.Fork(out var child), Is.GreaterThan(0));
            var fd = (int)child!.Open(TmpPath(m, "short"), Fcntl.O_RDWR | Fcntl.O_CREAT);
            Assert.That(child.Ftruncate(fd, 10), Is.Zero);
            var a = child.Mmap(0, 2 * Ps, Mman.PROT_READ, Mman.MAP_SHARED, fd, 0);
            child.LoadByte(new UserPtr((ulong)a + Ps), out _);
            Assert.That(parent.Wait4(child.Pid, out var st), Is.EqualTo(child.Pid));
            Assert.That(st, Is.EqualTo(status), $"RLIMIT_CORE {core}");
        }
        Assert.That(parent.Fork(out var c2), Is.GreaterThan(0));
        c2!.Exit(300);
        Assert.That(parent.Wait4(c2.Pid, out var s2), Is.EqualTo(c2.Pid));
        Assert.That(s2, Is.EqualTo(0x2c00));
        Assert.That(parent.Wait4(-1, out _), Is.EqualTo(-Errno.ECHILD));
        Assert.That(parent.Wait4(-1, out _, 0x1000), Is.EqualTo(-Errno.EINVAL));
    }

    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Mremap_Errnos_AndDontunmapOnEveryMappingType(string kernel)
    {
        var m = Boot(kernel);
        var p = m.Spawn("probe");
        var fd = (int)p.Open(TmpPath(m, "mr"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Ftruncate(fd, 8 * (long)Ps), Is.Zero);
        const int rw = Mman.PROT_READ | Mman.PROT_WRITE;
        const int moveKeep = Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP;
        var f = (ulong)p.Mmap(0, 2 * Ps, rw, Mman.MAP_SHARED, fd, 0);
        Assert.That(p.Mremap(f, 2 * Ps, 2 * Ps, moveKeep), Is.GreaterThan(0), "shared file");
        var pf = (ulong)p.Mmap(0, 2 * Ps, rw, Mman.MAP_PRIVATE, fd, 0);
        Assert.That(p.Mremap(pf, 2 * Ps, 2 * Ps, moveKeep), Is.GreaterThan(0), "private file");
        var sa = p.MapAnonymous(2 * Ps, rw, shared: true).Value;
        Assert.That(p.Mremap(sa, 2 * Ps, 2 * Ps, moveKeep), Is.GreaterThan(0), "shared anonymous");
        var a = p.MapAnonymous(4 * Ps).Value;
        Assert.That(p.Mremap(a, 2 * Ps, 2 * Ps, moveKeep), Is.GreaterThan(0), "private anonymous");
        var b = p.MapAnonymous(4 * Ps).Value;
        Assert.That(p.Mremap(b, 2 * Ps, 3 * Ps, moveKeep), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Mremap(b, 2 * Ps, 2 * Ps, Mman.MREMAP_DONTUNMAP), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Mremap(b + 1, Ps, Ps, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Mremap(b, 0, Ps, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Mremap(b, Ps, 0, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Mremap(b, Ps, Ps, 8), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Mremap(b, Ps, Ps, Mman.MREMAP_FIXED, b + 2 * Ps), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Mremap(b, 2 * Ps, 2 * Ps, Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE, b + Ps), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Mremap(b, 2 * Ps, 2 * Ps, Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE, b + 2 * Ps + 1), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Mremap(0x600000000000, Ps, Ps, 0), Is.EqualTo(-Errno.EFAULT));
        var c = p.MapAnonymous(2 * Ps).Value;
        Assert.That(p.Mmap(c + 2 * Ps, Ps, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED), Is.EqualTo((long)(c + 2 * Ps)));
        Assert.That(p.Mremap(c, 2 * Ps, 3 * Ps, 0), Is.EqualTo(-Errno.ENOMEM));
        Assert.That(p.Mremap(c, 3 * Ps, 3 * Ps, 0), Is.EqualTo((long)c), "old_len >= new_len returns at once, across two VMAs");
        Assert.That(p.Mremap(b, Ps, Ps, Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE, b), Is.EqualTo(-Errno.EINVAL));
    }

    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Comm_CutTo15_AndProcCommWrite(string kernel)
    {
        var p = Boot(kernel).Spawn("probe");
        var buf = p.MapAnonymous(Ps);
        Assert.That(p.Store(buf, System.Text.Encoding.ASCII.GetBytes("abcdefghijklmnopqrstuvwxyz\0")).Done, Is.EqualTo(27UL));
        Assert.That(p.Prctl(Mman.PR_SET_NAME, buf.Value), Is.Zero);
        Assert.That(p.ReadText("/proc/self/comm", out var comm), Is.Zero);
        Assert.That(comm, Is.EqualTo("abcdefghijklmno\n"));
        Assert.That(p.ReadText("/proc/self/status", out var status), Is.Zero);
        Assert.That(status, Does.StartWith("Name:\tabcdefghijklmno\n"));
        Assert.That(p.WriteText("/proc/self/comm", "0123456789abcdefXYZ"), Is.EqualTo(19));
        Assert.That(p.ReadText("/proc/self/comm", out comm), Is.Zero);
        Assert.That(comm, Is.EqualTo("0123456789abcde\n"));
    }

    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Hwpoison_Anonymous_PagemapSwapTypeAndUnpoison(string kernel)
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn("probe");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var u = new MfUser(p);
        var a = p.MapAnonymous(2 * Ps);
        p.Fill(a, 2 * Ps, _ => (byte)'a');
        var pfn = u.Pfn(a);
        var hc = u.HardwareCorruptedKb();
        Assert.That(p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        if (kernel == "6.12") Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value, 12, true)));
        else Assert.That(p.SignalsReceived, Is.Empty);
        Assert.That(u.HardwareCorruptedKb() - hc, Is.EqualTo(4UL));
        Assert.That(MfUser.HasHwpoison(u.Kpageflags(pfn)), Is.True);
        var e = u.Pagemap(a);
        Assert.That(e >> 62, Is.EqualTo(1UL), "swapped, not present");
        if (kernel == "6.12") Assert.That(e & 31, Is.EqualTo(27UL), "swap type SWP_HWPOISON (6.1 shows 26: RealKernelDifferencesTests)");
        Assert.That((e >> 55) & 1, Is.EqualTo(1UL), "soft-dirty");
        p.LoadByte(a + 0x123, out _);
        Assert.That(p.SignalsReceived.Last(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value + 0x123, 12, true)));
        Assert.That(p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.EqualTo(-Errno.EFAULT), "GUP fails on the hwpoison entry");
        p.Exit(0);
        var root = m.Spawn("root");
        var r = new MfUser(root);
        Assert.That(r.Unpoison(pfn), Is.EqualTo(pfn.ToString(System.Globalization.CultureInfo.InvariantCulture).Length));
        Assert.That(MfUser.HasHwpoison(r.Kpageflags(pfn)), Is.False);
        Assert.That(r.Unpoison(pfn), Is.EqualTo(-Errno.EBUSY), "not poisoned any more");
        Assert.That(root.WriteText("/sys/kernel/debug/hwpoison/unpoison-pfn", "xyz"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(r.Unpoison(1UL << 40), Is.EqualTo(-Errno.EIO));
        Assert.That(root.WriteText("/sys/kernel/debug/hwpoison/corrupt-pfn", "1099511627776"), Is.EqualTo(-Errno.ENXIO));
    }

    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Hwpoison_Tmpfs_ReadWriteEio_FsyncZero_UnpoisonBusy(string kernel)
    {
        var m = Boot(kernel);
        var p = m.Spawn("probe");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var u = new MfUser(p);
        var fd = (int)p.Open(TmpPath(m, "hwp"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        var buf = p.MapAnonymous(3 * Ps);
        p.Fill(buf, 2 * Ps, _ => (byte)'w');
        Assert.That(p.Pwrite64(fd, buf, 2 * Ps, 0), Is.EqualTo((long)(2 * Ps)));
        var a = new UserPtr((ulong)p.Mmap(0, 2 * Ps, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0));
        p.LoadByte(a, out _);
        p.LoadByte(a + Ps, out _);
        var pfn = u.Pfn(a);
        Assert.That(p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        if (kernel == "6.12") Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value, 12, true)));
        else Assert.That(p.SignalsReceived, Is.Empty);
        var e = u.Pagemap(a);
        Assert.That(e >> 61, Is.EqualTo(3UL), "swapped and file/shared");
        p.LoadByte(a + 0x123, out _);
        Assert.That(p.SignalsReceived.Last(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value + 0x123, 12, true)));
        Assert.That(p.Pread64(fd, buf, 16, 0), Is.EqualTo(-Errno.EIO));
        Assert.That(p.Pread64(fd, buf, 3 * Ps, 0), Is.EqualTo(-Errno.EIO));
        Assert.That(p.Pread64(fd, buf, 16, (long)Ps), Is.EqualTo(16));
        Assert.That(p.Pwrite64(fd, buf, 2, 8), Is.EqualTo(-Errno.EIO));
        Assert.That(p.Fsync(fd), Is.Zero);
        Assert.That(p.Fsync(fd), Is.Zero);
        Assert.That(p.LoadByte(a + Ps, out var v).Completed(1) && v == 'w', Is.True);
        p.Exit(0);
        Assert.That(new MfUser(m.Spawn("root")).Unpoison(pfn), Is.EqualTo(-Errno.EBUSY), "still in the page cache");
    }

    [TestCase("6.1")]
    [TestCase("6.12")]
    public void Ioctl_Tmpfs_FibmapEinval_UnknownEnotty(string kernel)
    {
        var m = Boot(kernel);
        var p = m.Spawn("probe");
        var fd = (int)p.Open(TmpPath(m, "io"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        var buf = p.MapAnonymous(Ps);
        Assert.That(p.Ioctl(fd, FsIoctl.FIBMAP, buf.Value), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Ioctl(fd, Ioctl.IO('x', 0x7f), 0), Is.EqualTo(-Errno.ENOTTY));
    }
}
