using System.Runtime.CompilerServices;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Shmem;

/// <summary>The example of docs/tmpfs.md (the doc quotes the body of the first test verbatim; the second test checks that).</summary>
public class TmpFsDocExampleTests
{
    [Test]
    public void DocExample_PoisonedTmpfsPage_EioForRead_SigbusForFault_GoneAfterPunch()
    {
        // BEGIN DOC EXAMPLE
        // Boot Linux 6.12 with a tmpfs on /mnt/tmpfs; a process writes 12 KiB to a new file.
        var m = new MachineBuilder().WithKernel("6.12").AddTmpFs().Build();
        var tmpfs = (TmpFs)m.Vfs.Mounts.Single(f => f is TmpFs);
        var p = m.Spawn("app");
        var fd = (int)p.Open("/mnt/tmpfs/f", Fcntl.O_RDWR | Fcntl.O_CREAT);
        var buf = p.MapAnonymous(3 * 4096);
        p.Fill(buf, 3 * 4096, i => (byte)i);
        Assert.That(p.Pwrite64(fd, buf, 3 * 4096, 0), Is.EqualTo(3 * 4096));

        // The hardware reports an uncorrectable error in the file's second page: memory_failure keeps the
        // poisoned folio in the page cache (shmem_error_remove_folio, 5.17+).
        var pfn = tmpfs.Files["f"].Mapping!.Find(1)!.Pfn;
        Assert.That(m.Run(() => m.MemoryFailure.Run(pfn, MfFlags.None)).Value, Is.EqualTo(0));

        // read(2) returns the bytes before the poisoned page, then EIO; a fault on it is SIGBUS BUS_MCEERR_AR.
        Assert.That(p.Pread64(fd, buf, 3 * 4096, 0), Is.EqualTo(4096));
        Assert.That(p.Pread64(fd, buf, 100, 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(p.Pread64(fd, buf, 1, 2 * 4096), Is.EqualTo(1));
        var a = (ulong)p.Mmap(0, 3 * 4096, Mman.PROT_READ, Mman.MAP_SHARED, fd, 0);
        var r = p.Load(new UserPtr(a + 4096 + 16), new byte[1]);
        Assert.That((r.Signal!.Value.Code, r.Signal.Value.Addr, r.Signal.Value.AddrLsb), Is.EqualTo((Sig.BUS_MCEERR_AR, a + 4096 + 16, (short)12)));
        Assert.That(p.Alive, Is.False);

        // Another process punches a hole over the page: the poison leaves the file, the range reads as zeros.
        var q = m.Spawn("repair");
        var fd2 = (int)q.Open("/mnt/tmpfs/f", Fcntl.O_RDWR);
        Assert.That(q.Fallocate(fd2, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, 4096, 4096), Is.EqualTo(0));
        var qbuf = q.MapAnonymous(4096);
        Assert.That(q.Pread64(fd2, qbuf, 4096, 4096), Is.EqualTo(4096));

        // A memfd is the same kind of file, on the kernel's internal tmpfs mount.
        var mfd = (int)q.MemfdCreate("buffer", Memfd.MFD_ALLOW_SEALING);
        Assert.That(q.Ftruncate(mfd, 4096), Is.EqualTo(0));
        Assert.That(q.DoFcntl(mfd, Memfd.F_ADD_SEALS, Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW), Is.EqualTo(0));
        Assert.That(q.Ftruncate(mfd, 0), Is.EqualTo(-Errno.EPERM));
        // END DOC EXAMPLE
    }

    [Test]
    public void DocsTmpfsMd_QuotesTheExampleVerbatim()
    {
        var doc = File.ReadAllText(KernelSim.Tests.Cli.RepoFiles.Path("docs/tmpfs.md"));
        var src = File.ReadAllText(ThisFile());
        var a = src.IndexOf("// BEGIN DOC EXAMPLE", StringComparison.Ordinal);
        var b = src.IndexOf("// END DOC EXAMPLE", StringComparison.Ordinal);
        var lines = src[a..b].Split('\n').Skip(1).Select(l => l.Length >= 8 ? l[8..] : l.Trim()).ToArray();
        var example = string.Join("\n", lines).TrimEnd();
        Assert.That(doc.Replace("\r\n", "\n"), Does.Contain(example));
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
