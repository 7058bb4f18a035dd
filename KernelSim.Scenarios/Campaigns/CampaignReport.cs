using System.Globalization;
using System.Net;
using System.Text;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) — where the results
/// come from, the chart, the outcome table per profile whose counts link to the seeds with that worst outcome,
/// and for each seed the commands that replay and shrink it.
/// </summary>
public static class CampaignReport
{
    public static string Html(CampaignManifest m, CampaignSummary s)
    {
        var h = m.Header;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<title>").Append(E($"campaign {h.Campaign}")).Append("</title>\n");
        sb.Append("""
            <style>
            body { font-family: sans-serif; margin: 2em; color: #222; }
            table { border-collapse: collapse; margin: 1em 0; }
            th, td { border: 1px solid #ccc; padding: 4px 10px; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            th { background: #f3f3f3; }
            code { background: #f6f6f6; padding: 1px 4px; }
            .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: middle; }
            .bad { color: #b00020; font-weight: bold; }
            </style>

            """);
        sb.Append("</head>\n<body>\n");
        sb.Append("<h1>").Append(E($"campaign {h.Campaign}")).Append("</h1>\n");
        sb.Append("<table>\n");
        Row(sb, "status", $"{m.Status} ({m.Message})");
        Row(sb, "seeds", $"{h.SeedSet} — {m.SeedsDone} of {m.SeedsTotal} run");
        Row(sb, "profiles", string.Join(", ", h.Profiles.Select(p => $"Linux {p}")));
        Row(sb, "campaign file", m.File);
        Row(sb, "kernelsim", h.Kernelsim);
        Row(sb, "spec sha256", h.SpecSha256);
        sb.Append("</table>\n");
        foreach (var line in m.Missing ?? []) sb.Append("<p class=\"bad\">missing: ").Append(E(line)).Append("</p>\n");

        sb.Append("<h2>Seeds by worst outcome</h2>\n");
        sb.Append(CampaignChart.Svg(s));

        sb.Append("<h2>Outcomes per profile</h2>\n<p>ops: operations with that outcome; seeds: seeds whose worst outcome it is (links to the seeds).</p>\n");
        sb.Append("<table>\n<tr><th>outcome</th>");
        foreach (var p in s.Profiles) sb.Append("<th>").Append(E($"Linux {p}: ops")).Append("</th><th>seeds</th>");
        sb.Append("</tr>\n");
        foreach (var (o, row) in s.Table)
        {
            sb.Append("<tr><td><span class=\"swatch\" style=\"background:").Append(CampaignChart.Color(o)).Append("\"></span>").Append(E(Outcomes.Name(o))).Append("</td>");
            foreach (var p in s.Profiles)
            {
                var v = row.GetValueOrDefault(p);
                sb.Append("<td class=\"n\">").Append(v.Ops.ToString(CultureInfo.InvariantCulture)).Append("</td><td class=\"n\">");
                if (v.Seeds > 0) sb.Append("<a href=\"#").Append(Anchor(o, p)).Append("\">").Append(v.Seeds.ToString(CultureInfo.InvariantCulture)).Append("</a>");
                else sb.Append('0');
                sb.Append("</td>");
            }
            sb.Append("</tr>\n");
        }
        sb.Append("</table>\n");

        if (s.CorruptionCount + s.BugCount > 0)
        {
            sb.Append("<h2 class=\"bad\">Silent corruption and simulator bugs</h2>\n<ul>\n");
            foreach (var r in s.Corruptions.Concat(s.Bugs))
                sb.Append("<li>").Append(E($"{Outcomes.Name(r.Outcome)}: seed {r.Seed} on Linux {r.Profile}, step {r.Step} {r.Call}: {r.Detail}")).Append("</li>\n");
            sb.Append("</ul>\n");
        }

        sb.Append("<h2>Seeds</h2>\n");
        foreach (var (o, row) in s.Table)
        {
            foreach (var p in s.Profiles)
            {
                var n = row.GetValueOrDefault(p).Seeds;
                if (n == 0 || !s.Examples.TryGetValue((o, p), out var seeds)) continue;
                sb.Append("<h3 id=\"").Append(Anchor(o, p)).Append("\">").Append(E($"{Outcomes.Name(o)} on Linux {p}: {n} seed(s)")).Append("</h3>\n");
                sb.Append("<table>\n<tr><th>seed</th><th>workload</th><th>replay</th><th>shrink</th></tr>\n");
                foreach (var (seed, workload) in seeds)
                {
                    var sd = seed.ToString(CultureInfo.InvariantCulture);
                    var shrink = workload == CampaignSpec.NameOf(WorkloadKind.Hostile)
                        ? "(hostile: shrink prints the plan, no scenario)"
                        : $"kernelsim shrink {sd} --campaign {Quote(m.File)} --kernel {p} --target {Outcomes.Name(o)} --out {Quote($"{h.Campaign}-seed-{sd}.yaml")}";
                    sb.Append("<tr><td class=\"n\">").Append(sd).Append("</td><td>").Append(E(workload)).Append("</td><td><code>")
                        .Append(E($"kernelsim replay {sd} --campaign {Quote(m.File)} --trace text")).Append("</code></td><td><code>").Append(E(shrink)).Append("</code></td></tr>\n");
                }
                sb.Append("</table>\n");
                if (n > seeds.Count) sb.Append("<p>").Append(E($"… and {n - seeds.Count} more: results.jsonl has them all.")).Append("</p>\n");
            }
        }
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string key, string value) =>
        sb.Append("<tr><th>").Append(E(key)).Append("</th><td>").Append(E(value)).Append("</td></tr>\n");

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private static string Anchor(Outcome o, string profile) => $"seeds-{Outcomes.Name(o)}-{profile}".Replace('.', '_');

    /// <summary>A POSIX shell word: as is when it is plain, else in single quotes.</summary>
    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ':' or '=' or ',') ? s : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
