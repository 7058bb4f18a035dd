using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>mremap (mm/mremap.c), msync (mm/msync.c), MADV_POPULATE_* (mm/madvise.c) and the copy-on-write copy (MM3–MM7).</summary>
public class MremapMsyncPopulateTests
{
    private const int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private const int Anon = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
    private const ulong Hint = 0x1_0000_0000;

    private static byte Byte(Process p, ulong a)
    {
        var b = new byte[1];
        Assert.That(p.Load(new UserPtr(a), b).Done, Is.EqualTo(1UL));
        return b[0];
    }

    [Test]
    public void Mremap_Errnos()
    {
        var p = Sim.Boot("6.12").Spawn();
        var a = (ulong)p.Mmap(Hint, 2 * 4096, RW, Anon | Mman.MAP_FIXED);
        Assert.That(p.Mremap(a, 4096, 4096, 0x8), Is.EqualTo((long)-Errno.EINVAL), "unknown flag");
        Assert.That(p.Mremap(a, 4096, 4096, Mman.MREMAP_FIXED, Hint + 0x100000), Is.EqualTo((long)-Errno.EINVAL), "FIXED without MAYMOVE");
        Assert.That(p.Mremap(a, 4096, 8192, Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP), Is.EqualTo((long)-Errno.EINVAL), "DONTUNMAP needs equal lengths");
        Assert.That(p.Mremap(a, 4096, 4096, Mman.MREMAP_DONTUNMAP), Is.EqualTo((long)-Errno.EINVAL), "DONTUNMAP needs MAYMOVE");
        Assert.That(p.Mremap(a + 1, 4096, 4096, 0), Is.EqualTo((long)-Errno.EINVAL), "unaligned");
        Assert.That(p.Mremap(a, 4096, 0, 0), Is.EqualTo((long)-Errno.EINVAL), "new length 0");
        Assert.That(p.Mremap(Hint + 0x10000000, 4096, 8192, Mman.MREMAP_MAYMOVE), Is.EqualTo((long)-Errno.EFAULT), "no VMA");
        Assert.That(p.Mremap(a, 3 * 4096, 4 * 4096, Mman.MREMAP_MAYMOVE), Is.EqualTo((long)-Errno.EFAULT), "the old range leaves its VMA");
        Assert.That(p.Mremap(a, 0, 4096, Mman.MREMAP_MAYMOVE), Is.EqualTo((long)-Errno.EINVAL), "old length 0 on a private mapping");
        Assert.That(p.Mremap(a, 2 * 4096, 2 * 4096, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, a + 4096), Is.EqualTo((long)-Errno.EINVAL), "overlap");
    }

    [TestCase("5.15", 0x1_1000_0000L)]             // the shrink path runs before any VMA lookup
    [TestCase("5.16", (long)-Errno.EFAULT)]
    public void Mremap_ShrinkOfAnUnmappedRange(string kernel, long expected)
    {
        var p = Sim.Boot(kernel).Spawn();
        Assert.That(p.Mremap(0x1_1000_0000, 8192, 4096, 0), Is.EqualTo(expected));
    }

    [Test]
    public void Mremap_ShrinkGrowInPlaceAndMove_KeepTheBytes()
    {
        var p = Sim.Boot("6.12").Spawn();
        var a = (ulong)p.Mmap(Hint, 3 * 4096, RW, Anon | Mman.MAP_FIXED);
        Assert.That(p.Store(new UserPtr(a), [1]).Done, Is.EqualTo(1UL));
        Assert.That(p.Mremap(a, 3 * 4096, 2 * 4096, 0), Is.EqualTo((long)a));
        Assert.That(p.Mm.FindVma(a + 2 * 4096), Is.Null, "the tail is unmapped");
        Assert.That(p.Mremap(a, 2 * 4096, 4 * 4096, 0), Is.EqualTo((long)a), "grown in place");
        Assert.That(p.Mm.FindVma(a)!.End, Is.EqualTo(a + 4 * 4096));
        Assert.That(p.Mmap(a + 4 * 4096, 4096, RW, Anon | Mman.MAP_FIXED), Is.EqualTo((long)(a + 4 * 4096)));
        Assert.That(p.Mremap(a, 4 * 4096, 5 * 4096, 0), Is.EqualTo((long)-Errno.ENOMEM), "no room, no MAYMOVE");
        var pfn = p.Mm.PfnAt(a);
        var b = (ulong)p.Mremap(a, 4 * 4096, 5 * 4096, Mman.MREMAP_MAYMOVE);
        Assert.That(b, Is.Not.EqualTo(a));
        Assert.That(p.Mm.PfnAt(b), Is.EqualTo(pfn), "move_page_tables moves the page itself");
        Assert.That(Byte(p, b), Is.EqualTo(1));
        Assert.That(p.Mm.FindVma(a), Is.Null);
        var c = p.Mremap(b, 5 * 4096, 5 * 4096, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, Hint + 0x100000);
        Assert.That(c, Is.EqualTo((long)Hint + 0x100000));
        Assert.That(Byte(p, (ulong)c), Is.EqualTo(1));
    }

