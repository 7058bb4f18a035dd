using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace KernelSim.Bench.TraceOff;

/// <summary>
/// <c>--traceoff-alternate</c>: the rows of <see cref="TraceOffReads"/> with the two builds interleaved many times in
/// one process. A round times, per row and per pair of copies (copy c of each build), one batch of each build, in
/// alternating order (no-trace first when round + c is even); the round's ratio is the geometric mean over the copies
/// of the tracing-off times over that of the no-trace times. Per row it prints the median of the rounds' ratios and
/// its quartiles, which is the figure that can decide the ≤ 2 % target: a slow phase of the machine falls on both
/// builds of a round alike, the median drops the rounds it split, and the copies average out code and data placement
/// (the spread between the copies of one build is printed beside it).
/// </summary>
public static class TraceOffAlternate
{
    /// <summary>Time per batch the batch sizes are chosen for: long against the clock's cost, short against load bursts.</summary>
    private const double BatchNanoseconds = 1e6;

    /// <summary>Run <paramref name="warmup"/> unrecorded rounds (tier-up), then <paramref name="rounds"/> recorded ones.</summary>
    public static void Run(int rounds, int warmup, int copies)
    {
        var rows = TraceOffReads.Create(copies);
        // Loops[row][build][copy]: one copy of the timing loop for each read (see NewLoop).
        var loops = rows.Select((_, i) => new[] { 0, 1 }.Select(b => Enumerable.Range(0, copies).Select(c => NewLoop((i * 2 + b) * copies + c)).ToArray()).ToArray()).ToArray();
        var batch = rows.Select((r, i) => Calibrate(r.NoTraceCalls[0], loops[i][0][0])).ToArray();
        var times = rows.Select(_ => new double[2, copies]).ToArray();
        var warm = rows.Select(_ => new double[warmup]).ToArray();
        for (var w = 0; w < warmup; w++)
            for (var i = 0; i < rows.Length; i++)
            {
                Round(rows[i], loops[i], batch[i], w, times[i]);
                warm[i][w] = times[i][0, 0];
            }
        // Batch sizes again from the second half of the warm-up (tiered-up code): the median time per call.
        batch = warm.Select(t => Math.Max(1, (int)(BatchNanoseconds / Stats.Quartiles(t[(warmup / 2)..]).Median))).ToArray();

        var ratios = rows.Select(_ => new double[rounds]).ToArray();
        var perCopy = rows.Select(_ => new double[2, copies, rounds]).ToArray();
        for (var r = 0; r < rounds; r++)
            for (var i = 0; i < rows.Length; i++)
            {
                Round(rows[i], loops[i], batch[i], r, times[i]);
                double logNoTrace = 0, logTracingOff = 0;
                for (var c = 0; c < copies; c++)
                {
                    (perCopy[i][0, c, r], perCopy[i][1, c, r]) = (times[i][0, c], times[i][1, c]);
                    logNoTrace += Math.Log(times[i][0, c]);
                    logTracingOff += Math.Log(times[i][1, c]);
                }
                ratios[i][r] = Math.Exp((logTracingOff - logNoTrace) / copies);
            }

        Console.WriteLine($"// tracing off against no trace calls, one process, {copies} copies of each build, {rounds} interleaved rounds " +
                          $"after {warmup} warm-up rounds; clock: {Clock.Name}; DOTNET_TieredPGO={Environment.GetEnvironmentVariable("DOTNET_TieredPGO") ?? "(default)"}; " +
                          $"ended {DateTime.UtcNow:HH:mm:ss} UTC{LoadAverage()}");
        Console.WriteLine($"{"row",-16}{"calls/batch",12}{"no trace ns",13}{"tracing off ns",16}{"ratio median",14}{"quartiles",18}" +
                          "   copies' medians, ns: no trace | tracing off");
        for (var i = 0; i < rows.Length; i++)
        {
            var q = Stats.Quartiles(ratios[i]);
            double[] Medians(int build) => Enumerable.Range(0, copies).Select(c => Stats.Quartiles(Enumerable.Range(0, rounds).Select(r => perCopy[i][build, c, r]).ToArray()).Median).ToArray();
            var (a, b) = (Medians(0), Medians(1));
            static string List(double[] v) => string.Join(' ', v.Select(x => x < 1000 ? x.ToString("0.0") : x.ToString("0")));
            Console.WriteLine($"{rows[i].Name,-16}{batch[i],12}{GeoMean(a),13:F1}{GeoMean(b),16:F1}{q.Median,14:F4}{$"{q.Lower:F4}–{q.Upper:F4}",18}   {List(a)} | {List(b)}");
        }
    }

    /// <summary>One round of a row: ns per call of each build's copies into <paramref name="times"/>[build, copy].</summary>
    private static void Round(TraceOffRow row, Func<Func<long>, int, double>[][] loops, int calls, int round, double[,] times)
    {
        for (var c = 0; c < row.NoTraceCalls.Length; c++)
        {
            if ((round + c) % 2 == 0)
            {
                times[0, c] = loops[0][c](row.NoTraceCalls[c], calls);
                times[1, c] = loops[1][c](row.TracingOff[c], calls);
            }
            else
            {
                times[1, c] = loops[1][c](row.TracingOff[c], calls);
                times[0, c] = loops[0][c](row.NoTraceCalls[c], calls);
            }
        }
    }

    /// <summary>Calls per batch so that a batch takes about <see cref="BatchNanoseconds"/> (a first guess, before tier-up).</summary>
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
    /// The <paramref name="n"/>th copy of the timing loop: <see cref="Time{TLoop}"/> over a struct type of its own
    /// (Level&lt;Level&lt;…Level0&gt;&gt;, n deep). A generic method is compiled once per struct type argument, so each
    /// read has its own loop, whose delegate call sees one target, and dynamic PGO cannot favour one build's reads.
    /// </summary>
    private static Func<Func<long>, int, double> NewLoop(int n)
    {
        var type = typeof(Level0);
        for (var i = 0; i < n; i++) type = typeof(Level<>).MakeGenericType(type);
        return typeof(TraceOffAlternate).GetMethod(nameof(Time), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(type).CreateDelegate<Func<Func<long>, int, double>>();
    }

    private struct Level0 { }

    private struct Level<T> where T : struct { }

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

    private static double GeoMean(double[] v) => Math.Exp(v.Average(Math.Log));

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
