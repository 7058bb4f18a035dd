using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace KernelSim.Bench;

/// <summary>
/// Entry point. All BenchmarkDotNet switches work (--filter, --list, --job, ...). Extra switches:
///   --quick      few iterations (3 warmup + 5 measured, 1 launch), in-process: a full run takes minutes.
///   --inprocess  run the default (full-precision) job in-process instead of a child process.
/// Example: dotnet run -c Release --project Bench --artifacts-path /tmp/art-bench -- --filter '*' --quick
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var quick = args.Contains("--quick");
        var inProcess = args.Contains("--inprocess");
        var rest = args.Where(a => a is not ("--quick" or "--inprocess")).ToArray();

        var config = (IConfig)DefaultConfig.Instance;
        Job job = quick
            ? Job.Default.WithId("Quick").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5)
            : Job.Default;
        if (quick || inProcess) job = job.WithToolchain(InProcessEmitToolchain.Instance);
        config = config.AddJob(job.AsDefault());

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
