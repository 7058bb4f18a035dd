using KernelSim.Scenarios.Campaigns;
using KernelSim.Scenarios.Walkthroughs;
using KernelSim.Scenarios.Rendering;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios;
using KernelSim.Scenarios.Runtime;
using KernelSim.Profiles;

namespace KernelSim.Cli.Rendering;

/// <summary>Runs a walkthrough: its scenarios in story mode (narration, what changed, what was checked).</summary>
public static class WalkthroughRunner
{
    /// <summary>Run and print; the results (for the docs page). Exit code: 0 when every expectation holds, else 1.</summary>
    /// <remarks>
    /// <paramref name="kernel"/> and <paramref name="cpu"/> run every scenario on that release / CPU model instead of
    /// its own (a what-if: the expectations were written for the file's machines and may then fail).
    /// </remarks>
    public static (int Code, IReadOnlyList<ScenarioResult> Results) Run(Walkthrough w, Terminal term, TraceFormat trace = TraceFormat.None,
        KernelVersion? kernel = null, CpuModel? cpu = null, int? mermaidStep = null)
    {
        var scenarios = ScenarioParser.ParseText(w.File, w.Text());
        term.Heading($"KernelSim walkthrough {w.Name}: {w.Title}");
        term.Line("Every value below is computed by the simulator; each step's expectations are checked.");
        if (kernel != null || cpu != null)
        {
            term.Line($"What-if: every scenario runs on{(kernel != null ? $" Linux {kernel}" : "")}{(cpu != null ? $" cpu={cpu.Name}" : "")} instead of its own machine; expectations written for the original machines may fail.");
            scenarios = scenarios.Select(s => s with { Machine = s.Machine with { Kernel = kernel ?? s.Machine.Kernel, Cpu = cpu ?? s.Machine.Cpu } }).ToList();
        }
        var report = new ScenarioTextReport(term, story: true, trace, mermaidStep);
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
