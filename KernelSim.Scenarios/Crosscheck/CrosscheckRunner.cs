using System.Text;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;

namespace KernelSim.Scenarios.Crosscheck;

/// <summary>
/// `kernelsim crosscheck`: for each scenario, translate it, run the simulator on the kernel package's release
/// (machine.kernel replaced), boot the guest when a step can run, and compare step by step.
/// </summary>
public sealed class CrosscheckRunner(IKernelPackages packages, IGuestRunner guest)
{
    /// <summary>Cross-check the scenarios of one file (its text is needed to read the steps' arguments).</summary>
    public IReadOnlyList<CrosscheckScenario> Run(IReadOnlyList<Scenario> scenarios, string fileText, string package)
    {
        var kernel = packages.Prepare(package);
        var list = new List<CrosscheckScenario>();
        foreach (var s in scenarios)
        {
            var program = GuestTranslator.Translate(s, fileText);
            var sim = ScenarioRunner.Run(s with { Machine = s.Machine with { Kernel = kernel.Version } });
            var run = program.AnyRunnable ? guest.Run(program, kernel) : null;
            list.Add(CrosscheckComparer.Compare(program, sim, run, package));
        }
        return list;
    }

    /// <summary>The per-step table of one scenario (plain text, one row per step).</summary>
    public static string Render(CrosscheckScenario c)
    {
        var sb = new StringBuilder();
        sb.Append($"scenario {c.Scenario} on {c.KernelPackage} (simulator profile {c.Profile}): {c.Boot}\n");
        foreach (var s in c.Steps)
        {
            var what = s.Verdict switch
            {
                CrosscheckVerdict.Agree => $"agree       {s.Linux}",
                CrosscheckVerdict.Differ => $"DIFFER      simulator: {s.Simulator} | linux: {s.Linux}",
                _ => $"cannot run  {s.Reason}",
            };
            sb.Append($"  [{s.Index}] {s.Describe}\n      {what}\n");
        }
        sb.Append($"  {c.Count(CrosscheckVerdict.Agree)} agree, {c.Count(CrosscheckVerdict.Differ)} differ, {c.Count(CrosscheckVerdict.CannotRun)} cannot run\n");
        return sb.ToString();
    }
}
