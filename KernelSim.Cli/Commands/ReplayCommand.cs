using System.CommandLine;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Cli.Rendering;
using KernelSim.Kernel;
using KernelSim.Trace;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim replay SEED --campaign FILE [--trace text|chrome]`: rerun one seed with tracing on. stdout is
/// the seed's JSONL, identical to its lines in the campaign's results.jsonl; the plan and, with --trace, the
/// trace of each profile go to stderr.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var seed = new Argument<ulong>("seed") { Description = "The seed to replay" };
        var campaign = new Option<string>("--campaign", "-c") { Description = "The campaign file", Required = true, HelpName = "FILE" };
        var trace = new Option<string?>("--trace") { Description = "Print the trace of each profile's run on stderr: text (ftrace function_graph) or chrome (trace-event JSON)", HelpName = "text|chrome" };
        trace.AcceptOnlyFromAmong("text", "chrome");
        var cmd = new Command("replay", "Rerun one seed of a campaign with full tracing") { seed, campaign, trace };
        cmd.SetAction(r => Run(r.GetValue(seed), r.GetValue(campaign)!, r.GetValue(trace), terminal(), errorTerminal()));
        return cmd;
    }

    public static int Run(ulong seed, string file, string? trace, Terminal term, Terminal err)
    {
        var spec = CampaignCommand.Load(file, err);
        if (spec == null) return CliApp.UsageError;
        var runs = new List<(string Profile, Machine Machine)>();
        var (plan, records) = CampaignEngine.RunSeed(spec, seed, trace: true, (p, run) => runs.Add((p.ToString(), run.Machine)));
        err.Line($"# seed {seed} plan {plan.Id()}: {plan.Describe()}");
        term.Writer.Write(CampaignOutput.Jsonl(records));
        if (trace == "text")
        {
            foreach (var (p, m) in runs)
            {
                err.Line($"# trace on Linux {p}");
                err.Writer.Write(m.TraceText());
            }
        }
        else if (trace == "chrome")
        {
            err.Writer.Write(ChromeTrace.Render(runs.Select(r => new ChromeTraceProcess($"seed {seed} (Linux {r.Profile})", r.Machine.Tracer.Records)).ToList()));
        }
        term.Writer.Flush();
        err.Writer.Flush();
        return 0;
    }
}
