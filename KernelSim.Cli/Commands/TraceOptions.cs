using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KernelSim.Kernel;
using KernelSim.Scenarios.Runtime;
using KernelSim.Trace;

namespace KernelSim.Cli.Commands;

/// <summary>--step N (with --trace mermaid, `run` and `walkthrough`) and --trace-out FILE (pure trace-event JSON; also `replay`).</summary>
internal static class TraceOptions
{
    /// <summary>--step N: draw only step N's sequence diagram.</summary>
    public static Option<int?> Step() => new("--step")
    {
        Description = "With --trace mermaid: draw only step N of each scenario (numbered as in the report)",
        HelpName = "N",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1) return n;
            r.AddError($"--step '{text}': expected a step number, 1 or more");
            return null;
        },
    };

    /// <summary>--trace-out FILE: the Chrome trace-event JSON of every scenario, alone in FILE.</summary>
    public static Option<string?> Out() => new("--trace-out")
    {
        Description = "Write the trace of every run to FILE as Chrome trace-event JSON (nothing else in the file; open it in Perfetto)",
        HelpName = "FILE",
    };

    /// <summary>Refuse --step without --trace mermaid (a usage error).</summary>
    public static void RequireMermaidForStep(Command cmd, Option<int?> step, Option<string?> trace) =>
        cmd.Validators.Add(r =>
        {
            if (r.GetResult(step) != null && r.GetValue(trace) != "mermaid") r.AddError("--step needs --trace mermaid");
        });

    /// <summary>Write the results' traces to <paramref name="file"/>; null on success, else the error message.</summary>
    public static string? Write(string file, IReadOnlyList<ScenarioResult> results) =>
        Write(file, results.Select(r => new ChromeTraceProcess($"{r.Scenario.Name} (Linux {r.Scenario.Machine.Kernel})", r.Machine.Tracer.Records)).ToList());

    /// <summary>Write the traces of <paramref name="machines"/> (name, machine) to <paramref name="file"/>; null on success, else the error message.</summary>
    public static string? Write(string file, IReadOnlyList<(string Name, Machine Machine)> machines) =>
        Write(file, machines.Select(m => new ChromeTraceProcess(m.Name, m.Machine.Tracer.Records)).ToList());

    private static string? Write(string file, IReadOnlyList<ChromeTraceProcess> processes)
    {
        if (Directory.Exists(file)) return $"{file}: is a directory";
        try
        {
            File.WriteAllText(file, ChromeTrace.Render(processes));
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"{file}: {e.Message}";
        }
    }
}
