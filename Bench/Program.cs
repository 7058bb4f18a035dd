using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace KernelSim.Bench;

/// <summary>
/// Entry point. All BenchmarkDotNet switches work (--filter, --list, --job, ...). Extra switches:
///   --quick      few iterations (3 warmup + 5 measured, 1 launch), in-process: a full run takes minutes.
///   --inprocess  run the default (full-precision) job in-process instead of a child process.
/// Classes that declare their own jobs, each a build of its own (<see cref="OwnBuilds"/>), always run in child
/// processes: with --quick or --inprocess they run in a second pass (with --quick's iteration counts) when --filter
/// selects them, since BenchmarkDotNet applies a custom default job to every job, toolchain included.
/// Example: dotnet run -c Release --project Bench --artifacts-path /tmp/art-bench -- --filter '*' --quick
/// </summary>
public static class Program
{
    /// <summary>Benchmark classes whose jobs are builds of their own (MSBuild arguments), so never in-process.</summary>
    private static readonly Type[] OwnBuilds = [typeof(TraceOffBenchmarks)];

    public static int Main(string[] args)
    {
        var quick = args.Contains("--quick");
        var inProcess = args.Contains("--inprocess");
        var rest = args.Where(a => a is not ("--quick" or "--inprocess")).ToArray();

        var config = (IConfig)DefaultConfig.Instance;
        Job job = quick
            ? Job.Default.WithId("Quick").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5)
            : Job.Default;
        var summaries = new List<Summary>();
        var filters = FilterPatterns(rest);
        if ((quick || inProcess) && filters.Length > 0 && !rest.Contains("--list"))
        {
            var others = typeof(Program).Assembly.GetTypes().Where(t => t.IsPublic && !t.IsAbstract && !OwnBuilds.Contains(t)).ToArray();
            if (Selects(others, filters))
                summaries.AddRange(BenchmarkSwitcher.FromTypes(others).Run(rest, config.AddJob(job.WithToolchain(InProcessEmitToolchain.Instance).AsDefault())));
            if (Selects(OwnBuilds, filters))
                summaries.AddRange(BenchmarkSwitcher.FromTypes(OwnBuilds).Run(rest, config.AddJob(job.AsDefault())));
        }
        else
        {
            if (quick || inProcess) job = job.WithToolchain(InProcessEmitToolchain.Instance);
            summaries.AddRange(BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config.AddJob(job.AsDefault())));
        }
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }

    /// <summary>The patterns after --filter (or -f), up to the next option.</summary>
    private static string[] FilterPatterns(string[] args)
    {
        var i = Array.FindIndex(args, a => a is "--filter" or "-f");
        return i < 0 ? [] : args.Skip(i + 1).TakeWhile(a => !a.StartsWith('-')).ToArray();
    }

    /// <summary>Whether the patterns select a benchmark of <paramref name="types"/> (BenchmarkDotNet's own glob filter).</summary>
    private static bool Selects(Type[] types, string[] patterns)
    {
        var filter = new GlobFilter(patterns);
        return types.Where(t => t.GetMethods().Any(m => m.IsDefined(typeof(BenchmarkDotNet.Attributes.BenchmarkAttribute), false)))
            .Any(t => BenchmarkConverter.TypeToBenchmarks(t).BenchmarksCases.Any(filter.Predicate));
    }
}
