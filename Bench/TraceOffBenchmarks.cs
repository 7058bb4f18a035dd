using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using KernelSim.Trace;

namespace KernelSim.Bench;

/// <summary>
/// What tracing off costs (issue 17: at most 2 %): the hot reads of <see cref="PreadBenchmarks"/> with tracing
/// disabled at run time, in the default build (job <c>TracingOff</c>), against the same reads in a build with every
/// trace call compiled out (job <c>NoTraceCalls</c>, the baseline: <c>/p:KernelSimNoTrace=true</c>, see
/// Kernel.Sim.csproj). Both jobs run in child processes, each built by BenchmarkDotNet, so the Ratio column of the
/// <c>TracingOff</c> rows is the cost of tracing off.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(TraceOffConfig))]
public class TraceOffBenchmarks
{
    /// <summary>The MSBuild property that compiles the trace calls out (Kernel.Sim.csproj).</summary>
    public const string NoTraceArgument = "/p:KernelSimNoTrace=true";

    /// <summary>Set per job: "0" in the no-trace build, "1" in the default build; setup checks the build matches.</summary>
    private const string ExpectTraceVariable = "KERNELSIM_BENCH_EXPECT_TRACE";

    // Method names avoid "Pread" so that --filter '*Pread*' (the issue 17 command) does not pick up this class's two builds.
    private readonly PreadBenchmarks _small = new() { Size = 4096 };
    private readonly PreadBenchmarks _large = new() { Size = 1048576 };

    [GlobalSetup]
    public void Setup()
    {
        // A tracer keeps Enabled = true only in a build that has tracing; the no-trace build's is a constant false.
        var traces = new Tracer { Enabled = true }.Enabled;
        var expected = Environment.GetEnvironmentVariable(ExpectTraceVariable);
        if (expected != (traces ? "1" : "0"))
            throw new InvalidOperationException(expected == null
                ? "TraceOffBenchmarks runs only as its own two jobs (two builds, child processes): select it with --filter"
                : $"this process runs the {(traces ? "default" : "no-trace")} build, but its job expects {ExpectTraceVariable}={expected}");
        _small.Setup();
        _large.Setup();
    }

    /// <summary>DAX pread64 of 4 KiB (dax_iomap_rw → copy_mc_to_user), tracing off.</summary>
    [Benchmark]
    public long DaxRead4K() => _small.DaxPread();

    /// <summary>DAX pread64 of 1 MiB.</summary>
    [Benchmark]
    public long DaxRead1M() => _large.DaxPread();

    /// <summary>ramfs pread64 of 4 KiB (filemap_read).</summary>
    [Benchmark]
    public long RamfsRead4K() => _small.RamfsPread();

    /// <summary>/dev/pmem0 O_DIRECT pread64 of 4 KiB (blkdev_direct_IO → pmem_submit_bio).</summary>
    [Benchmark]
    public long PmemODirectRead4K() => _small.PmemODirectPread();

    /// <summary>
    /// The two builds as two jobs of one run, out of process by necessity (each job is its own build; Program runs
    /// this class apart from the in-process ones). A --quick run's iteration counts are applied to both.
    /// </summary>
    private sealed class TraceOffConfig : ManualConfig
    {
        public TraceOffConfig()
        {
            AddJob(Job.Default.WithId("NoTraceCalls").WithArguments([new MsBuildArgument(NoTraceArgument)])
                .WithEnvironmentVariable(ExpectTraceVariable, "0").AsBaseline());
            AddJob(Job.Default.WithId("TracingOff").WithEnvironmentVariable(ExpectTraceVariable, "1"));
            HideColumns("EnvironmentVariables"); // the Job and Arguments columns name the build
            // One build at a time: built in parallel, the two builds of the same projects failed every time here
            // (BenchmarkDotNet then retries one at a time). Each rebuilds the whole tree, which takes more than the
            // default two minutes on a loaded 2-core machine.
            WithOption(ConfigOptions.DisableParallelBuild, true);
            WithBuildTimeout(TimeSpan.FromMinutes(10));
        }
    }
}
