using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using KernelSim.Bench.TraceOff;

namespace KernelSim.Bench;

/// <summary>
/// Entry point. All BenchmarkDotNet switches work (--filter, --list, --job, ...). Extra switches:
///   --quick      few iterations (3 warmup + 5 measured, 1 launch), in-process: a full run takes minutes.
///   --inprocess  run the default (full-precision) job in-process instead of a child process.
///   --traceoff-alternate [--rounds N] [--warmup N] [--copies N]
///                no BenchmarkDotNet run: the trace-off rows with both builds interleaved in this process
///                (<see cref="TraceOffAlternate"/>; 300 rounds after 100 warm-up rounds, 4 copies of each build).
///   --scaling-alternate [--rounds N] [--warmup N] [--seeds N]
///                no BenchmarkDotNet run: <see cref="CampaignScalingAlternate"/>, one worker against two, interleaved
///                (15 rounds of 10 000 seeds after 2 warm-up rounds); run with DOTNET_gcServer=1 DOTNET_TieredPGO=0.
///   --smoke [--filter PATTERN...]
///                no BenchmarkDotNet run: every benchmark case run once in this process (<see cref="Smoke"/>), to prove
///                each row can be measured; ends with "N passed, N failed" (.ci/bench-smoke).
/// When the trace-off benchmarks are selected, the no-trace build of Kernel.Sim is built first (<see cref="NoTraceBuild"/>).
/// Example: dotnet run -c Release --project Bench --artifacts-path /tmp/art-bench -- --filter '*' --quick
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            if (args.Contains("--scaling-alternate"))
            {
                CampaignScalingAlternate.Run(IntOption(args, "--rounds", 15), IntOption(args, "--warmup", 2), IntOption(args, "--seeds", 10_000));
                return 0;
            }
            if (args.Contains("--smoke"))
            {
                var patterns = FilterPatterns(args);
                if (Selects(typeof(TraceOffBenchmarks), patterns.Length > 0 ? patterns : ["*"])) NoTraceBuild.EnsureBuilt();
                return Smoke.Run(patterns);
            }
            if (args.Contains("--traceoff-alternate"))
            {
                TraceOffAlternate.Run(IntOption(args, "--rounds", 300), IntOption(args, "--warmup", 100), IntOption(args, "--copies", 4));
                return 0;
            }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"Bench: {e.Message}");
            return 2;
        }

        var quick = args.Contains("--quick");
        var inProcess = args.Contains("--inprocess");
        var rest = args.Where(a => a is not ("--quick" or "--inprocess")).ToArray();

        Job job = quick
            ? Job.Default.WithId("Quick").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5)
            : Job.Default;
        if (quick || inProcess) job = job.WithToolchain(InProcessEmitToolchain.Instance);
        // Build before BenchmarkDotNet starts, so that a failed build stops the run with its own output (the
        // benchmark's setup would build it too, for a class picked from BenchmarkDotNet's interactive menu).
        if (!rest.Contains("--list") && Selects(typeof(TraceOffBenchmarks), FilterPatterns(rest)))
            NoTraceBuild.EnsureBuilt();
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, DefaultConfig.Instance.AddJob(job.AsDefault()));
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }

    /// <summary>The patterns after --filter (or -f), up to the next option.</summary>
    private static string[] FilterPatterns(string[] args)
    {
        var i = Array.FindIndex(args, a => a is "--filter" or "-f");
        return i < 0 ? [] : args.Skip(i + 1).TakeWhile(a => !a.StartsWith('-')).ToArray();
    }

    /// <summary>Whether the patterns select a benchmark of <paramref name="type"/> (BenchmarkDotNet's own glob filter).</summary>
    private static bool Selects(Type type, string[] patterns) =>
        patterns.Length > 0 && BenchmarkConverter.TypeToBenchmarks(type).BenchmarksCases.Any(new GlobFilter(patterns).Predicate);

    /// <summary>The integer after <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    private static int IntOption(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n > 0 ? n
            : i >= 0 ? throw new ArgumentException($"{name} needs a positive integer") : fallback;
    }
}
