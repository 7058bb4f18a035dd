using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using KernelSim.Bench.TraceOff;

namespace KernelSim.Bench;

/// <summary>
/// What tracing off costs (issue 17: at most 2 %), both builds in one process: each hot read of
/// <see cref="PreadBenchmarks"/> in the default build with tracing off at run time (<c>…_TracingOff</c>) against the
/// same read in the no-trace build of Kernel.Sim, each build loaded into a load context of its own (<c>…_NoTraceCalls</c>, the baseline
/// of its category); see <see cref="TraceOffReads"/>. Always in-process (a child process would be a process of its
/// own, and on this VM processes differ by ±10 %). BenchmarkDotNet runs the rows one after the other, so a slow phase
/// of the machine can still land on one of them: <see cref="TraceOffAlternate"/> interleaves the two builds instead.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InProcessConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TraceOffBenchmarks
{
    // Method names avoid "Pread" so that --filter '*Pread*' (the issue 17 command) does not select this class.
    private TraceOffRow _dax4K = null!, _dax1M = null!, _ramfs4K = null!, _oDirect4K = null!;

    /// <summary>One copy of each build per process: BenchmarkDotNet sets up each benchmark on a new instance.</summary>
    private static readonly Lazy<TraceOffRow[]> Rows = new(() => TraceOffReads.Create(copies: 1));

    [GlobalSetup]
    public void Setup() => (_dax4K, _dax1M, _ramfs4K, _oDirect4K) = Rows.Value switch
    {
        [var a, var b, var c, var d] => (a, b, c, d),
        _ => throw new InvalidOperationException("four rows expected"),
    };

    /// <summary>DAX pread64 of 4 KiB (dax_iomap_rw → copy_mc_to_user), no trace calls.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("DAX 4 KiB")]
    public long DaxRead4K_NoTraceCalls() => _dax4K.NoTraceCalls[0]();

    /// <summary>DAX pread64 of 4 KiB, tracing off.</summary>
    [Benchmark, BenchmarkCategory("DAX 4 KiB")]
    public long DaxRead4K_TracingOff() => _dax4K.TracingOff[0]();

    /// <summary>DAX pread64 of 1 MiB, no trace calls.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("DAX 1 MiB")]
    public long DaxRead1M_NoTraceCalls() => _dax1M.NoTraceCalls[0]();

    /// <summary>DAX pread64 of 1 MiB, tracing off.</summary>
    [Benchmark, BenchmarkCategory("DAX 1 MiB")]
    public long DaxRead1M_TracingOff() => _dax1M.TracingOff[0]();

    /// <summary>ramfs pread64 of 4 KiB (filemap_read), no trace calls.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("ramfs 4 KiB")]
    public long RamfsRead4K_NoTraceCalls() => _ramfs4K.NoTraceCalls[0]();

    /// <summary>ramfs pread64 of 4 KiB, tracing off.</summary>
    [Benchmark, BenchmarkCategory("ramfs 4 KiB")]
    public long RamfsRead4K_TracingOff() => _ramfs4K.TracingOff[0]();

    /// <summary>/dev/pmem0 O_DIRECT pread64 of 4 KiB (blkdev_direct_IO → pmem_submit_bio), no trace calls.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("O_DIRECT 4 KiB")]
    public long PmemODirectRead4K_NoTraceCalls() => _oDirect4K.NoTraceCalls[0]();

    /// <summary>/dev/pmem0 O_DIRECT pread64 of 4 KiB, tracing off.</summary>
    [Benchmark, BenchmarkCategory("O_DIRECT 4 KiB")]
    public long PmemODirectRead4K_TracingOff() => _oDirect4K.TracingOff[0]();

    /// <summary>
    /// Runs whatever job the command line gives (--quick or the default) in-process: a mutator job applies only the
    /// toolchain to every job of the run.
    /// </summary>
    private sealed class InProcessConfig : ManualConfig
    {
        public InProcessConfig() => AddJob(new Job().WithToolchain(InProcessEmitToolchain.Instance).AsMutator());
    }
}
