using System.Text.RegularExpressions;
using KernelSim.Scenarios.Runtime;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Crosscheck;

/// <summary>A step's verdict.</summary>
public enum CrosscheckVerdict
{
    /// <summary>The simulator and Linux saw the same.</summary>
    Agree,
    /// <summary>They did not (expected = the simulator, actual = Linux).</summary>
    Differ,
    /// <summary>The emulated platform cannot run the step.</summary>
    CannotRun,
}

/// <summary>One compared step: what the simulator and Linux saw, or why it could not run.</summary>
public sealed record CrosscheckStep(int Index, string Describe, CrosscheckVerdict Verdict, string Simulator, string Linux, string? Reason);

/// <summary>One scenario on one kernel package.</summary>
/// <param name="Scenario">The scenario's name.</param>
/// <param name="KernelPackage">The package booted.</param>
/// <param name="Profile">The simulator profile compared with ("6.12").</param>
/// <param name="Boot">How the boot ended ("completed", "panic: …", "hang: …", "not booted: …", "failed: …").</param>
/// <param name="Steps">Per step.</param>
public sealed record CrosscheckScenario(string Scenario, string KernelPackage, string Profile, string Boot, IReadOnlyList<CrosscheckStep> Steps)
{
    public int Count(CrosscheckVerdict v) => Steps.Count(s => s.Verdict == v);
}

/// <summary>
/// Compares a simulator run with a guest run step by step. Both sides are reduced to the same observation text:
/// the return value (a descriptor or an address only as "fd"/"addr", since numbering and layout differ; a user
/// access as the bytes it did), the signals with si_code, si_addr as mapping+offset and si_addr_lsb, a kill, and
/// the badblocks listing.
/// </summary>
public static partial class CrosscheckComparer
{
    /// <summary>Compare; <paramref name="run"/> is null when nothing was booted (no step can run).</summary>
    public static CrosscheckScenario Compare(GuestProgram program, ScenarioResult sim, GuestRunResult? run, string package)
    {
        var output = run == null ? null : GuestOutput.Parse(run.Console);
        var boot = run == null ? "not booted: no step can run" : Boot(run, output!);
        var steps = new List<CrosscheckStep>();
        foreach (var plan in program.Steps)
        {
            var rec = sim.Steps.FirstOrDefault(r => r.Spec.Index == plan.Index);
            var simText = rec == null ? "(not run)" : Simulator(plan.Name, rec);
            if (plan.CannotRun != null)
            {
                steps.Add(new CrosscheckStep(plan.Index, plan.Describe, CrosscheckVerdict.CannotRun, simText, "", plan.CannotRun));
                continue;
            }
            var linux = Linux(plan.Name, plan.Index, output!, run!);
            steps.Add(new CrosscheckStep(plan.Index, plan.Describe, linux == simText ? CrosscheckVerdict.Agree : CrosscheckVerdict.Differ, simText, linux, null));
        }
        return new CrosscheckScenario(program.Scenario, package, sim.Machine.Profile.Version.ToString(), boot, steps);
    }

    private static string Boot(GuestRunResult run, GuestOutput o) => run.Outcome switch
    {
        GuestRunOutcome.Panicked => "panic: " + (o.Panic ?? run.Message),
        GuestRunOutcome.TimedOut => "hang: " + run.Message,
        GuestRunOutcome.Failed => "failed: " + run.Message,
        _ when o.SetupErrors.Count > 0 => "setup failed: " + string.Join("; ", o.SetupErrors),
        _ => "completed",
    };

    /// <summary>The simulator's observation of a step.</summary>
    public static string Simulator(string step, StepRecord rec)
    {
        var r = rec.Result;
        var parts = new List<string>();
        var killed = rec.Details.Select(d => Killed().Match(d)).FirstOrDefault(m => m.Success);
        if (killed != null) parts.Add(killed.Groups[1].Value);
        else if (r.Ret == null) parts.Add("did not return: " + r.Outcome);
        else if (r.Outcome != null) parts.Add(r.Outcome);
        else parts.Add(Ret(step, r.Ret.Value));
        foreach (var d in rec.Details.Where(d => d.StartsWith("signal: ", StringComparison.Ordinal)))
            parts.Add(Absolute().Replace(d[(d.IndexOf("<- ", StringComparison.Ordinal) + 3)..], "si_addr=unknown"));
        if (step == "badblocks" && !r.Text.Contains("echo", StringComparison.Ordinal))
            parts.AddRange(Quoted().Matches(r.Text).Select(m => $"badblocks \"{m.Groups[1].Value}\""));
        return string.Join("; ", parts);
    }

    /// <summary>Linux's observation of a step, from the guest's console.</summary>
    public static string Linux(string step, int index, GuestOutput o, GuestRunResult run)
    {
        if (!o.Steps.TryGetValue(index, out var st) || !st.Begun)
            return o.SetupErrors.Count > 0 ? "not reached (setup failed)" : "not reached";
        var parts = new List<string>();
        if (st.Ret is { } ret) parts.Add(Ret(step, ret));
        else if (o.KilledBy is { } k && index == o.LastBegun) parts.Add("killed by " + Sig.Name(k));
        else if (run.Outcome == GuestRunOutcome.Panicked) parts.Add("did not return: panic: " + (o.Panic ?? run.Message));
        else if (run.Outcome == GuestRunOutcome.TimedOut) parts.Add("did not return: hang: " + run.Message);
        else parts.Add("did not return");
        foreach (var (signo, code, addr, lsb) in st.Signals)
            parts.Add($"{Sig.Name(signo)} {Sig.CodeName(signo, code)} si_addr={addr} si_addr_lsb={lsb}");
        if (step == "badblocks") parts.AddRange(st.Notes.Select(n => $"badblocks \"{n.Trim()}\""));
        return string.Join("; ", parts);
    }

    private static string Ret(string step, long ret) => step switch
    {
        "load" or "store" => $"{ret} byte(s)",
        "open" when ret >= 0 => "= fd",
        "mmap" or "mmap-file" when ret >= 0 => "= addr",
        _ => "= " + Errno.Describe(ret),
    };

    [GeneratedRegex(@" is now (killed by SIG[A-Z]+)")]
    private static partial Regex Killed();

    [GeneratedRegex(@"si_addr=0x[0-9a-f]+")]
    private static partial Regex Absolute();

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex Quoted();
}
