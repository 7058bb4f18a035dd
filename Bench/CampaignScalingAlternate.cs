using System.Diagnostics;
using System.Runtime;
using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Bench;

/// <summary>
/// <c>--scaling-alternate</c>: the two rows of <see cref="CampaignScalingBenchmarks"/> interleaved in one process. A
/// round runs the same seeds with one worker and with two, in alternating order (one worker first in even rounds), and
/// its ratio is the one-worker time over the two-worker time: the 1 → 2 jobs scaling. It prints the median of the
/// rounds' ratios and its quartiles; a slow phase of the host falls on both halves of a round alike, and the median
/// drops the rounds it split. Run it as <c>kernelsim</c> runs (server GC, TieredPGO off) through the environment.
/// Each run's process CPU time is taken too: the CPU per seed at one job and at two tells work that costs more on two
/// busy cores (caches, the collector's work) from cores left idle (the workers stopped for a collection, or waiting).
/// </summary>
public static class CampaignScalingAlternate
{
    /// <summary>Run <paramref name="warmup"/> unrecorded rounds (tier-up), then <paramref name="rounds"/> recorded ones of <paramref name="seeds"/> seeds each.</summary>
    public static void Run(int rounds, int warmup, int seeds)
    {
        var spec = CampaignParser.ParseFile(CampaignScalingBenchmarks.ExampleYaml()) with { SeedFirst = 1, SeedLast = (ulong)seeds };
        var set = new SeedSet(1, (ulong)seeds);
        var process = Process.GetCurrentProcess();
        var cpu = 0.0; // the last run's process CPU seconds
        var gcs = 0;   // the last run's collections (gen0 and up)
        double Time(int jobs)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var gc0 = GC.CollectionCount(0);
            var clock = Stopwatch.StartNew();
            if (CampaignEngine.Stream(spec, set, 0, jobs, _ => { }).Done != (ulong)seeds) throw new InvalidOperationException("a run did not deliver every seed");
            var wall = clock.Elapsed.TotalSeconds;
            process.Refresh();
            cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
            gcs = GC.CollectionCount(0) - gc0;
            return wall;
        }
        for (var w = 0; w < warmup; w++)
        {
            Time(1);
            Time(2);
        }
        var one = new double[rounds];
        var two = new double[rounds];
        var oneCpu = new double[rounds];
        var twoCpu = new double[rounds];
        var oneGcs = new double[rounds];
        var twoGcs = new double[rounds];
        for (var r = 0; r < rounds; r++)
        {
            if (r % 2 == 0)
            {
                one[r] = Time(1);
                (oneCpu[r], oneGcs[r]) = (cpu, gcs);
                two[r] = Time(2);
                (twoCpu[r], twoGcs[r]) = (cpu, gcs);
            }
            else
            {
                two[r] = Time(2);
                (twoCpu[r], twoGcs[r]) = (cpu, gcs);
                one[r] = Time(1);
                (oneCpu[r], oneGcs[r]) = (cpu, gcs);
            }
        }
        var ratios = Stats.Quartiles([.. one.Zip(two, (a, b) => a / b)]);
        Console.WriteLine($"// 1 -> 2 jobs, campaigns/example.yaml seeds 1..{seeds}, {rounds} interleaved rounds after {warmup} warm-up rounds; " +
                          $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC; DOTNET_TieredPGO={Environment.GetEnvironmentVariable("DOTNET_TieredPGO") ?? "(default)"}; " +
                          $"ended {DateTime.UtcNow:HH:mm:ss} UTC");
        Console.WriteLine($"one job: median {seeds / Stats.Quartiles(one).Median:0} seeds/s; two jobs: median {seeds / Stats.Quartiles(two).Median:0} seeds/s");
        Console.WriteLine($"scaling (one-job time / two-job time per round): median {ratios.Median:0.000}, quartiles {ratios.Lower:0.000}–{ratios.Upper:0.000}");
        Console.WriteLine("rounds: " + string.Join(" ", one.Zip(two, (a, b) => $"{a / b:0.00}")));
        var cpuRatio = Stats.Quartiles([.. oneCpu.Zip(twoCpu, (a, b) => b / a)]);
        Console.WriteLine($"process CPU per seed: one job median {Stats.Quartiles(oneCpu).Median / seeds * 1e6:0.0} µs, two jobs {Stats.Quartiles(twoCpu).Median / seeds * 1e6:0.0} µs; " +
                          $"two-job CPU / one-job CPU per round: median {cpuRatio.Median:0.000}, quartiles {cpuRatio.Lower:0.000}–{cpuRatio.Upper:0.000}");
        Console.WriteLine($"collections per run: one job median {Stats.Quartiles(oneGcs).Median:0}, two jobs {Stats.Quartiles(twoGcs).Median:0}");
        Console.WriteLine($"cores busy (CPU / wall): one job median {Stats.Quartiles([.. oneCpu.Zip(one, (c, w) => c / w)]).Median:0.000}, two jobs {Stats.Quartiles([.. twoCpu.Zip(two, (c, w) => c / w)]).Median:0.000}");
    }
}
