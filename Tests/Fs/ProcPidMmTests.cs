using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Fs;

/// <summary>/proc/&lt;pid&gt;/maps, smaps, status, comm and /sys/kernel/mm/transparent_hugepage as files (MM11–MM13).</summary>
public class ProcPidMmTests
{
    private const int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private const ulong Hint = 0x1_0000_0000;

    private static string Read(Process p, string path)
    {
        Assert.That(p.ReadText(path, out var text), Is.Zero, path);
        return text;
    }

    [Test]
    public void Maps_AnonymousPrivateAndShared()
    {
        var p = Sim.Boot("6.12").Spawn();
        Assert.That(p.Mmap(Hint, 2 * 4096, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED), Is.EqualTo((long)Hint));
        Assert.That(p.Mmap(Hint + 0x10000, 4096, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED), Is.EqualTo((long)Hint + 0x10000));
        var maps = Read(p, "/proc/self/maps");
        var lines = maps.Split('\n');
        Assert.That(lines[0], Is.EqualTo("100000000-100002000 rw-p 00000000 00:00 0 "));
        Assert.That(lines[1], Is.EqualTo("100010000-100011000 r--s 00000000 00:00 1" + new string(' ', 72 - 41) + " /dev/zero (deleted)"));
    }

    [Test]
    public void Smaps_CountsAndVmFlags_AfterFork()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn();
        var a = (ulong)p.Mmap(Hint, 4 * 4096, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        Assert.That(p.Store(new UserPtr(a), new byte[3 * 4096]).Done, Is.EqualTo(3UL * 4096));
        p.Fork(out var child);
        Assert.That(child!.Store(new UserPtr(a), [1]).Done, Is.EqualTo(1UL)); // page 0 is now private again
        var smaps = Read(p, "/proc/self/smaps");
        var expected =
            "100000000-100004000 rw-p 00000000 00:00 0 \n" +
            "Size:                 16 kB\n" +
            "KernelPageSize:        4 kB\n" +
            "MMUPageSize:           4 kB\n" +
            "Rss:                  12 kB\n" +
            "Pss:                   8 kB\n" +
            "Pss_Dirty:             8 kB\n" +
            "Shared_Clean:          0 kB\n" +
            "Shared_Dirty:          8 kB\n" +
            "Private_Clean:         0 kB\n" +
            "Private_Dirty:         4 kB\n" +
            "Referenced:           12 kB\n" +
            "Anonymous:            12 kB\n" +
            "KSM:                   0 kB\n" +
            "LazyFree:              0 kB\n" +
            "AnonHugePages:         0 kB\n" +
            "ShmemPmdMapped:        0 kB\n" +
            "FilePmdMapped:         0 kB\n" +
            "Shared_Hugetlb:        0 kB\n" +
            "Private_Hugetlb:       0 kB\n" +
            "Swap:                  0 kB\n" +
            "SwapPss:               0 kB\n" +
            "Locked:                0 kB\n" +
            "THPeligible:           0\n" +
            "VmFlags: rd wr mr mw me ac sd \n";
        Assert.That(smaps[..expected.Length], Is.EqualTo(expected), "the first VMA (the reader's scratch mapping follows)");
    }

    [TestCase("5.2", false, false, false, false)]
    [TestCase("5.3", true, false, false, false)]
    [TestCase("5.4", true, true, false, false)]
    [TestCase("5.19", true, true, false, false)]
    [TestCase("6.0", true, true, true, false)]
    [TestCase("6.5", true, true, true, false)]
    [TestCase("6.6", true, true, true, true)]
    public void Smaps_LinesPerRelease(string kernel, bool thpEligible, bool filePmd, bool pssDirty, bool ksm)
    {
        var p = Sim.Boot(kernel).Spawn();
        p.MapAnonymous(4096);
        var smaps = Read(p, "/proc/self/smaps");
        Assert.That(smaps.Contains("\nTHPeligible:    0\n", StringComparison.Ordinal), Is.EqualTo(thpEligible), "\"%d\" before 6.8");
        Assert.That(smaps.Contains("\nFilePmdMapped:", StringComparison.Ordinal), Is.EqualTo(filePmd));
        Assert.That(smaps.Contains("\nPss_Dirty:", StringComparison.Ordinal), Is.EqualTo(pssDirty));
        Assert.That(smaps.Contains("\nKSM:", StringComparison.Ordinal), Is.EqualTo(ksm));
    }

