using System.CommandLine;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Cli.Rendering;
using KernelSim.Profiles;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim shrink SEED --campaign FILE [--target OUTCOME[@OP]] [--kernel V] [--out FILE]`: minimise the seed's
/// plan while it still shows the target (default: its worst outcome), and write it as a scenario file with
/// expectations (every workload but hostile). Exit 3: a hostile seed; exit 4: the seed does not show the target.
/// </summary>
internal static class ShrinkCommand
{
    /// <summary>The hostile workload's raw system calls cannot be written as scenario steps.</summary>
    public const int CannotWrite = 3;

    /// <summary>The seed does not show the target outcome (or, without --target, nothing worse than complete).</summary>
    public const int TargetNotShown = 4;

    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var seed = CommonOptions.Seed("The seed to shrink (a whole number, as in results.jsonl)");
        var campaign = new Option<string>("--campaign", "-c") { Description = "The campaign file", Required = true, HelpName = "FILE" };
        var target = new Option<string?>("--target", "-t") { Description = "The outcome to preserve, optionally of one operation: EIO, panic, SIGBUS-AR@load, EIO@pwritev (default: the seed's worst outcome)", HelpName = "OUTCOME[@OP]" };
        var kernel = CommonOptions.Kernel("Shrink on this profile of the campaign, by default the first that shows the target");
        var outFile = new Option<string?>("--out", "-o") { Description = "Write the scenario here (default: stdout)", HelpName = "FILE" };
        var cmd = new Command("shrink", "Minimise a seed's plan and write it as a scenario file") { seed, campaign, target, kernel, outFile };
        cmd.SetAction(r => Run(r.GetValue(seed), r.GetValue(campaign)!, r.GetValue(target), r.GetValue(kernel), r.GetValue(outFile), terminal(), errorTerminal()));
        return cmd;
    }

    public static int Run(ulong seed, string file, string? targetText, KernelVersion? kernel, string? outFile, Terminal term, Terminal err)
    {
        var spec = CampaignCommand.Load(file, err, out var loadCode);
        if (spec == null) return loadCode;
        if (kernel is { } k && !spec.Profiles.Contains(k))
        {
            err.Line($"kernelsim: --kernel {k}: not a profile of campaign {spec.Name} ({string.Join(", ", spec.Profiles)})");
            return ExitCodes.Usage;
        }
        ShrinkTarget? target = null;
        if (targetText != null)
        {
            if (!ShrinkTarget.TryParse(targetText, out var t))
            {
                err.Line($"kernelsim: --target '{targetText}': expected OUTCOME or OUTCOME@OP with an outcome of: {string.Join(", ", Enum.GetValues<Outcome>().Where(o => o != Outcome.Injected).Select(Outcomes.Name))}");
                return ExitCodes.Usage;
            }
            target = t;
        }
        var plan = PlanGenerator.Generate(spec, seed);
        if (Shrinker.Pick(spec, plan, kernel, target) is not var (profile, chosen))
        {
            var where = kernel is { } kv ? $"Linux {kv}" : string.Join(", ", spec.Profiles.Select(p => $"Linux {p}"));
            err.Line(target is { } t
                ? $"kernelsim: seed {seed} shows no {t} on {where} (it shows {Shrinker.Shows(spec, plan, kernel)}); nothing written"
                : $"kernelsim: seed {seed} shows nothing worse than complete on {where}: nothing to preserve (name an outcome with --target); nothing written");
            err.Writer.Flush();
            return TargetNotShown;
        }
        var r = Shrinker.Shrink(spec, plan, profile, chosen);
        err.Line($"# seed {seed} on Linux {profile}: {chosen}; {plan.Steps.Count} -> {r.Shrunk.Steps.Count} steps in {r.Attempts} runs");
        err.Line($"# shrunk plan: {r.Shrunk.Describe()}");
        if (!ScenarioWriter.CanWrite(plan.Workload))
        {
            // Hostile plans are raw system calls with hostile arguments: no scenario step can express them.
            err.Line($"kernelsim: the {CampaignSpec.NameOf(plan.Workload)} workload cannot be written as a scenario (its steps are raw system calls); the shrunk plan is above");
            err.Writer.Flush();
            return CannotWrite;
        }
        var text = ScenarioWriter.Write(spec, r, ScenarioWriter.ScenarioName(spec, seed));
        if (outFile != null)
        {
            if (OutputFiles.Write(outFile, text, err) is { } failed) return failed;
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