    [TestCase("5.6", (long)-Errno.EINVAL)]
    [TestCase("5.7", 0L)]
    public void Mremap_Dontunmap_LeavesAnEmptyVmaBehind(string kernel, long expected)
    {
        var p = Sim.Boot(kernel).Spawn();
        var a = (ulong)p.Mmap(Hint, 4096, RW, Anon | Mman.MAP_FIXED);
        Assert.That(p.Store(new UserPtr(a), [9]).Done, Is.EqualTo(1UL));
        var r = p.Mremap(a, 4096, 4096, Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP);
        if (expected < 0)
        {
            Assert.That(r, Is.EqualTo(expected));
            return;
        }
        Assert.That(r, Is.GreaterThan(0));
        Assert.That(Byte(p, (ulong)r), Is.EqualTo(9));
        Assert.That(p.Mm.FindVma(a), Is.Not.Null, "the old VMA stays");
        Assert.That(Byte(p, a), Is.Zero, "and faults in a fresh zero page");
    }

    [TestCase("5.12", (long)-Errno.EINVAL)]
    [TestCase("5.13", 1L)]
    public void Mremap_Dontunmap_OnSharedMemory(string kernel, long expected)
    {
        var p = Sim.Boot(kernel).Spawn();
        var a = (ulong)p.Mmap(Hint, 4096, RW, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        var r = p.Mremap(a, 4096, 4096, Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP);
        if (expected < 0) Assert.That(r, Is.EqualTo(expected));
        else Assert.That(r, Is.GreaterThan(0));
    }

    [Test]
    public void Mremap_OldLenZero_DuplicatesASharedMapping()
    {
        var p = Sim.Boot("6.12").Spawn();
        var a = (ulong)p.Mmap(Hint, 4096, RW, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        Assert.That(p.Store(new UserPtr(a), [4]).Done, Is.EqualTo(1UL));
        var b = (ulong)p.Mremap(a, 0, 4096, Mman.MREMAP_MAYMOVE);
        Assert.That(b, Is.Not.EqualTo(a));
        Assert.That(Byte(p, b), Is.EqualTo(4), "the same shmem object");
        Assert.That(p.Store(new UserPtr(b), [5]).Done, Is.EqualTo(1UL));
        Assert.That(Byte(p, a), Is.EqualTo(5));
    }

    [Test]
    public void Msync_Errnos()
    {
        var p = Sim.Boot("6.12").Spawn();
        var a = (ulong)p.Mmap(Hint, 2 * 4096, RW, Anon | Mman.MAP_FIXED);
        Assert.That(p.Msync(a, 4096, 8), Is.EqualTo((long)-Errno.EINVAL), "unknown flag");
        Assert.That(p.Msync(a + 1, 4096, Mman.MS_SYNC), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Msync(a, 4096, Mman.MS_SYNC | Mman.MS_ASYNC), Is.EqualTo((long)-Errno.EINVAL));
        Assert.That(p.Msync(a, ulong.MaxValue - a, Mman.MS_SYNC), Is.EqualTo((long)-Errno.ENOMEM), "wraps");
        Assert.That(p.Msync(a, 0, Mman.MS_SYNC), Is.Zero);
        Assert.That(p.Msync(a, 2 * 4096, Mman.MS_SYNC | Mman.MS_INVALIDATE), Is.Zero, "anonymous memory: nothing to write");
        Assert.That(p.Msync(a, 3 * 4096, Mman.MS_SYNC), Is.EqualTo((long)-Errno.ENOMEM), "past the last VMA");
        Assert.That(p.Msync(a - 4096, 2 * 4096, Mman.MS_ASYNC), Is.EqualTo((long)-Errno.ENOMEM), "a hole first, MS_ASYNC alone");
        Assert.That(p.Mmap(a + 3 * 4096, 4096, RW, Anon | Mman.MAP_FIXED), Is.EqualTo((long)(a + 3 * 4096)));
        Assert.That(p.Msync(a, 4 * 4096, Mman.MS_SYNC), Is.EqualTo((long)-Errno.ENOMEM), "a hole in the middle: reported at the end");
    }

    [TestCase("5.13", (long)-Errno.EINVAL)]
    [TestCase("5.14", 0L)]
    public void Populate_ExistsFrom514(string kernel, long expected)
    {
        var p = Sim.Boot(kernel).Spawn();
        var a = (ulong)p.Mmap(Hint, 4 * 4096, RW, Anon | Mman.MAP_FIXED);
        Assert.That(p.Madvise(a, 4 * 4096, Mman.MADV_POPULATE_WRITE), Is.EqualTo(expected));
        Assert.That(p.Mm.ResidentPages, Is.EqualTo(expected == 0 ? 4 : 0));
    }

    [Test]
    public void Populate_ReadAndWrite_AndPermissions()
    {
        var p = Sim.Boot("6.12").Spawn();
        var a = (ulong)p.Mmap(Hint, 2 * 4096, Mman.PROT_READ, Anon | Mman.MAP_FIXED);
        Assert.That(p.Madvise(a, 2 * 4096, Mman.MADV_POPULATE_WRITE), Is.EqualTo((long)-Errno.EINVAL), "no VM_WRITE");
        Assert.That(p.Madvise(a, 2 * 4096, Mman.MADV_POPULATE_READ), Is.Zero);
        Assert.That(p.Mm.ResidentPages, Is.EqualTo(2));
        var n = (ulong)p.Mmap(Hint + 0x100000, 4096, Mman.PROT_NONE, Anon | Mman.MAP_FIXED);
        Assert.That(p.Madvise(n, 4096, Mman.MADV_POPULATE_READ), Is.EqualTo((long)-Errno.EINVAL), "no VM_READ");
        Assert.That(p.Madvise(a + 1, 4096, Mman.MADV_POPULATE_READ), Is.EqualTo((long)-Errno.EINVAL));
    }

    [Test]
    public void PopulateWrite_BreaksCopyOnWrite()
    {
        var parent = Sim.Boot("6.12").Spawn();
        var a = (ulong)parent.Mmap(Hint, 4096, RW, Anon | Mman.MAP_FIXED);
        Assert.That(parent.Store(new UserPtr(a), [1]).Done, Is.EqualTo(1UL));
        parent.Fork(out var child);
        Assert.That(child!.Madvise(a, 4096, Mman.MADV_POPULATE_WRITE), Is.Zero);
        Assert.That(child.Mm.PfnAt(a), Is.Not.EqualTo(parent.Mm.PfnAt(a)));
    }

    [TestCase("6.8", 3)]   // the walk skips the gap and populates what follows, then -ENOMEM
    [TestCase("6.9", 1)]   // 631426ba1d45: stops at the gap
    public void Populate_Gap_Enomem(string kernel, int resident)
    {
        var p = Sim.Boot(kernel).Spawn();
        Assert.That(p.Mmap(Hint, 4096, RW, Anon | Mman.MAP_FIXED), Is.EqualTo((long)Hint));
        Assert.That(p.Mmap(Hint + 2 * 4096, 2 * 4096, RW, Anon | Mman.MAP_FIXED), Is.EqualTo((long)Hint + 2 * 4096));
        Assert.That(p.Madvise(Hint, 4 * 4096, Mman.MADV_POPULATE_READ), Is.EqualTo((long)-Errno.ENOMEM));
        Assert.That(p.Mm.ResidentPages, Is.EqualTo(resident));
    }

    [Test]
    public void Populate_HwpoisonEntry_Ehwpoison_BeyondEofOfShmem_Efault()
    {
        var p = Sim.Boot("6.12").Spawn();
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var a = (ulong)p.Mmap(Hint, 2 * 4096, RW, Anon | Mman.MAP_FIXED);
        Assert.That(p.Store(new UserPtr(a + 4096), [1]).Done, Is.EqualTo(1UL));
        Assert.That(p.Madvise(a + 4096, 4096, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(p.Madvise(a, 2 * 4096, Mman.MADV_POPULATE_READ), Is.EqualTo((long)-Errno.EHWPOISON));
        var s = (ulong)p.Mmap(Hint + 0x100000, 4096, RW, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        Assert.That(p.Mremap(s, 4096, 2 * 4096, 0), Is.EqualTo((long)s), "grown past the shmem object's size");
        Assert.That(p.Madvise(s, 2 * 4096, Mman.MADV_POPULATE_READ), Is.EqualTo((long)-Errno.EFAULT), "VM_FAULT_SIGBUS");
    }

    [TestCase("6.0")]
    [TestCase("6.1")]
    public void CowCopyOfAPoisonedPage_61RecoversWithHwpoison_60Panics(string kernel)
    {
        var m = Sim.Boot(kernel);
        var parent = m.Spawn();
        var a = (ulong)parent.Mmap(Hint, 4096, RW, Anon | Mman.MAP_FIXED);
        Assert.That(parent.Store(new UserPtr(a), [1]).Done, Is.EqualTo(1UL));
        parent.Fork(out var child);
        Assert.That(m.InjectPoison(KernelSim.Mm.PhysAddr.FromPfn(parent.Mm.PfnAt(a)!.Value) + 64), Is.Zero);
        child!.Store(new UserPtr(a), [2]);
        if (kernel == "6.0")
        {
            Assert.That(m.State.Alive, Is.False, "copy_user_highpage consumed the poison in the kernel");
            return;
        }
        Assert.That(m.State.Alive, Is.True);
        Assert.That(child.KilledBy!.Value.Signo, Is.EqualTo(Sig.SIGBUS), "wp_page_copy → VM_FAULT_HWPOISON");
    }
}
