using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>The examples shown in docs/mm.md (the doc quotes this file verbatim).</summary>
public class MmDocExampleTests
{
    private const int RW = Mman.PROT_READ | Mman.PROT_WRITE;

    private static (Machine M, DaxFs Fs, Process P) Boot(string kernel)
    {
        var m = new MachineBuilder().WithKernel(kernel).WithCpu(CpuModel.FastString)
            .AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs().Build();
        var fs = DaxFs.FormatAndMount(m, m.Pmem().Disk, new DaxFsOptions { Dax = DaxMode.Always, HugeFaults = true });
        return (m, fs, m.Spawn("app"));
    }

    [Test]
    public void LargeDaxMapping_LandsOn2MiB_AndIsServedByAPmdFault()
    {
        var (m, fs, p) = Boot("6.12");
        // A 4 MiB file, allocated (fallocate), mapped shared: thp_get_unmapped_area puts it on a 2 MiB boundary.
        var fd = (int)p.Open(fs.PathOf("big"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Fallocate(fd, 0, 0, 4 << 20), Is.Zero);
        var a = p.Mmap(0, 4 << 20, RW, Mman.MAP_SHARED, fd, 0);
        Assert.That(a, Is.EqualTo(0x7ffff7a00000L));
        Assert.That(a % (2 << 20), Is.Zero);

        // The first store is a PMD fault: one 2 MiB entry maps the whole first half.
        Assert.That(p.Store(new UserPtr((ulong)a + 5), [42]).Done, Is.EqualTo(1UL));
        Assert.That(p.Mm.ShiftAt((ulong)a + (1 << 20)), Is.EqualTo(PageDefs.PMD_SHIFT));
        Assert.That(p.Mm.PfnAt((ulong)a) % 512, Is.Zero, "a 2 MiB-aligned pmem extent");
    }

    [Test]
    public void ForkCopyOnWrite_OverAPrivateDaxMapping_EachSideSeesItsOwnBytes()
    {
        var (m, fs, parent) = Boot("6.12");
        var fd = (int)parent.Open(fs.PathOf("f"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        var buf = parent.MapAnonymous(4096);
        Assert.That(parent.Fill(buf, 4096, i => (byte)i).Done, Is.EqualTo(4096UL));
        Assert.That(parent.Pwrite64(fd, buf, 4096, 0), Is.EqualTo(4096));

        // MAP_PRIVATE: the parent's store copies the pmem page into anonymous memory (dax_fault_cow_page).
        var a = new UserPtr((ulong)parent.Mmap(0, 4096, RW, Mman.MAP_PRIVATE, fd, 0));
        Assert.That(parent.Store(a, [0xAA]).Done, Is.EqualTo(1UL));

        // fork: the anonymous copy is now shared copy-on-write between parent and child.
        var pid = parent.Fork(out var child);
        Assert.That(pid, Is.EqualTo(child!.Pid));
        Assert.That(child.Mm.PfnAt(a.Value), Is.EqualTo(parent.Mm.PfnAt(a.Value)));

        // The child's store copies the page again; each side keeps its own byte 0, byte 1 is the file's.
        Assert.That(child.Store(a, [0xBB]).Done, Is.EqualTo(1UL));
        var seen = new byte[2];
        Assert.That(parent.Load(a, seen).Done, Is.EqualTo(2UL));
        Assert.That(seen, Is.EqualTo(new byte[] { 0xAA, 1 }));
        Assert.That(child.Load(a, seen).Done, Is.EqualTo(2UL));
        Assert.That(seen, Is.EqualTo(new byte[] { 0xBB, 1 }));

        // The file itself never changed.
        Assert.That(parent.Pread64(fd, buf, 1, 0), Is.EqualTo(1));
        Assert.That(parent.Load(buf, seen.AsSpan(0, 1)).Done, Is.EqualTo(1UL));
        Assert.That(seen[0], Is.Zero);

        // The child exits with status 3; the parent reaps it.
        child.Exit(3);
        Assert.That(parent.Wait4((int)pid, out var status), Is.EqualTo(pid));
        Assert.That(Wait.WIFEXITED(status) && Wait.WEXITSTATUS(status) == 3, Is.True);
    }

    [Test]
    public void MremapOfADaxMapping_MovesTheMapping_TheFileBytesFollow()
    {
        var (m, fs, p) = Boot("6.12");
        var fd = (int)p.Open(fs.PathOf("g"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Fallocate(fd, 0, 0, 3 * 4096), Is.Zero);
        var a = (ulong)p.Mmap(0, 2 * 4096, RW, Mman.MAP_SHARED, fd, 0);
        Assert.That(p.Store(new UserPtr(a + 4096), [7]).Done, Is.EqualTo(1UL));

        // With a mapping right after it, growing in place is impossible: only MREMAP_MAYMOVE succeeds.
        var after = p.Mmap(a + 2 * 4096, 4096, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED_NOREPLACE);
        Assert.That(after, Is.EqualTo((long)a + 2 * 4096));
        Assert.That(p.Mremap(a, 2 * 4096, 3 * 4096, 0), Is.EqualTo((long)-Errno.ENOMEM));
        var b = p.Mremap(a, 2 * 4096, 3 * 4096, Mman.MREMAP_MAYMOVE);
        Assert.That(b, Is.GreaterThan(0));
        Assert.That(p.Mm.FindVma(a), Is.Null, "the old range is gone");
        var one = new byte[1];
        Assert.That(p.Load(new UserPtr((ulong)b + 4096), one).Done, Is.EqualTo(1UL));
        Assert.That(one[0], Is.EqualTo(7));

        // msync(MS_SYNC) over the shared DAX mapping goes to the file's fsync.
        Assert.That(p.Msync((ulong)b, 3 * 4096, Mman.MS_SYNC), Is.Zero);
        Assert.That(p.Msync((ulong)b, 3 * 4096, Mman.MS_SYNC | Mman.MS_ASYNC), Is.EqualTo((long)-Errno.EINVAL));
    }
}
