using System.Globalization;
using System.Text;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The files of a campaign --out directory (docs/campaigns.md): results.jsonl and plans.jsonl (a header line,
/// then one line per step / per seed, in seed order), campaign.json (header, status), and summary.csv and
/// chart.svg, which are built from results.jsonl.
/// </summary>
public static class CampaignOutput
{
    public const string Results = "results.jsonl";
    public const string Plans = "plans.jsonl";
    public const string Manifest = "campaign.json";
    public const string SummaryCsv = "summary.csv";
    public const string Chart = "chart.svg";

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

    /// <summary>Write summary.csv and chart.svg of <paramref name="dir"/> from its results.jsonl; returns the summary.</summary>
    public static CampaignSummary WriteReports(string dir, string name)
    {
        var s = Summarize(name, Path.Combine(dir, Results));
        File.WriteAllText(Path.Combine(dir, SummaryCsv), Csv(s));
        File.WriteAllText(Path.Combine(dir, Chart), Svg(s));
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

    /// <summary>A self-contained SVG: one stacked bar per profile of the seeds by worst outcome, with a legend.</summary>
    public static string Svg(CampaignSummary s)
    {
        var profiles = s.Profiles;
        var table = s.Table;
        const int left = 110, width = 600, barH = 28, gap = 14, top = 40;
        var legendTop = top + profiles.Count * (barH + gap) + 10;
        var height = legendTop + 20 * ((table.Count + 2) / 3) + 20;
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.Append(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 20}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(ci, $"<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{Xml(s.Name)}: seeds by worst outcome ({s.Seeds} seeds)</text>\n");
        for (var i = 0; i < profiles.Count; i++)
        {
            var p = profiles[i];
            var y = top + i * (barH + gap);
            long total = 0;
            foreach (var row in table.Values) total += row.GetValueOrDefault(p).Seeds;
            sb.Append(ci, $"<text x=\"10\" y=\"{y + barH / 2 + 4}\">Linux {Xml(p)}</text>\n");
            double x = left;
            foreach (var (o, row) in table)
            {
                var n = row.GetValueOrDefault(p).Seeds;
                if (n == 0 || total == 0) continue;
                var w = width * (double)n / total;
                sb.Append(ci, $"<rect x=\"{x:0.##}\" y=\"{y}\" width=\"{w:0.##}\" height=\"{barH}\" fill=\"{Outcomes.Color(o)}\"><title>{Outcomes.Name(o)}: {n} seeds</title></rect>\n");
                x += w;
            }
        }
        var k = 0;
        foreach (var o in table.Keys)
        {
            var x = 10 + (k % 3) * 240;
            var y = legendTop + (k / 3) * 20;
            sb.Append(ci, $"<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{Outcomes.Color(o)}\"/><text x=\"{x + 18}\" y=\"{y + 11}\">{Outcomes.Name(o)}</text>\n");
            k++;
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    internal static string Xml(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
