using System.Text.RegularExpressions;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Campaigns;

/// <summary>report.html and chart.svg: self-contained, axes and values, distinct colours, seeds with their commands.</summary>
public class CampaignReportTests : TempDirTest
{
    [Test]
    public void Chart_HasAxesValuesAndALegend_OneDistinctColourPerOutcome()
    {
        Assert.That(Enum.GetValues<Outcome>().Select(CampaignChart.Color).Distinct().Count(), Is.EqualTo(Enum.GetValues<Outcome>().Length));
        var records = new List<OpRecord>();
        for (ulong seed = 1; seed <= 40; seed++)
        {
            var o = seed <= 30 ? Outcome.Complete : seed <= 37 ? Outcome.Eio : Outcome.Panic;
            records.Add(new OpRecord(seed, "4.17", "ramfs", "p", 0, "pread(buf+0x0, 1, 0)", 1, o, ""));
            records.Add(new OpRecord(seed, "6.12", "ramfs", "p", 0, "pread(buf+0x0, 1, 0)", 1, seed <= 35 ? Outcome.Complete : Outcome.Eio, ""));
        }
        var svg = CampaignChart.Svg(CampaignSummary.Of("t<x>", records));
        Assert.That(svg, Does.StartWith("<svg width=\"900\" height=\"230\" "));
        Assert.That(svg, Does.Contain(">t&lt;x&gt;: seeds by worst outcome (40 seeds)</text>"));
        foreach (var label in new[] { "Linux 4.17", "Linux 6.12", "seeds", "profile", "complete", "EIO", "panic", "0", "10", "20", "30", "40" })
            Assert.That(svg, Does.Contain($">{label}</text>"), label);
        // The counts on the segments: 30, 7 and 3 on 4.17 (3 is 7.5% of the bar), 35 and 5 on 6.12.
        foreach (var value in new[] { "30", "7", "3", "35", "5" })
            Assert.That(Regex.IsMatch(svg, $"font-size=\"11\"[^>]*>{value}</text>"), Is.True, value);
        foreach (var o in new[] { Outcome.Complete, Outcome.Eio, Outcome.Panic })
        {
            var c = CampaignChart.Color(o);
            var rgb = $"fill:rgb({Convert.ToInt32(c[1..3], 16)},{Convert.ToInt32(c[3..5], 16)},{Convert.ToInt32(c[5..7], 16)})";
            Assert.That(svg, Does.Contain(rgb), Outcomes.Name(o));
        }
    }

    [Test]
    public void Report_IsSelfContained_AndLinksEachCountToItsSeedsWithReplayAndShrinkCommands()
    {
        var file = Write("odd.yaml", File.ReadAllText(RepoFiles.Path("campaigns/example.yaml")).Replace("campaign: example", "campaign: a<b>&c", StringComparison.Ordinal));
        var dir = Path.Combine(Dir, "out");
        var (code, output, err) = CliRun.Invoke("campaign", file, "--seeds", "1..30", "--jobs", "2", "--out", dir);
        Assert.That(code, Is.Zero, output + err);
        Assert.That(output, Does.EndWith($"wrote {Path.Combine(dir, "results.jsonl")}, plans.jsonl, campaign.json, summary.csv, chart.svg, report.html\n"));
        var html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.That(html, Does.StartWith("<!DOCTYPE html>\n"));
        Assert.That(html, Does.Contain("<h1>campaign a&lt;b&gt;&amp;c</h1>"));
        Assert.That(html, Does.Not.Contain("<script"));
        Assert.That(Regex.Matches(html, "(src|href)=\"(?!#)").Count, Is.Zero, "no external resource or link");
        Assert.That(html, Does.Contain($"<tr><th>kernelsim</th><td>{CampaignProvenance.SimulatorVersion}</td></tr>"));
        Assert.That(html, Does.Contain("<tr><th>status</th><td>complete (complete: 30 seeds)</td></tr>"));
        Assert.That(html, Does.Contain(File.ReadAllText(Path.Combine(dir, "chart.svg"))), "the chart is inline");
        var anchors = Regex.Matches(html, "href=\"#([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.That(anchors, Is.Not.Empty);
        foreach (var a in anchors) Assert.That(html, Does.Contain($"id=\"{a}\""), a);

        // Every seed with a worst outcome is listed under it, with its commands (seed 16: pmem-direct, panic on 4.17).
        var summary = CampaignOutput.Summarize("x", Path.Combine(dir, "results.jsonl"));
        Assert.That(summary.SeedsWith(Outcome.Panic, "4.17"), Is.EqualTo(Regex.Matches(html[html.IndexOf("id=\"seeds-panic-4_17\"", StringComparison.Ordinal)..].Split("</table>")[0], "<tr><td class=\"n\">").Count));
        Assert.That(html, Does.Contain($"<tr><td class=\"n\">16</td><td>pmem-direct</td><td><code>kernelsim replay 16 --campaign {file} --trace text</code></td><td><code>kernelsim shrink 16 --campaign {file} --kernel 4.17 --target panic --out &#39;a&lt;b&gt;&amp;c-seed-16.yaml&#39;</code></td></tr>"));
    }
}
