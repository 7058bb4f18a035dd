using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.CsProj;
using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Bench;

/// <summary>
/// Campaign scaling from 1 to 2 jobs (issue 17): <c>CampaignEngine.Stream</c> over seeds 1..10000 of
/// campaigns/example.yaml, oracle included, with one worker (the baseline) and with two. Each row's mean is per seed,
/// so the Ratio column is the two-job time over the one-job time and the scaling is 1 / Ratio (0.526 is 1.90×).
/// Runs as <c>kernelsim campaign</c> does: server GC, TieredPGO off, in a child process of its own (whatever
/// --quick says), after warm-up, so the JIT's start-up work is not in the figure. Each run starts new worker threads,
/// which build their per-thread scratch again (the machine images are shared), hence 10 000 seeds per run (docs/performance.md).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ScalingConfig))]
public class CampaignScalingBenchmarks
{
    private const int Seeds = 10_000;

    private CampaignSpec _spec = null!;

    [GlobalSetup]
    public void Setup()
    {
        _spec = CampaignParser.ParseFile(ExampleYaml()) with { SeedFirst = 1, SeedLast = Seeds };
        if (OneJob() != Seeds || TwoJobs() != Seeds) throw new InvalidOperationException("a run did not deliver every seed");
    }

    /// <summary>Seeds 1..10000 with one worker.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Seeds)]
    public ulong OneJob() => Run(1);

    /// <summary>The same seeds with two workers (results delivered in seed order, as with --jobs 2).</summary>
    [Benchmark(OperationsPerInvoke = Seeds)]
    public ulong TwoJobs() => Run(2);

    private ulong Run(int jobs) => CampaignEngine.Stream(_spec, new SeedSet(1, Seeds), 0, jobs, _ => { }).Done;

    /// <summary>campaigns/example.yaml of the tree this file was compiled from.</summary>
    internal static string ExampleYaml([CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(source))!, "campaigns", "example.yaml");

    /// <summary>Server GC and no TieredPGO (KernelSim.Cli.csproj's settings), 3 warm-up and 10 measured iterations, out of process.</summary>
    private sealed class ScalingConfig : ManualConfig
    {
        // A mutator, so that it overrides --quick's in-process job (whose process has workstation GC) too.
        public ScalingConfig() => AddJob(new Job().WithToolchain(CsProjCoreToolchain.NetCoreApp10_0).WithGcServer(true)
            .WithEnvironmentVariable("DOTNET_TieredPGO", "0")
            .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10).AsMutator());
    }
}
