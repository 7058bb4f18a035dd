using System.CommandLine;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Cli.Rendering;
using KernelSim.Kernel;
using KernelSim.Trace;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim replay SEED --campaign FILE [--trace text|chrome] [--trace-out FILE]`: rerun one seed with tracing on.
/// stdout is the seed's JSONL, identical to its lines in the campaign's results.jsonl, and the plan (a # line) goes
/// to stderr; --trace text adds each profile's trace to stderr. With --trace chrome, stdout holds only the
/// trace-event JSON (so `> f.json` loads in Perfetto) and the JSONL goes to stderr; --trace-out FILE writes that
/// JSON to FILE and leaves stdout as it is.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var seed = CommonOptions.Seed("The seed to replay (a whole number, as in results.jsonl)");
        var campaign = new Option<string>("--campaign", "-c") { Description = "The campaign file", Required = true, HelpName = "FILE" };
        var trace = new Option<string?>("--trace") { Description = "Print the trace of each profile's run: text (ftrace function_graph, on stderr) or chrome (trace-event JSON alone on stdout; the JSONL then goes to stderr)", HelpName = "text|chrome" };
        trace.AcceptOnlyFromAmong("text", "chrome");
        var traceOut = TraceOptions.Out();
        var cmd = new Command("replay", "Rerun one seed of a campaign with full tracing") { seed, campaign, trace, traceOut };
        cmd.SetAction(r => Run(r.GetValue(seed), r.GetValue(campaign)!, r.GetValue(trace), terminal(), errorTerminal(), r.GetValue(traceOut)));
        return cmd;
    }

    public static int Run(ulong seed, string file, string? trace, Terminal term, Terminal err, string? traceOut = null)
    {
        var spec = CampaignCommand.Load(file, err, out var loadCode);
        if (spec == null) return loadCode;
        var runs = new List<(string Profile, Machine Machine)>();
        var (plan, records) = CampaignEngine.RunSeed(spec, seed, trace: true, (p, run) => runs.Add((p.ToString(), run.Machine)));
        if (traceOut != null && TraceOptions.Write(traceOut, runs.Select(r => ($"seed {seed} (Linux {r.Profile})", r.Machine)).ToList()) is { } writeError)
        {
            err.Line($"kernelsim: {writeError}");
            err.Writer.Flush();
            return ExitCodes.CannotCreate;
        }
        err.Line($"# seed {seed} plan {plan.Id()}: {plan.Describe()}");
        // With --trace chrome stdout carries only the JSON document; the JSONL moves to stderr.
        (trace == "chrome" ? err : term).Writer.Write(CampaignOutput.Jsonl(records));
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
            term.Writer.Write(ChromeTrace.Render(runs.Select(r => new ChromeTraceProcess($"seed {seed} (Linux {r.Profile})", r.Machine.Tracer.Records)).ToList()));
        }
        term.Writer.Flush();
        err.Writer.Flush();
        return 0;
    }
}
