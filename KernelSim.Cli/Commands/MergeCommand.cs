using System.CommandLine;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Cli.Rendering;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim merge DIR... --out DIR`: the reduce step of a sharded campaign. Refuses inputs of different
/// campaigns, kernelsim versions or profiles, and inputs that share a seed (exit 65); merges the rest by seed
/// (the merge of all shards equals the unsharded run), reports the seeds no input has, and writes the summary,
/// CSV and chart of the whole.
/// </summary>
internal static class MergeCommand
{
    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var dirs = new Argument<string[]>("dir") { Description = "Shard output directories (from campaign --out)", Arity = ArgumentArity.OneOrMore }.NoOptions();
        var outDir = new Option<string>("--out", "-o") { Description = "Write the merged results here", Required = true, HelpName = "DIR" };
        var cmd = new Command("merge", "Merge the outputs of campaign shards (same campaign, disjoint seeds)") { dirs, outDir };
        cmd.SetAction(r => Run(r.GetValue(dirs) ?? [], r.GetValue(outDir)!, terminal(), errorTerminal()));
        return cmd;
    }

    public static int Run(string[] dirs, string outDir, Terminal term, Terminal err)
    {
        MergeReport report;
        try
        {
            report = CampaignMerge.Merge(dirs, outDir);
        }
        catch (CampaignMergeException e)
        {
            err.Line($"kernelsim: merge refused: {e.Message}");
            return CampaignCommand.DataError;
        }
        catch (CampaignOutputException e)
        {
            err.Line($"kernelsim: {e.Message}");
            return e.Unwritable ? ExitCodes.CannotCreate : ExitCodes.DataError;
        }
        term.Line($"merged {dirs.Length} shard(s): {report.Seeds} seeds, {report.Summary.Records} records");
        foreach (var m in report.Missing)
        {
            term.Line($"MISSING: {m}");
            err.Line($"kernelsim: missing: {m}");
        }
        CampaignSummaryTable.Write(term, report.Summary);
        term.Line($"wrote {Path.Combine(outDir, CampaignOutput.Results)}, {CampaignOutput.Plans}, {CampaignOutput.Manifest}, {CampaignOutput.SummaryCsv}, {CampaignOutput.Chart}, {CampaignOutput.Report}");
        term.Writer.Flush();
        err.Writer.Flush();
        return report.Summary.FoundProblems ? CampaignCommand.FoundProblems : 0;
    }
}
