using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Tests.Scenarios;

/// <summary>
/// YAML documents as JSON, the way a YAML 1.2 editor (yaml-language-server) sees them before it applies a schema:
/// plain scalars that are null, true/false, integers (decimal, 0x, 0o) or floats become JSON null, booleans and
/// numbers; quoted scalars and everything else stay strings.
/// </summary>
internal static partial class YamlToJson
{
    [GeneratedRegex(@"^[-+]?(\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN|(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)$")]
    private static partial Regex Float();

    public static IReadOnlyList<JsonNode?> Documents(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Where(d => d.RootNode is not YamlScalarNode { Value: null or "" }).Select(d => Node(d.RootNode)).ToList();
    }

    private static JsonNode? Node(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Node(kv.Value)))),
        YamlSequenceNode s => new JsonArray([.. s.Children.Select(Node)]),
        YamlScalarNode { Style: ScalarStyle.Plain } p => Plain(p.Value ?? ""),
        YamlScalarNode q => JsonValue.Create(q.Value ?? ""),
        _ => throw new NotSupportedException(node.GetType().Name),
    };

    private static JsonNode? Plain(string s)
    {
        if (s is "" or "~" or "null" or "Null" or "NULL") return null;
        if (s is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (s is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (s.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h)) return JsonValue.Create(h);
        if (s.StartsWith("0o", StringComparison.Ordinal) && s.Length > 2 && s[2..].All(c => c is >= '0' and <= '7')) return JsonValue.Create(Convert.ToInt64(s[2..], 8));
        if (Float().IsMatch(s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) return JsonValue.Create(d);
        return JsonValue.Create(s);
    }
}
