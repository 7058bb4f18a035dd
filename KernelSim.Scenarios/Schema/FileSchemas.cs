using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Scenarios.Steps;
using KernelSim.Scenarios.Yaml;

namespace KernelSim.Scenarios.Schema;

/// <summary>
/// JSON Schemas (draft 2020-12) of scenario and campaign files, generated from the key tables the parsers read
/// with (<c>ScenarioKeys</c>, <c>CampaignKeys</c>) and the step registry, so a schema accepts the keys the parser
/// accepts. Editors use them through a <c># yaml-language-server: $schema=…</c> line; docs/schemas/ holds the
/// generated files. A schema checks key names, nesting and required keys; values are checked by the parser.
/// </summary>
public static class FileSchemas
{
    private const string Draft = "https://json-schema.org/draft/2020-12/schema";

    /// <summary>The schema of a scenario file (each YAML document is one scenario), as indented JSON.</summary>
    public static string Scenario() => Write("KernelSim scenario file",
        "One scenario per YAML document: scenario:, machine:, actors:, steps: (docs/scenarios.md).", ScenarioKeys.Top);

    /// <summary>The schema of a campaign file, as indented JSON.</summary>
    public static string Campaign() => Write("KernelSim campaign file",
        "A fault-injection campaign: profiles, seeds, workload and fault weights (docs/campaigns.md).", CampaignKeys.Top);

    private static string Write(string title, string description, KeyTable top)
    {
        var defs = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal);
        var root = new JsonObject
        {
            ["$schema"] = Draft,
            ["title"] = title,
            ["description"] = description + " Generated from the parser's key tables; do not edit.",
        };
        foreach (var (k, v) in Object(top, defs)) root[k] = v?.DeepClone();
        var defsNode = new JsonObject();
        foreach (var (name, def) in defs) defsNode[name] = def;
        root["$defs"] = defsNode;
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).Replace("\r\n", "\n") + "\n";
    }

    private static JsonObject Object(KeyTable table, IDictionary<string, JsonNode> defs, IEnumerable<(string Name, JsonNode Schema)>? extra = null)
    {
        var props = new JsonObject();
        foreach (var key in table.Keys) props[key.Name] = Shape(key.Shape, defs);
        foreach (var (name, schema) in extra ?? []) props[name] = schema;
        var o = new JsonObject { ["type"] = "object", ["properties"] = props };
        var required = table.Keys.Where(k => k.Required).Select(k => (JsonNode?)k.Name).ToArray();
        if (required.Length > 0) o["required"] = new JsonArray(required);
        o["additionalProperties"] = false;
        return o;
    }

    private static JsonNode Ref(string name, IDictionary<string, JsonNode> defs, Func<JsonNode> build)
    {
        if (!defs.ContainsKey(name))
        {
            defs[name] = new JsonObject(); // placeholder against recursion
            defs[name] = build();
        }
        return new JsonObject { ["$ref"] = $"#/$defs/{name}" };
    }

    private static string DefName(string tableName) => tableName.Replace(' ', '-');

    private static JsonNode Shape(YamlShape shape, IDictionary<string, JsonNode> defs) => shape switch
    {
        ScalarShape => Ref("scalar", defs, () => new JsonObject
        {
            ["description"] = "a string, number or boolean: names, sizes (8K), addresses (buf+4992), numbers",
            ["type"] = new JsonArray("string", "number", "boolean"),
        }),
        BoolShape => Ref("boolean", defs, () => new JsonObject
        {
            ["enum"] = new JsonArray([true, false, .. YamlValues.TrueWords.Concat(YamlValues.FalseWords).Select(w => (JsonNode?)w)]),
        }),
        EnumShape e => new JsonObject { ["enum"] = new JsonArray([.. e.Values.Select(v => (JsonNode?)v)]) },
        ListShape { SingleAllowed: false } l => Array(l.Item, defs),
        ListShape l => new JsonObject { ["anyOf"] = new JsonArray(Shape(l.Item, defs), Array(l.Item, defs)) },
        MapShape m => Ref(DefName(m.Table.Name), defs, () => Object(m.Table, defs)),
        DictShape d => new JsonObject { ["type"] = "object", ["additionalProperties"] = Shape(d.Value, defs) },
        AnyOfShape a => new JsonObject { ["anyOf"] = new JsonArray([.. a.Shapes.Select(s => (JsonNode?)Shape(s, defs))]) },
        StepShape => Ref("step", defs, () => Step(defs)),
        _ => throw new InvalidOperationException($"no schema for {shape}"),
    };

    private static JsonObject Array(YamlShape item, IDictionary<string, JsonNode> defs) =>
        new() { ["type"] = "array", ["items"] = Shape(item, defs) };

    /// <summary>A step item: exactly one step name with its arguments, plus say:, diagram:, expect:.</summary>
    private static JsonObject Step(IDictionary<string, JsonNode> defs)
    {
        var registry = StepRegistry.Default;
        var branches = new JsonArray();
        foreach (var (name, summary) in registry.All())
        {
            var table = ScenarioKeys.Steps[name];
            var args = new JsonArray(Ref(DefName("step " + name), defs, () => Object(table, defs)));
            // Add(JsonNode), not Add<T>: the generic one is marked as needing reflection (trimming, native AOT).
            if (registry.ScalarKey(name) is { } key)
                args.Add((JsonNode)new JsonObject { ["description"] = $"stands for {{{key}: value}}", ["$ref"] = "#/$defs/scalar" });
            if (!table.Keys.Any(k => k.Required)) args.Add((JsonNode)new JsonObject { ["type"] = "null" });
            var branch = Object(ScenarioKeys.StepItem, defs, [(name, new JsonObject { ["anyOf"] = args })]);
            branch.Remove("type");
            branch["required"] = new JsonArray(name);
            branch["description"] = $"{name}: {summary}";
            branches.Add((JsonNode)branch);
        }
        return new JsonObject { ["type"] = "object", ["oneOf"] = branches };
    }
}
