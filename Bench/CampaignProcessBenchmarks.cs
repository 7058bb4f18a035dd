using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace KernelSim.Bench;

/// <summary>
/// Whole <c>kernelsim campaign</c> processes going from 1 to 2 jobs (issue 17): seeds 1..100000 of
/// campaigns/example.yaml, start-up, the JIT (for the ReadyToRun build), the collector and the result files included,
/// for the two published builds of this tree: <c>native</c> (<c>-p:PublishAot=true</c>) and <c>readytorun</c> (the
/// default publish). Each invocation is one process; each row's mean is per seed, and within a build the Ratio column is
/// the two-job time over the one-job time (0.526 is 1.90×). <see cref="CampaignScalingBenchmarks"/> measures the same
/// seeds in steady state, inside one warmed-up process. The setup publishes the build (about a minute for native).
/// </summary>
[Config(typeof(ProcessConfig))]
public class CampaignProcessBenchmarks
{
    private const int Seeds = 100_000;

    /// <summary>Which publish of KernelSim.Cli runs.</summary>
    [Params("native", "readytorun")]
    public string Build { get; set; } = "native";

    private string _exe = "";
    private string _out = "";

    [GlobalSetup]
    public void Setup()
    {
        var dir = Path.Combine(RepositoryPaths.TempDirectory("kernelsim-publish"), Build);
        Run(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            ["publish", Path.Combine(RepositoryPaths.Root, "KernelSim.Cli"), "-c", "Release", "-o", dir, "-nologo", "-v:q",
             .. Build == "native" ? new[] { "-p:PublishAot=true" } : [],
             "--artifacts-path", dir + ".artifacts"]);
        _exe = Path.Combine(dir, "kernelsim");
        _out = dir + ".results";
        if (!File.Exists(_exe)) throw new InvalidOperationException($"the {Build} publish wrote no {_exe}");
    }

    /// <summary>One process, one job.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Seeds)]
    public void OneJob() => Campaign(1);

    /// <summary>One process, two jobs.</summary>
    [Benchmark(OperationsPerInvoke = Seeds)]
    public void TwoJobs() => Campaign(2);

    private void Campaign(int jobs) =>
        Run(_exe, ["campaign", CampaignScalingBenchmarks.ExampleYaml(), "--seeds", $"1..{Seeds}", "--jobs", $"{jobs}",
                   "--progress", "none", "--exit-zero", "--out", _out]);

    private static void Run(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)}: exit code {p.ExitCode}\n{stdout.Result}{stderr}");
    }

    /// <summary>
    /// In this process (the children are what is measured), one invocation per iteration (a process takes seconds), one
    /// warm-up and five measured iterations, whatever job the command line gives.
    /// </summary>
    private sealed class ProcessConfig : ManualConfig
    {
        public ProcessConfig() => AddJob(new Job().WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1).AsMutator());
    }
}
