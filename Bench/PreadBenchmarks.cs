using BenchmarkDotNet.Attributes;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Bench;

/// <summary>
/// Whole-stack pread64(2) through the public API (Machine.Syscall entry, vfs_read, the filesystem or block
/// device, iov_iter, the copy routine) against a native span copy of the same bytes. Three fault-free paths on
/// 6.12 / ERMS: a dax=always daxfs file on a 64 MiB fsdax namespace (dax_iomap_rw → copy_mc_to_user), a ramfs
/// file (filemap_read → copy_page_to_iter) and /dev/pmem0 opened O_DIRECT (blkdev_direct_IO → pmem_submit_bio).
/// </summary>
[MemoryDiagnoser]
public class PreadBenchmarks
{
    [Params(4096, 1048576)]
    public int Size;

    private SpanCopyBaseline _baseline = null!;
    private Process _dax = null!, _ram = null!, _blk = null!;
    private UserPtr _daxBuf, _ramBuf, _blkBuf;
    private int _daxFd, _ramFd, _blkFd;

    [GlobalSetup]
    public void Setup()
    {
        _baseline = new SpanCopyBaseline(Size);

        var m = Boot().AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs().Build();
        var fs = DaxFs.FormatAndMount(m, m.Pmem().Disk, new DaxFsOptions { Dax = DaxMode.Always });
        (_dax, _daxBuf, _daxFd) = FileWithData(m, fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);

        m = Boot().AddRamFs().Build();
        (_ram, _ramBuf, _ramFd) = FileWithData(m, "/mnt/ramfs/F", Fcntl.O_RDWR | Fcntl.O_CREAT);

        m = Boot().AddPmem(new PmemNamespaceSpec(64UL << 20)).Build();
        (_blk, _blkBuf, _blkFd) = FileWithData(m, "/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_DIRECT);

        Expect(DaxPread(), "daxfs pread");
        Expect(RamfsPread(), "ramfs pread");
        Expect(PmemODirectPread(), "/dev/pmem0 O_DIRECT pread");
    }

    private static MachineBuilder Boot() => new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString);

    /// <summary>A process, a pre-faulted user buffer of Size bytes, and <paramref name="path"/> holding Size written bytes.</summary>
    private (Process, UserPtr, int) FileWithData(Machine m, string path, int flags)
    {
        var p = m.Spawn("bench");
        var buf = p.MapAnonymous((ulong)Size);
        if (p.Fill(buf, (ulong)Size, i => (byte)(i * 13 + 5)).Done != (ulong)Size) throw new InvalidOperationException("prefault failed");
        var fd = p.Open(path, flags);
        if (fd < 0) throw new InvalidOperationException($"open {path}: {Errno.Describe(fd)}");
        if (p.Pwrite64((int)fd, buf, (ulong)Size, 0) != Size) throw new InvalidOperationException($"pwrite {path} failed");
        return (p, buf, (int)fd);
    }

    private long Expect(long got, string what) =>
        got == Size ? got : throw new InvalidOperationException($"{what} returned {got}, not {Size}: the benchmark must be fault-free");

    /// <summary>The host baseline: Span&lt;byte&gt;.CopyTo of the same size between page-aligned buffers (<see cref="SpanCopyBaseline"/>).</summary>
    [Benchmark(Baseline = true)]
    public int SpanCopy() => _baseline.Copy();

    /// <summary>pread64 of a dax=always daxfs file: dax_iomap_rw → dax_iomap_iter → dax_copy_to_iter (copy_mc_to_user).</summary>
    [Benchmark]
    public long DaxPread() => _dax.Pread64(_daxFd, _daxBuf, (ulong)Size, 0);

    /// <summary>pread64 of a ramfs file: filemap_read → copy_folio_to_iter from page-cache folios.</summary>
    [Benchmark]
    public long RamfsPread() => _ram.Pread64(_ramFd, _ramBuf, (ulong)Size, 0);

    /// <summary>pread64 of /dev/pmem0 with O_DIRECT: blkdev_direct_IO → bios over pinned user pages → pmem_submit_bio.</summary>
    [Benchmark]
    public long PmemODirectPread() => _blk.Pread64(_blkFd, _blkBuf, (ulong)Size, 0);
}
