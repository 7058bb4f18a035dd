using System.Text.RegularExpressions;
using KernelSim.Scenarios.Steps;
using KernelSim.Scenarios.Yaml;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Expectations;

/// <summary>
/// Expectations on what a file step read: text (the exact content of read-file, list-dir or readlink), fields
/// ("Name: value" lines such as /proc/meminfo's), pagemap (the decoded entry of a pagemap step) and kpageflags (the
/// decoded flags of a kpageflags step).
/// </summary>
internal static partial class FileExpectations
{
    public static IEnumerable<IExpectation> Parse(string key, string file, YamlNode node, string what, ParseSymbols symbols) => key switch
    {
        "text" => [Text(file, node, what)],
        "fields" => Fields(file, node, what),
        "pagemap" => Pagemap(file, node, what, symbols),
        _ => Kpageflags(file, node, what),
    };

    private static IExpectation Text(string file, YamlNode node, string what)
    {
        var s = YamlValues.Scalar(file, node, what);
        return new Expectation("text", node.Start, $"the text is \"{PathSteps.Escape(s)}\"", c =>
        {
            if (c.Result.Content is not { } a) return $"the step read no text ({c.Result.Text})";
            return a == s ? null : $"expected \"{PathSteps.Escape(s)}\", actual \"{PathSteps.Escape(a)}\"";
        });
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Blanks();

    private static string Norm(string s) => Blanks().Replace(s.Trim(), " ");

    private static IEnumerable<IExpectation> Fields(string file, YamlNode node, string what)
    {
        var m = YamlMap.Of(file, node, what);
        var wanted = new List<(string Name, string Value, YamlNode Node)>();
        foreach (var k in m.Keys)
        {
            var v = m.Get(k)!;
            wanted.Add((k, Norm(YamlValues.Scalar(file, v, $"{what}.{k}")), v));
        }
        m.Done();
        foreach (var (name, value, vn) in wanted)
        {
            yield return new Expectation("fields", vn.Start, $"{name}: {value}", c =>
            {
                if (c.Result.Content is not { } text) return $"the step read no text ({c.Result.Text})";
                foreach (var line in text.Split('\n'))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon < 0 || line[..colon] != name) continue;
                    var actual = Norm(line[(colon + 1)..]);
                    return actual == value ? null : $"expected {name}: {value}, actual {name}: {actual}";
                }
                return $"the text has no field {name}";
            });
        }
    }

    private static IEnumerable<IExpectation> Pagemap(string file, YamlNode node, string what, ParseSymbols symbols)
    {
        var m = YamlMap.Of(file, node, what, ScenarioKeys.Pagemap);
        (string Key, int Bit)[] bits = [("present", PageSteps.PM_PRESENT), ("swap", PageSteps.PM_SWAP), ("file", PageSteps.PM_FILE),
            ("exclusive", PageSteps.PM_MMAP_EXCLUSIVE), ("soft-dirty", PageSteps.PM_SOFT_DIRTY)];
        var checks = new List<IExpectation>();
        foreach (var (k, bit) in bits)
        {
            if (m.Get(k) is not { } bn) continue;
            var want = YamlValues.Bool(file, bn, $"{what}.{k}");
            var desc = $"pagemap {k} {want.ToString().ToLowerInvariant()}";
            checks.Add(new Expectation("pagemap", bn.Start, desc, c =>
            {
                if (c.Result.Word is not { } e) return $"the step read no pagemap entry ({c.Result.Text})";
                var got = (e & (1UL << bit)) != 0;
                return got == want ? null : $"expected {desc}, actual 0x{e:x16} ({PageSteps.DescribePagemap(e)})";
            }));
        }
        foreach (var (k, equal) in new[] { ("pfn", true), ("pfn-not", false) })
        {
            if (m.Get(k) is not { } pn) continue;
            var text = YamlValues.Scalar(file, pn, $"{what}.{k}");
            ulong? number = YamlValues.TryParseLong(text, out var v) && v >= 0 ? (ulong)v : null;
            if (number == null && !symbols.Pfns.Contains(text))
                throw new ScenarioException(file, pn.Start, $"{what}.{k}: '{text}' is not a number or a pfn recorded by an earlier pagemap step");
            var desc = $"pagemap pfn {(equal ? "is" : "is not")} {text}";
            checks.Add(new Expectation("pagemap", pn.Start, desc, c =>
            {
                if (c.Result.Word is not { } e) return $"the step read no pagemap entry ({c.Result.Text})";
                if ((e & (1UL << PageSteps.PM_PRESENT)) == 0) return $"expected a present page, actual 0x{e:x16} ({PageSteps.DescribePagemap(e)})";
                ulong want;
                if (number != null) want = number.Value;
                else if (!c.Run.Pfns.TryGetValue(text, out want)) return $"pfn '{text}' was not recorded";
                var got = e & PageSteps.PM_PFRAME_MASK;
                return (got == want) == equal ? null : $"expected {desc} (0x{want:x}), actual pfn 0x{got:x}";
            }));
        }
        m.Done();
        if (checks.Count == 0) throw m.Error(m.Node, $"{what}: give at least one of present, swap, file, exclusive, soft-dirty, pfn, pfn-not");
        return checks;
    }

    private static IEnumerable<IExpectation> Kpageflags(string file, YamlNode node, string what)
    {
        var m = YamlMap.Of(file, node, what, ScenarioKeys.Kpageflags);
        var checks = new List<IExpectation>();
        foreach (var (k, bit) in PageSteps.KpfNames)
        {
            if (m.Get(k) is not { } bn) continue;
            var want = YamlValues.Bool(file, bn, $"{what}.{k}");
            var desc = $"kpageflags {k} {want.ToString().ToLowerInvariant()}";
            checks.Add(new Expectation("kpageflags", bn.Start, desc, c =>
            {
                if (c.Result.Word is not { } f) return $"the step read no kpageflags word ({c.Result.Text})";
                var got = (f & (1UL << bit)) != 0;
                return got == want ? null : $"expected {desc}, actual 0x{f:x} ({PageSteps.DescribeKpf(f)})";
            }));
        }
        m.Done();
        if (checks.Count == 0) throw m.Error(m.Node, $"{what}: give at least one flag ({string.Join(", ", PageSteps.KpfNames.Select(k => k.Name))})");
        return checks;
    }
}