    [TestCase("6.7", "THPeligible:    0\n")]
    [TestCase("6.8", "THPeligible:           0\n")]
    public void Smaps_ThpEligibleFormat(string kernel, string line)
    {
        var p = Sim.Boot(kernel).Spawn();
        p.MapAnonymous(4096);
        Assert.That(Read(p, "/proc/self/smaps"), Does.Contain("\n" + line));
    }

    [Test]
    public void Smaps_SharedDaxMapping_HugepageFlag_AndNoRssForPmemPages()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(new KernelSim.Drivers.Pmem.PmemNamespaceSpec(64UL << 20)).AddDaxFs().Build();
        var fs = KernelSim.Fs.Dax.DaxFs.FormatAndMount(m, m.Pmem().Disk, new KernelSim.Fs.Dax.DaxFsOptions());
        var p = m.Spawn();
        var fd = (int)p.Open(fs.PathOf("d"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Fallocate(fd, 0, 0, 8192), Is.Zero);
        var a = (ulong)p.Mmap(Hint, 8192, RW, Mman.MAP_SHARED, fd, 0);
        Assert.That(p.Store(new UserPtr(a), [1]).Done, Is.EqualTo(1UL));
        var smaps = Read(p, "/proc/self/smaps");
        var ino = p.FileAt(fd)!.Inode.Ino;
        var header = $"100000000-100002000 rw-s 00000000 00:00 {ino} ";
        Assert.That(smaps, Does.StartWith(header + new string(' ', 72 - header.Length) + " " + fs.PathOf("d") + "\n"));
        Assert.That(smaps, Does.Contain("\nRss:                   0 kB\n"), "fsdax pages have no struct page to count (vm_normal_page)");
        Assert.That(smaps, Does.Contain("\nVmFlags: rd wr sh mr mw me ms sd hg \n"));
    }

    [Test]
    public void Smaps_ThpEligible_FollowsTheEnabledFile()
    {
        var p = Sim.Boot("6.12").Spawn();
        Assert.That(p.Mmap(0x1_0000_0000, 4 << 20, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED), Is.EqualTo(0x1_0000_0000L));
        Assert.That(Read(p, "/proc/self/smaps"), Does.Contain("THPeligible:           1\n"));
        Assert.That(p.WriteText("/sys/kernel/mm/transparent_hugepage/enabled", "madvise"), Is.EqualTo((long)"madvise".Length));
        Assert.That(Read(p, "/proc/self/smaps"), Does.Contain("THPeligible:           0\n"));
    }

