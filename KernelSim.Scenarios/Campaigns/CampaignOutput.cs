using System.Globalization;
using System.Text;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The files of a campaign --out directory (docs/campaigns.md): results.jsonl and plans.jsonl (a header line,
/// then one line per step / per seed, in seed order), campaign.json (header, status), and summary.csv,
/// chart.svg and report.html, which are built from results.jsonl.
/// </summary>
public static class CampaignOutput
{
    public const string Results = "results.jsonl";
    public const string Plans = "plans.jsonl";
    public const string Manifest = "campaign.json";
    public const string SummaryCsv = "summary.csv";
    public const string Chart = "chart.svg";
    public const string Report = "report.html";

    /// <summary>The result lines of some records (no header), as `replay` prints them.</summary>
    public static string Jsonl(IEnumerable<OpRecord> records)
    {
        var sb = new StringBuilder();
        foreach (var r in records) sb.Append(CampaignJson.Line(r)).Append('\n');
        return sb.ToString();
    }

    /// <summary>The records of a results.jsonl, in file order, streamed (the header line is skipped).</summary>
    /// <exception cref="FormatException">A line is not a result line (the message names the line number).</exception>
    public static IEnumerable<OpRecord> ReadResults(string path)
    {
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (line.Length == 0 || n == 1 && CampaignJson.IsHeader(line)) continue;
            OpRecord r;
            try
            {
                r = CampaignJson.ParseOp(line);
            }
            catch (FormatException e)
            {
                throw new FormatException($"{path}:{n}: not a campaign result line ({e.Message})", e);
            }
            yield return r;
        }
    }

    /// <summary>The summary of a results.jsonl, read line by line.</summary>
    public static CampaignSummary Summarize(string name, string resultsPath) => CampaignSummary.Of(name, ReadResults(resultsPath));

    /// <summary>
    /// Write summary.csv, chart.svg and report.html of <paramref name="dir"/> from its results.jsonl and
    /// campaign.json; returns the summary.
    /// </summary>
    public static CampaignSummary WriteReports(string dir)
    {
        var manifest = CampaignResultsWriter.ReadManifest(dir);
        return WriteReports(dir, manifest, Summarize(manifest.Header.Campaign, Path.Combine(dir, Results)));
    }

    /// <summary>
    /// Write summary.csv, chart.svg and report.html of <paramref name="dir"/> from <paramref name="s"/>, the finished
    /// summary of exactly the records its results.jsonl holds, folded while they were written (a run that wrote the
    /// whole file need not read it back); returns <paramref name="s"/>.
    /// </summary>
    public static CampaignSummary WriteReports(string dir, CampaignSummary s) => WriteReports(dir, CampaignResultsWriter.ReadManifest(dir), s);

    private static CampaignSummary WriteReports(string dir, CampaignManifest manifest, CampaignSummary s)
    {
        File.WriteAllText(Path.Combine(dir, SummaryCsv), Csv(s));
        File.WriteAllText(Path.Combine(dir, Chart), Svg(s));
        File.WriteAllText(Path.Combine(dir, Report), CampaignReport.Html(manifest, s));
        return s;
    }

    public static string Csv(CampaignSummary s)
    {
        var sb = new StringBuilder("profile,outcome,operations,seeds\n");
        foreach (var p in s.Profiles)
            foreach (var (o, row) in s.Table)
            {
                var v = row.GetValueOrDefault(p);
                sb.Append(CultureInfo.InvariantCulture, $"{p},{Outcomes.Name(o)},{v.Ops},{v.Seeds}\n");
            }
        return sb.ToString();
    }

    /// <summary>The chart: <see cref="CampaignChart"/>.</summary>
    public static string Svg(CampaignSummary s) => CampaignChart.Svg(s);

    internal static string Xml(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
