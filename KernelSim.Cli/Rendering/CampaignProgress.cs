using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace KernelSim.Cli.Rendering;

/// <summary>How `campaign --progress` reports: a bar, a plain periodic line, or nothing.</summary>
internal enum ProgressMode
{
    /// <summary>A bar when stderr is an interactive terminal, a plain line on a dumb one, nothing when stderr is redirected.</summary>
    Auto,
    Bar,
    Plain,
    None,
}

/// <summary>
/// Progress of a campaign on stderr (never stdout, so results stay clean): seeds done/total, rate and ETA,
/// as a Spectre.Console bar or as a plain line every few seconds (logs of batch jobs).
/// </summary>
internal static class CampaignProgress
{
    /// <summary>Seconds between two plain lines.</summary>
    public const int PlainPeriodSeconds = 5;

    public static ProgressMode Resolve(ProgressMode mode, bool errorIsTerminal)
    {
        if (mode != ProgressMode.Auto) return mode;
        if (!errorIsTerminal) return ProgressMode.None;
        return string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal) ? ProgressMode.Plain : ProgressMode.Bar;
    }

    /// <summary>Run <paramref name="work"/>, which calls its argument once per finished seed, with progress shown.</summary>
    public static T Run<T>(ProgressMode mode, TextWriter err, string name, ulong done, ulong total, Func<Action, T> work)
    {
        switch (mode)
        {
            case ProgressMode.Bar:
            {
                // The bar is only chosen for a terminal on stderr: say so, since a TextWriter hides it from Spectre.
                var console = AnsiConsole.Create(new AnsiConsoleSettings
                {
                    Out = new AnsiConsoleOutput(err),
                    Ansi = AnsiSupport.Yes,
                    Interactive = InteractionSupport.Yes,
                });
                console.Profile.Width = TerminalWidth();
                T result = default!;
                console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new CountColumn(), new RateColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"campaign {name}", maxValue: total);
                        task.Value = done;
                        result = work(() => task.Increment(1));
                    });
                return result;
            }
            case ProgressMode.Plain:
            {
                var clock = Stopwatch.StartNew();
                long count = 0;
                var gate = new object();
                void Report(bool final)
                {
                    var n = (ulong)Interlocked.Read(ref count);
                    lock (gate) err.Write(PlainLine(name, done + n, total, n, clock.Elapsed, final) + "\n");
                    err.Flush();
                }
                using var timer = new Timer(_ => Report(false), null, TimeSpan.FromSeconds(PlainPeriodSeconds), TimeSpan.FromSeconds(PlainPeriodSeconds));
                var r = work(() => Interlocked.Increment(ref count));
                timer.Dispose();
                Report(true);
                return r;
            }
            default:
                return work(() => { });
        }
    }

    private static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    /// <summary>"campaign NAME: 1200/10000 seeds (12.0%), 95.2 seeds/s, ETA 1m32s" (or "in 12.6s" when final).</summary>
    public static string PlainLine(string name, ulong done, ulong total, ulong ranNow, TimeSpan elapsed, bool final)
    {
        var ci = CultureInfo.InvariantCulture;
        var rate = elapsed.TotalSeconds > 0 ? ranNow / elapsed.TotalSeconds : 0;
        var pct = total == 0 ? 100.0 : 100.0 * done / total;
        var tail = final ? $"in {Duration(elapsed)}" : rate > 0 ? $"ETA {Duration(TimeSpan.FromSeconds((total - done) / rate))}" : "ETA unknown";
        return string.Create(ci, $"campaign {name}: {done}/{total} seeds ({pct:0.0}%), {rate:0.0} seeds/s, {tail}");
    }

    private static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h{t.Minutes:00}m")
        : t.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes}m{t.Seconds:00}s")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.0}s");

    private sealed class CountColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(string.Create(CultureInfo.InvariantCulture, $"{(ulong)task.Value}/{(ulong)task.MaxValue} seeds"));
    }

    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:0.0} seeds/s") : "");
    }
}