    [Test]
    public void Status_NamePidsAndRss()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("reader");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var a = p.MapAnonymous(3 * 4096);
        Assert.That(p.Store(a, new byte[2 * 4096]).Done, Is.EqualTo(2UL * 4096));
        p.Fork(out var child);
        var status = Read(child!, $"/proc/{child!.Pid}/status");
        Assert.That(status, Does.StartWith($"Name:\treader\nState:\tR (running)\nTgid:\t{child.Pid}\nPid:\t{child.Pid}\nPPid:\t{p.Pid}\n"));
        Assert.That(status, Does.Contain("VmRSS:\t       8 kB\nRssAnon:\t       8 kB\nRssFile:\t       0 kB\nRssShmem:\t       0 kB\n"));
        Assert.That(status, Does.Contain("SigCgt:\t0000000000000040\n"), "SIGBUS (7) caught: bit 6");
        Assert.That(Read(child, $"/proc/{p.Pid}/status"), Does.Contain("State:\tS (sleeping)\n"));
    }

    [Test]
    public void Comm_ReadWrite_CutAndOtherProcessRefused()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("first");
        var q = m.Spawn("second");
        Assert.That(Read(p, "/proc/self/comm"), Is.EqualTo("first\n"));
        Assert.That(p.WriteText("/proc/self/comm", "renamed-with-a-long-name"), Is.EqualTo((long)"renamed-with-a-long-name".Length));
        Assert.That(p.Comm, Is.EqualTo("renamed-with-a-"));
        Assert.That(p.WriteText($"/proc/{q.Pid}/comm", "x"), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.WriteText("/proc/self/comm", "nl\n"), Is.EqualTo((long)"nl\n".Length));
        Assert.That(p.Comm, Is.EqualTo("nl\n"), "comm_write keeps the newline: echo without -n leaves it");
        p.CapSysAdmin = false;
        Assert.That(p.WriteText($"/proc/{p.Pid}/comm", "y"), Is.EqualTo((long)-Errno.EACCES), "0644: a non-owner cannot write");
    }

    [TestCase("6.12", "always", "[always] madvise never\n", "madvise", "always [madvise] never\n")]
    [TestCase("6.12", "defrag", "always defer defer+madvise [madvise] never\n", "defer\n", "always [defer] defer+madvise madvise never\n")]
    [TestCase("5.5", "defrag", "always defer defer+madvise [madvise] never\n", "defer", "always defer [defer+madvise] madvise never\n")] // prefix match
    [TestCase("5.6", "defrag", "always defer defer+madvise [madvise] never\n", "defer", "always [defer] defer+madvise madvise never\n")]
    [TestCase("5.5", "enabled", "[always] madvise never\n", "madv", "always [madvise] never\n")]
    [TestCase("6.12", "shmem_enabled", "always within_size advise [never] deny force\n", "advise\n", "always within_size [advise] never deny force\n")]
    public void TransparentHugepage_ShowAndStore(string kernel, string file, string before, string write, string after)
    {
        if (file == "always") file = "enabled";
        var p = Sim.Boot(kernel).Spawn();
        var path = "/sys/kernel/mm/transparent_hugepage/" + file;
        Assert.That(Read(p, path), Is.EqualTo(before));
        Assert.That(p.WriteText(path, write), Is.EqualTo((long)write.Length));
        Assert.That(Read(p, path), Is.EqualTo(after));
    }

    [Test]
    public void TransparentHugepage_BadWords_ReadOnlyFiles_AndPerSizeDirectories()
    {
        var p = Sim.Boot("6.8").Spawn();
        const string dir = "/sys/kernel/mm/transparent_hugepage/";
        Assert.That(p.WriteText(dir + "enabled", "madv"), Is.EqualTo((long)-Errno.EINVAL), "sysfs_streq from 5.6");
        Assert.That(p.WriteText(dir + "use_zero_page", "2"), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.WriteText(dir + "use_zero_page", "0\n"), Is.EqualTo((long)"0\n".Length));
        Assert.That(Read(p, dir + "use_zero_page"), Is.EqualTo("0\n"));
        Assert.That(Read(p, dir + "hpage_pmd_size"), Is.EqualTo("2097152\n"));
        Assert.That(p.WriteText(dir + "hpage_pmd_size", "4096"), Is.EqualTo((long)-Errno.EACCES));
        Assert.That(Read(p, dir + "khugepaged/max_ptes_none"), Is.EqualTo("511\n"));
        Assert.That(p.WriteText(dir + "khugepaged/max_ptes_none", "512"), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.WriteText(dir + "khugepaged/pages_to_scan", "0"), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(Read(p, dir + "hugepages-2048kB/enabled"), Is.EqualTo("always [inherit] madvise never\n"));
        Assert.That(Read(p, dir + "hugepages-64kB/enabled"), Is.EqualTo("always inherit madvise [never]\n"));
        Assert.That(p.ListDir(dir, out var names), Is.Zero);
        Assert.That(names, Does.Contain("hugepages-16kB"));
        Assert.That(Sim.Boot("6.7").Spawn().ReadText(dir + "hugepages-2048kB/enabled", out _), Is.EqualTo((long)-Errno.ENOENT));
        Assert.That(Sim.Boot("5.7").Spawn().ReadText(dir + "khugepaged/max_ptes_shared", out _), Is.EqualTo((long)-Errno.ENOENT));
    }
}
