using System.CommandLine;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Cli.Rendering;
using KernelSim.Profiles;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim shrink SEED --campaign FILE [--kernel V] [--out FILE]`: minimise the seed's plan while its worst
/// outcome stays the same, and write it as a scenario file with expectations (every workload but hostile).
/// </summary>
internal static class ShrinkCommand
{
    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var seed = new Argument<ulong>("seed") { Description = "The seed to shrink" };
        var campaign = new Option<string>("--campaign", "-c") { Description = "The campaign file", Required = true, HelpName = "FILE" };
        var kernel = CommonOptions.Kernel("Shrink on this profile of the campaign (default: the one with the worst outcome)");
        var outFile = new Option<string?>("--out", "-o") { Description = "Write the scenario here (default: stdout)", HelpName = "FILE" };
        var cmd = new Command("shrink", "Minimise a seed's plan and write it as a scenario file") { seed, campaign, kernel, outFile };
        cmd.SetAction(r => Run(r.GetValue(seed), r.GetValue(campaign)!, r.GetValue(kernel), r.GetValue(outFile), terminal(), errorTerminal()));
        return cmd;
    }

    public static int Run(ulong seed, string file, KernelVersion? kernel, string? outFile, Terminal term, Terminal err)
    {
        var spec = CampaignCommand.Load(file, err);
        if (spec == null) return CliApp.UsageError;
        if (kernel is { } k && !spec.Profiles.Contains(k))
        {
            err.Line($"kernelsim: --kernel {k}: not a profile of campaign {spec.Name} ({string.Join(", ", spec.Profiles)})");
            return CliApp.UsageError;
        }
        var plan = PlanGenerator.Generate(spec, seed);
        var profile = Shrinker.PickProfile(spec, plan, kernel, out var worst);
        var r = Shrinker.Shrink(spec, plan, profile, worst);
        err.Line($"# seed {seed} on Linux {profile}: worst outcome {Outcomes.Name(worst)}; {plan.Steps.Count} -> {r.Shrunk.Steps.Count} steps in {r.Attempts} runs");
        err.Line($"# shrunk plan: {r.Shrunk.Describe()}");
        if (!ScenarioWriter.CanWrite(plan.Workload))
        {
            // Hostile plans are raw system calls with hostile arguments: no scenario step can express them.
            err.Line($"kernelsim: the {CampaignSpec.NameOf(plan.Workload)} workload cannot be written as a scenario (its steps are raw system calls); the shrunk plan is above");
            err.Writer.Flush();
            return 3;
        }
        var text = ScenarioWriter.Write(spec, r, $"{spec.Name}-seed-{seed}");
        if (outFile != null)
        {
            File.WriteAllText(outFile, text);
            err.Line($"# wrote {outFile}");
        }
        else
        {
            term.Writer.Write(text);
        }
        term.Writer.Flush();
        err.Writer.Flush();
        return 0;
    }
}
