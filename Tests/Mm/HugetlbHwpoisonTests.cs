using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>
/// tools/testing/selftests/mm/hugetlb-read-hwpoison.c: a 2 MiB memfd_create(MFD_HUGETLB) file, filled through a
/// MAP_SHARED | MAP_POPULATE mapping in chunks of 1, 2, 3 … , one subpage at 1 MiB + 4 KiB poisoned with
/// MADV_HWPOISON, then read(2) in chunks — per release: 6.6+ the bytes before the poisoned subpage, 6.1–6.5 −EIO,
/// ≤6.0 zeros (the page left the page cache).
/// </summary>
public class HugetlbHwpoisonTests
{
    private const ulong Len = Hugetlb.HPAGE_SIZE;
    private const ulong Chunk = PageDefs.PAGE_SIZE;
    private const ulong Hint = 0x7e00_0000_0000UL;

    private static (Machine M, Process P, int Fd, UserPtr Map) Setup(string kernel)
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn("hugetlb-read-hwpoison");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(new MfUser(p).Sysctl("nr_hugepages", "2\n"), Is.EqualTo(2));
        var fd = (int)p.MemfdCreate("hugetlb_tmp", 4);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(p.Ftruncate(fd, (long)Len), Is.Zero);
        var r = p.Mmap(Hint, Len, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
        Assert.That(r, Is.EqualTo((long)Hint));
        var map = new UserPtr((ulong)r);
        for (ulong off = 0; off < Len; off += Chunk) p.Fill(map + off, Chunk, _ => (byte)(off / Chunk + 1));
        return (m, p, fd, map);
    }

    private static ulong ReadAll(Process p, int fd, out long last)
    {
        var buf = p.MapAnonymous(Chunk);
        ulong total = 0;
        byte val = 0;
        while (true)
        {
            last = p.Read(fd, buf, Chunk);
            if (last <= 0) break;
            val++;
            var got = new byte[last];
            p.Load(buf, got);
            Assert.That(got.All(b => b == val), Is.True, $"chunk {val}");
            total += (ulong)last;
        }
        return total;
    }

    [Test]
    public void Read_StopsBeforeThePoisonedSubpage_From66([Values("6.6", "6.12")] string kernel)
    {
        var (m, p, fd, map) = Setup(kernel);
        Assert.That(p.Madvise((map + Len / 2 + PageDefs.PAGE_SIZE).Value, PageDefs.PAGE_SIZE, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(ReadAll(p, fd, out var last), Is.EqualTo(Len / 2 + PageDefs.PAGE_SIZE));
        Assert.That(last, Is.EqualTo(-Errno.EIO), "the next read starts on the poisoned subpage");
        Assert.That(m.State.Dmesg, Has.Some.Contains("recovery action for huge page: Recovered"));
    }

    [Test]
    public void Read_WholeHugePageIsEio_61To65([Values("6.1", "6.5")] string kernel)
    {
        var (_, p, fd, map) = Setup(kernel);
        Assert.That(p.Madvise((map + Len / 2 + PageDefs.PAGE_SIZE).Value, PageDefs.PAGE_SIZE, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(ReadAll(p, fd, out var last), Is.Zero);
        Assert.That(last, Is.EqualTo(-Errno.EIO));
    }

    [Test]
    public void Read_GivesZeros_Before61_ThePageLeftTheCache()
    {
        var (m, p, fd, map) = Setup("6.0");
        Assert.That(p.Madvise((map + Len / 2 + PageDefs.PAGE_SIZE).Value, PageDefs.PAGE_SIZE, Mman.MADV_HWPOISON), Is.Zero);
        var buf = p.MapAnonymous(Chunk);
        Assert.That(p.Read(fd, buf, Chunk), Is.EqualTo((long)Chunk));
        Assert.That(p.Peek(buf, 16).All(b => b == 0), Is.True, "a hole now");
        Assert.That(m.State.Dmesg, Has.Some.Contains("recovery action for huge page: Recovered"));
    }

    [Test]
    public void SeekThenRead_FromAfterThePoisonedSubpage_ReadsTheRest()
    {
        var (_, p, fd, map) = Setup("6.12");
        Assert.That(p.Madvise((map + Len / 2 + PageDefs.PAGE_SIZE).Value, PageDefs.PAGE_SIZE, Mman.MADV_HWPOISON), Is.Zero);
        var start = (long)(Len / 2 + 2 * PageDefs.PAGE_SIZE);
        Assert.That(p.Lseek(fd, start, Fcntl.SEEK_SET), Is.EqualTo(start));
        var buf = p.MapAnonymous(Chunk);
        ulong total = 0;
        long r;
        while ((r = p.Read(fd, buf, Chunk)) > 0) total += (ulong)r;
        Assert.That(total, Is.EqualTo(Len / 2 - 2 * PageDefs.PAGE_SIZE));
    }

    [Test]
    public void MadviseHwpoison_SignalsWithLsb21_InsideMadviseFrom611_AtTheNextAccessBefore([Values("6.10", "6.11")] string kernel)
    {
        var (m, p, _, map) = Setup(kernel);
        var bad = map + Len / 2 + PageDefs.PAGE_SIZE;
        Assert.That(p.Madvise(bad.Value, PageDefs.PAGE_SIZE, Mman.MADV_HWPOISON), Is.Zero);
        if (m.Profile.MadviseHwpoisonActionRequired)
        {
            Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, bad.Value, 21, true)));
        }
        else
        {
            Assert.That(p.SignalsReceived, Is.Empty);
            var touch = map + 0x1234;
            p.LoadByte(touch, out _);
            Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, touch.Value, 21, true)), "the whole 2 MiB mapping is a hwpoison entry");
        }
        var u = new MfUser(p);
        Assert.That(u.Meminfo("HugePages_Total"), Is.EqualTo("HugePages_Total:       2"));
        Assert.That(u.Meminfo("HugePages_Free"), Is.EqualTo("HugePages_Free:        1"));
    }

    [Test]
    public void Write_IsEinval_MemfdFlagsAreChecked()
    {
        var (_, p, fd, map) = Setup("6.12");
        Assert.That(p.Write(fd, map, 1), Is.EqualTo(-Errno.EINVAL), "hugetlbfs has no write_iter");
        Assert.That(p.MemfdCreate("x", 4 | (30u << 26)), Is.EqualTo(-Errno.ENODEV), "no 1 GiB hstate");
        Assert.That(p.MemfdCreate("x", 0x100), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Ftruncate(fd, 4096), Is.EqualTo(-Errno.EINVAL), "not a huge-page multiple");
    }

    [Test]
    public void PrivateMapping_CopiesOnWrite_AndGivesThePageBack()
    {
        var (m, p, fd, map) = Setup("6.12");
        var r = p.Mmap(Hint + 2 * Len, Len, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE, fd, 0);
        Assert.That(r, Is.EqualTo((long)(Hint + 2 * Len)));
        var priv = new UserPtr((ulong)r);
        Assert.That(p.LoadByte(priv + 5, out var b).Completed(1) && b == 1, Is.True, "reads the file's page");
        Assert.That(p.Store(priv, [0xaa]).Completed(1), Is.True);
        Assert.That(p.Peek(map, 1)[0], Is.EqualTo((byte)1), "the shared page is untouched");
        var u = new MfUser(p);
        Assert.That(u.Meminfo("HugePages_Free"), Is.EqualTo("HugePages_Free:        0"));
        Assert.That(p.Munmap(priv.Value, Len), Is.Zero);
        Assert.That(u.Meminfo("HugePages_Free"), Is.EqualTo("HugePages_Free:        1"));
        _ = m;
    }
}
