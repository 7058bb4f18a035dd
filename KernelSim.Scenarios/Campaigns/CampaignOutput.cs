using System.Globalization;
using System.Text;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>Writes campaign results: JSONL per operation, plans, the outcome summary, CSV and an SVG chart.</summary>
public static class CampaignOutput
{
    public static string Json(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>One JSON object per line, one line per step (and final check) of each seed and profile.</summary>
    public static string Jsonl(IEnumerable<OpRecord> records, string commit)
    {
        var sb = new StringBuilder();
        foreach (var r in records)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{{\"seed\":{r.Seed},\"commit\":{Json(commit)},\"profile\":{Json(r.Profile)},\"workload\":{Json(r.Workload)},\"plan\":{Json(r.PlanId)},\"step\":{r.Step},\"call\":{Json(r.Call)},\"ret\":{(r.Ret is { } v ? v.ToString(CultureInfo.InvariantCulture) : "null")},\"outcome\":{Json(Outcomes.Name(r.Outcome))},\"detail\":{Json(r.Detail)}}}");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    public static string PlansJsonl(IEnumerable<CampaignPlan> plans)
    {
        var sb = new StringBuilder();
        foreach (var p in plans)
            sb.Append(CultureInfo.InvariantCulture, $"{{\"seed\":{p.Seed},\"plan\":{Json(p.Id())},\"text\":{Json(p.Describe())}}}\n");
        return sb.ToString();
    }

    /// <summary>Per profile and outcome: operations with that outcome, and seeds whose worst outcome it is.</summary>
    public static (List<string> Profiles, SortedDictionary<Outcome, Dictionary<string, (int Ops, int Seeds)>> Table) Summarize(IReadOnlyList<OpRecord> records)
    {
        var profiles = new List<string>();
        var table = new SortedDictionary<Outcome, Dictionary<string, (int Ops, int Seeds)>>();
        var worst = new Dictionary<(ulong, string), Outcome>();
        var order = new List<(ulong, string)>();
        foreach (var r in records)
        {
            if (!profiles.Contains(r.Profile)) profiles.Add(r.Profile);
            var key = (r.Seed, r.Profile);
            if (!worst.TryGetValue(key, out var w)) { order.Add(key); w = Outcome.Injected; }
            if (r.Outcome > w) w = r.Outcome;
            worst[key] = w;
            if (r.Outcome == Outcome.Injected || r.Call == "final-check" && r.Outcome == Outcome.Complete) continue;
            Bump(table, r.Outcome, r.Profile, 1, 0);
        }
        foreach (var key in order)
            if (worst[key] != Outcome.Injected) Bump(table, worst[key], key.Item2, 0, 1);
        return (profiles, table);
    }

    private static void Bump(SortedDictionary<Outcome, Dictionary<string, (int Ops, int Seeds)>> t, Outcome o, string profile, int ops, int seeds)
    {
        if (!t.TryGetValue(o, out var row)) t[o] = row = [];
        var v = row.GetValueOrDefault(profile);
        row[profile] = (v.Ops + ops, v.Seeds + seeds);
    }

    public static string Csv(IReadOnlyList<OpRecord> records)
    {
        var (profiles, table) = Summarize(records);
        var sb = new StringBuilder("profile,outcome,operations,seeds\n");
        foreach (var p in profiles)
            foreach (var (o, row) in table)
            {
                var v = row.GetValueOrDefault(p);
                sb.Append(CultureInfo.InvariantCulture, $"{p},{Outcomes.Name(o)},{v.Ops},{v.Seeds}\n");
            }
        return sb.ToString();
    }

    /// <summary>A self-contained SVG: one stacked bar per profile of the seeds by worst outcome, with a legend.</summary>
    public static string Svg(CampaignResult result) => Svg(result.Spec.Name, result.Plans.Count, result.Records);

    public static string Svg(string name, int seeds, IReadOnlyList<OpRecord> records)
    {
        var (profiles, table) = Summarize(records);
        const int left = 110, width = 600, barH = 28, gap = 14, top = 40;
        var legendTop = top + profiles.Count * (barH + gap) + 10;
        var height = legendTop + 20 * ((table.Count + 2) / 3) + 20;
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.Append(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 20}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(ci, $"<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{Xml(name)}: seeds by worst outcome ({seeds} seeds)</text>\n");
        for (var i = 0; i < profiles.Count; i++)
        {
            var p = profiles[i];
            var y = top + i * (barH + gap);
            var total = 0;
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

    private static string Xml(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    public static void WriteDir(string dir, CampaignResult result) =>
        WriteDir(dir, result.Spec.Name, result.Plans.Count, Jsonl(result.Records, result.Commit), PlansJsonl(result.Plans), result.Records);

    public static void WriteDir(string dir, string name, int seeds, string resultsJsonl, string plansJsonl, IReadOnlyList<OpRecord> records)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "results.jsonl"), resultsJsonl);
        File.WriteAllText(Path.Combine(dir, "plans.jsonl"), plansJsonl);
        File.WriteAllText(Path.Combine(dir, "summary.csv"), Csv(records));
        File.WriteAllText(Path.Combine(dir, "chart.svg"), Svg(name, seeds, records));
    }

    /// <summary>Read a results.jsonl line back (for merge).</summary>
    public static OpRecord ParseLine(string line, out string commit)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(line);
        var e = doc.RootElement;
        commit = e.GetProperty("commit").GetString() ?? "unknown";
        var ret = e.GetProperty("ret");
        var outcome = Outcomes.Parse(e.GetProperty("outcome").GetString() ?? "") ?? throw new FormatException($"unknown outcome in: {line}");
        return new OpRecord(e.GetProperty("seed").GetUInt64(), e.GetProperty("profile").GetString()!, e.GetProperty("workload").GetString()!,
            e.GetProperty("plan").GetString()!, e.GetProperty("step").GetInt32(), e.GetProperty("call").GetString()!,
            ret.ValueKind == System.Text.Json.JsonValueKind.Null ? null : ret.GetInt64(), outcome, e.GetProperty("detail").GetString()!);
    }
}
