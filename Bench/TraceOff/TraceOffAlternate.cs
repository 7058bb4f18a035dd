using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KernelSim.Bench.TraceOff;

/// <summary>
/// <c>--traceoff-alternate</c>: the rows of <see cref="TraceOffReads"/> with the two builds interleaved many times in
/// one process. Each round times one batch of each build per row, in the order no-trace, tracing-off on even rounds
/// and the reverse on odd ones; the round's ratio is tracing-off / no-trace. Per row it prints the median of the
/// rounds' ratios and its spread (quartiles), which is the figure that can decide the ≤ 2 % target: a slow phase of
/// the machine falls on both builds of a round alike, and the median drops the rounds it split.
/// </summary>
public static class TraceOffAlternate
{
    /// <summary>Time per batch the batch sizes are chosen for: long against the clock's cost, short against load bursts.</summary>
    private const double BatchNanoseconds = 2e6;

    /// <summary>Run <paramref name="warmup"/> unrecorded rounds (tier-up), then <paramref name="rounds"/> recorded ones.</summary>
    public static void Run(int rounds, int warmup)
    {
        var rows = TraceOffReads.Rows;
        if (rows.Length * 2 > Loops.Length) throw new InvalidOperationException("one timing loop per row and build is needed");
        int[] Calibrated() => rows.Select((r, i) => Calibrate(r.NoTraceCalls, Loops[2 * i])).ToArray();
        var batch = Calibrated();
        for (var w = 0; w < warmup; w++)
            for (var i = 0; i < rows.Length; i++) Round(rows[i], i, batch[i], w);
        batch = Calibrated(); // again with the tiered-up code

        var ratios = rows.Select(_ => new double[rounds]).ToArray();
        var noTrace = rows.Select(_ => new double[rounds]).ToArray();
        var tracingOff = rows.Select(_ => new double[rounds]).ToArray();
        for (var r = 0; r < rounds; r++)
            for (var i = 0; i < rows.Length; i++)
            {
                (noTrace[i][r], tracingOff[i][r]) = Round(rows[i], i, batch[i], r);
                ratios[i][r] = tracingOff[i][r] / noTrace[i][r];
            }

        Console.WriteLine($"// tracing off against no trace calls, one process, {rounds} interleaved rounds after {warmup} warm-up rounds; " +
                          $"clock: {Clock.Name}; DOTNET_TieredPGO={Environment.GetEnvironmentVariable("DOTNET_TieredPGO") ?? "(default)"}; " +
                          $"ended {DateTime.UtcNow:HH:mm:ss} UTC{LoadAverage()}");
        Console.WriteLine($"{"row",-16}{"calls/batch",12}{"no trace ns",13}{"tracing off ns",16}{"ratio median",14}  quartiles of the ratio");
        for (var i = 0; i < rows.Length; i++)
        {
            var q = Quartiles(ratios[i]);
            Console.WriteLine($"{rows[i].Name,-16}{batch[i],12}{Quartiles(noTrace[i]).Median,13:F1}{Quartiles(tracingOff[i]).Median,16:F1}" +
                              $"{q.Median,14:F4}  {q.Lower:F4}–{q.Upper:F4}");
        }
    }

    /// <summary>One round of a row: ns per call of each build, the order alternating with the round.</summary>
    private static (double NoTrace, double TracingOff) Round(TraceOffRow row, int index, int calls, int round)
    {
        var (noTraceLoop, tracingOffLoop) = (Loops[2 * index], Loops[2 * index + 1]);
        if (round % 2 == 0)
        {
            var a = noTraceLoop(row.NoTraceCalls, calls);
            return (a, tracingOffLoop(row.TracingOff, calls));
        }
        var b = tracingOffLoop(row.TracingOff, calls);
        return (noTraceLoop(row.NoTraceCalls, calls), b);
    }

    /// <summary>Calls per batch so that a batch takes about <see cref="BatchNanoseconds"/> (after a first tier-up).</summary>
    private static int Calibrate(Func<long> read, Func<Func<long>, int, double> loop)
    {
        var perCall = loop(read, 1);
        for (var calls = 1; calls < 1 << 20; calls *= 2)
        {
            perCall = loop(read, calls);
            if (perCall * calls > BatchNanoseconds / 8) break;
        }
        return Math.Max(1, (int)(BatchNanoseconds / perCall));
    }

    /// <summary>
    /// One copy of the timing loop per row and build: a generic method is compiled once per struct type argument, so
    /// each copy's delegate call sees one target, and dynamic PGO cannot favour whichever build it profiled first.
    /// </summary>
    private static readonly Func<Func<long>, int, double>[] Loops =
        [Time<L0>, Time<L1>, Time<L2>, Time<L3>, Time<L4>, Time<L5>, Time<L6>, Time<L7>];

    private struct L0 { }
    private struct L1 { }
    private struct L2 { }
    private struct L3 { }
    private struct L4 { }
    private struct L5 { }
    private struct L6 { }
    private struct L7 { }

    /// <summary>Nanoseconds per call over <paramref name="calls"/> calls; throws if a read did not move all its bytes.</summary>
    private static double Time<TLoop>(Func<long> read, int calls) where TLoop : struct
    {
        var expected = read();
        var start = Clock.Now();
        for (var i = 0; i < calls; i++)
            if (read() != expected) throw new InvalidOperationException("a read returned a different count: the benchmark must be fault-free");
        return (Clock.Now() - start) / (double)calls;
    }

    /// <summary>", load average 1.23 1.45 1.67" from /proc/loadavg where there is one: the figures mean little without it.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? ", load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";

    private static (double Lower, double Median, double Upper) Quartiles(double[] values)
    {
        var s = values.Order().ToArray();
        double At(double q) => s[(int)Math.Round(q * (s.Length - 1))];
        return (At(0.25), At(0.5), At(0.75));
    }

    /// <summary>
    /// The thread's CPU time on Linux (clock_gettime(CLOCK_THREAD_CPUTIME_ID)): time the thread was descheduled by
    /// the other jobs of a loaded machine is not counted. Wall-clock time elsewhere.
    /// </summary>
    private static class Clock
    {
        private const int CLOCK_THREAD_CPUTIME_ID = 3;
        private static readonly bool ThreadCpu = OperatingSystem.IsLinux() && ClockGetTime(CLOCK_THREAD_CPUTIME_ID, out _) == 0;

        public static string Name => ThreadCpu ? "thread CPU time" : "wall clock (Stopwatch)";

        public static long Now()
        {
            if (!ThreadCpu) return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
            ClockGetTime(CLOCK_THREAD_CPUTIME_ID, out var ts);
            return ts.Seconds * 1_000_000_000 + ts.Nanoseconds;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport("libc", EntryPoint = "clock_gettime")]
        private static extern int ClockGetTime(int clock, out Timespec ts);
    }
}
