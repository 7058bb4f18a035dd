using KernelSim.Cli.Rendering;
using KernelSim.Cli.Scenarios;
using KernelSim.Cli.Scenarios.Rendering;
using KernelSim.Cli.Scenarios.Runtime;

namespace KernelSim.Cli.Walkthroughs;

/// <summary>Runs a walkthrough: its scenarios in story mode (narration, what changed, what was checked).</summary>
internal static class WalkthroughRunner
{
    /// <summary>Run and print; the results (for the docs page). Exit code: 0 when every expectation holds, else 1.</summary>
    public static (int Code, IReadOnlyList<ScenarioResult> Results) Run(Walkthrough w, Terminal term, TraceFormat trace = TraceFormat.None)
    {
        var scenarios = ScenarioParser.ParseText(w.File, w.Text());
        term.Heading($"KernelSim walkthrough {w.Name}: {w.Title}");
        term.Line("Every value below is computed by the simulator; each step's expectations are checked.");
        var report = new ScenarioTextReport(term, story: true, trace);
        var results = new List<ScenarioResult>();
        foreach (var s in scenarios)
        {
            term.Line();
            var r = ScenarioRunner.Run(s);
            results.Add(r);
            report.Write(r);
        }
        term.Line();
        var failed = results.Count(r => !r.Passed);
        term.Line(failed == 0
            ? $"Done: {results.Count} scenario(s), every expectation holds. The scenario file is {w.File}; run it with: kernelsim run {w.File}"
            : $"{failed} of {results.Count} scenario(s) FAILED.");
        return (failed == 0 ? 0 : 1, results);
    }
}
