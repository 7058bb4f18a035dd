using KernelSim.Scenarios.Campaigns;
using KernelSim.Scenarios.Walkthroughs;
using KernelSim.Scenarios.Rendering;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios.Runtime;
using KernelSim.Trace;

namespace KernelSim.Cli.Rendering;

/// <summary>
/// Prints scenario results for people: one line per step (what ran and what it returned), failed
/// expectations naming the scenario, step and expectation with expected vs actual, and a verdict. In story
/// mode (walkthroughs) also the story, each step's narration, what changed on the machine and what was checked.
/// With <paramref name="mermaidStep"/>, --trace mermaid draws only that step of each scenario.
/// </summary>
public sealed class ScenarioTextReport(Terminal term, bool story, TraceFormat traceFormat, int? mermaidStep = null)
{
    public void Write(ScenarioResult r)
    {
        var s = r.Scenario;
        var trace = traceFormat == TraceFormat.None && s.Machine.Trace ? TraceFormat.Text : traceFormat;
        term.Heading($"scenario {s.Name}{(s.Title != null ? ": " + s.Title : "")}");
        if (story && s.Story != null)
        {
            term.Line();
            foreach (var line in s.Story.TrimEnd().Split('\n')) term.Line(line.Length == 0 ? "" : "  " + line);
            term.Line();
        }
        foreach (var line in r.Setup) term.Line("  setup: " + line);
        foreach (var e in r.SetupErrors) term.Styled($"  FAIL scenario {s.Name}, setup: {e}", "red");
        foreach (var step in r.Steps)
        {
            if (story && step.Spec.Say != null)
            {
                term.Line();
                foreach (var line in step.Spec.Say.Split('\n')) term.Line("  " + line);
            }
            var res = step.Result.Text;
            term.Line($"  [{step.Spec.Index}] {step.Spec.Step.Describe}{(res.StartsWith('=') ? " " : ": ")}{res}");
            if (story) foreach (var d in step.Details) term.Line("      " + d);
            if (step.Result.Outcome?.StartsWith("error:", StringComparison.Ordinal) == true)
                term.Styled($"  FAIL scenario {s.Name}, step {step.Spec.Index} ({step.Spec.Step.Describe}) at {Loc(s.File, step.Spec.Mark)}: {step.Result.Outcome}", "red");
            foreach (var c in step.Checks)
            {
                if (c.Failure == null)
                {
                    if (story) term.Line($"      checked: {c.Expectation.Describe}");
                    continue;
                }
                term.Styled($"  FAIL scenario {s.Name}, step {step.Spec.Index} ({step.Spec.Step.Describe}), expect {c.Expectation.Key} at {Loc(s.File, c.Expectation.Mark)}: {c.Failure}", "red");
            }
            if (trace == TraceFormat.Text && step.TraceTo > step.TraceFrom)
            {
                term.Line("      ftrace (function_graph):");
                term.Block(FunctionGraphText.Render(Slice(r, step)), "      ");
            }
        }
        if (trace == TraceFormat.Mermaid && mermaidStep is { } n)
        {
            var only = r.Steps.FirstOrDefault(st => st.Spec.Index == n);
            if (only == null) term.Line($"(scenario {s.Name} has no step {n}: it has {r.Steps.Count})");
            else if (only.TraceTo <= only.TraceFrom) term.Line($"(step {n} of {s.Name} traced no kernel function)");
            else
            {
                term.Line("```mermaid");
                term.Writer.Write(WalkthroughPage.Diagram(r, only));
                term.Line("```");
            }
        }
        else if (trace == TraceFormat.Mermaid)
        {
            term.Line("```mermaid");
            term.Writer.Write(MermaidSequence.Render(r.Machine.Tracer.Records));
            term.Line("```");
        }
        var verdict = r.Passed
            ? $"PASS {s.Name}: {r.Steps.Count} step(s), {r.ExpectationCount} expectation(s) hold"
            : $"FAIL {s.Name}: {r.FailureCount} of {r.ExpectationCount} expectation(s) failed";
        term.Styled(verdict, r.Passed ? "green" : "bold red");
    }

    public static List<TraceRecord> Slice(ScenarioResult r, StepRecord step)
    {
        var all = r.Machine.Tracer.Records;
        var list = new List<TraceRecord>(step.TraceTo - step.TraceFrom);
        for (var i = step.TraceFrom; i < step.TraceTo && i < all.Count; i++) list.Add(all[i]);
        return list;
    }

    public static string Loc(string file, YamlDotNet.Core.Mark m) => $"{file}:{m.Line}:{m.Column}";
}
