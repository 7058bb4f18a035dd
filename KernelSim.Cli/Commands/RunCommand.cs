using System.CommandLine;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Rendering;
using KernelSim.Scenarios.Runtime;
using KernelSim.Profiles;
using KernelSim.Trace;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim run FILE... [--kernel V] [--cpu M] [--trace text|chrome|mermaid [--step N]] [--trace-out FILE] [--json]
/// [--html FILE [--profiles V,...]]`: run scenario files. Exit 0 when every expectation holds, 1 when one fails, 65
/// for an unusable file (YAML error, unknown step or key) with file:line:column on stderr, 66 for a file that
/// cannot be read, 73 when --trace-out cannot be written (<see cref="ExitCodes"/>).
/// </summary>
internal static class RunCommand
{
    public const int ExpectationFailed = ExitCodes.CheckFailed;

    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var files = new Argument<string[]>("file")
        {
            Description = "Scenario files (YAML; see docs/scenarios.md)",
            Arity = ArgumentArity.OneOrMore,
        }.NoOptions();
        var kernel = CommonOptions.Kernel("Run every scenario on this kernel release instead of its machine.kernel");
        var cpu = CommonOptions.Cpu();
        var trace = new Option<string?>("--trace")
        {
            Description = "Print the trace: text (ftrace function_graph after each step), chrome (trace-event JSON for Perfetto on stdout; the report goes to stderr), mermaid (a sequence diagram per scenario)",
            HelpName = "text|chrome|mermaid",
        };
        trace.AcceptOnlyFromAmong("text", "chrome", "mermaid");
        var json = new Option<bool>("--json") { Description = "Print a machine-readable result per scenario (JSON) instead of the report" };
        var step = TraceOptions.Step();
        var traceOut = TraceOptions.Out();
        var html = HtmlOptions.Html();
        var profiles = HtmlOptions.Profiles();
        var cmd = new Command("run", "Run scenario files and check their expectations") { files, kernel, cpu, trace, step, traceOut, json, html, profiles };
        TraceOptions.RequireMermaidForStep(cmd, step, trace);
        HtmlOptions.Validate(cmd, html, profiles, trace, step, traceOut, json);
        cmd.SetAction(r => Run(r.GetValue(files) ?? [], r.GetValue(kernel), r.GetValue(cpu), Parse(r.GetValue(trace)), r.GetValue(json), terminal(), errorTerminal(),
            r.GetValue(step), r.GetValue(traceOut), r.GetValue(html), r.GetValue(profiles)));
        return cmd;
    }

    public static TraceFormat Parse(string? s) => s switch
    {
        "text" => TraceFormat.Text,
        "chrome" => TraceFormat.Chrome,
        "mermaid" => TraceFormat.Mermaid,
        _ => TraceFormat.None,
    };

    public static int Run(string[] files, KernelVersion? kernel, CpuModel? cpu, TraceFormat trace, bool json, Terminal term, Terminal err,
        int? step = null, string? traceOut = null, string? html = null, KernelVersion[]? profiles = null)
    {
        var (scenarios, loadCode) = Load(files, err);
        if (loadCode != 0) return loadCode;

        for (var i = 0; i < scenarios.Count; i++)
        {
            var m = scenarios[i].Machine;
            if (kernel is { } k) m = m with { Kernel = k };
            if (cpu != null) m = m with { Cpu = cpu };
            scenarios[i] = scenarios[i] with { Machine = m };
        }
        if (html != null)
        {
            var source = string.Join(", ", files);
            return HtmlOptions.Write(html, $"KernelSim: {source}", null, source, "kernelsim run " + string.Join(' ', files), scenarios, profiles ?? [], null, term, err);
        }
        var results = new List<ScenarioResult>();
        foreach (var s in scenarios) results.Add(ScenarioRunner.Run(s));
        if (traceOut != null && TraceOptions.Write(traceOut, results) is { } writeError)
        {
            err.Line($"kernelsim: {writeError}");
            err.Writer.Flush();
            return ExitCodes.CannotCreate;
        }
        var passed = results.Count(r => r.Passed);
        if (json)
        {
            term.Writer.Write(ScenarioJsonReport.Render(results, trace));
        }
        else
        {
            // With --trace chrome, stdout carries only the JSON document; the report goes to stderr.
            var reportTo = trace == TraceFormat.Chrome ? err : term;
            var report = new ScenarioTextReport(reportTo, story: false, trace == TraceFormat.Chrome ? TraceFormat.None : trace, step);
            for (var i = 0; i < results.Count; i++)
            {
                if (i > 0) reportTo.Line();
                report.Write(results[i]);
            }
            reportTo.Line();
            reportTo.Line($"{results.Count} scenario(s): {passed} passed, {results.Count - passed} failed");
            if (trace == TraceFormat.Chrome)
                term.Writer.Write(ChromeTrace.Render(results.Select(r => new ChromeTraceProcess($"{r.Scenario.Name} (Linux {r.Scenario.Machine.Kernel})", r.Machine.Tracer.Records)).ToList()));
        }
        term.Writer.Flush();
        err.Writer.Flush();
        return passed == results.Count ? 0 : ExpectationFailed;
    }

    /// <summary>
    /// Parse every file, notes (a point release) and problems on stderr. The code is 0, 66 when a file cannot be read
    /// or 65 when one is not a usable scenario file.
    /// </summary>
    public static (List<Scenario> Scenarios, int Code) Load(IEnumerable<string> files, Terminal err)
    {
        var scenarios = new List<Scenario>();
        var code = 0;
        foreach (var f in files)
        {
            if (InputFiles.Read(f, err) is not { } text)
            {
                code = ExitCodes.NoInput;
                continue;
            }
            var notes = new List<string>();
            try
            {
                scenarios.AddRange(ScenarioParser.ParseText(f, text, notes));
            }
            catch (ScenarioException e)
            {
                err.Line($"kernelsim: {e.Message}");
                if (code == 0) code = ExitCodes.DataError;
            }
            foreach (var n in notes) err.Line($"kernelsim: {n}");
        }
        err.Writer.Flush();
        return (scenarios, code);
    }
}
