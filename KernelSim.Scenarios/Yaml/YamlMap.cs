using System.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Yaml;

/// <summary>
/// Reads one YAML mapping of a scenario file with locations: every key asked for is remembered, and
/// <see cref="Done"/> reports the first key nobody asked for as "unknown key" at its line and column.
/// </summary>
internal sealed class YamlMap
{
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly List<string> _known = [];
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public YamlMap(string file, YamlMappingNode node, string what)
    {
        File = file;
        Node = node;
        What = what;
        foreach (var (k, v) in node.Children)
        {
            if (k is not YamlScalarNode ks || ks.Value is null) throw new ScenarioException(file, k.Start, $"{what}: keys must be plain names");
            var key = ks.Value;
            if (!_entries.TryAdd(key, (ks, v))) throw new ScenarioException(file, k.Start, $"{what}: duplicate key '{key}'");
            _order.Add(key);
        }
    }

    /// <summary>Read a node that must be a mapping, whose keys <paramref name="table"/> declares.</summary>
    public static YamlMap Of(string file, YamlNode node, string what, KeyTable? table = null) =>
        node is YamlMappingNode m ? new YamlMap(file, m, what) { Table = table } : throw new ScenarioException(file, node.Start, $"{what}: expected a mapping (key: value lines)");

    /// <summary>The keys this mapping accepts (the schemas' source), or null for a mapping keyed by declared names (actors).</summary>
    public KeyTable? Table { get; init; }

    public string File { get; }
    public YamlMappingNode Node { get; }
    /// <summary>What this mapping is, for messages ("machine", "step 'write'").</summary>
    public string What { get; }
    public Mark Start => Node.Start;

    /// <summary>Keys in file order.</summary>
    public IReadOnlyList<string> Keys => _order;

    /// <summary>True when the key is present (the key counts as known).</summary>
    public bool Has(string key)
    {
        Know(key);
        return _entries.ContainsKey(key);
    }

    /// <summary>The value of a key, or null when absent; the key is marked as used.</summary>
    public YamlNode? Get(string key)
    {
        Know(key);
        if (!_entries.TryGetValue(key, out var e)) return null;
        _used.Add(key);
        return e.Value;
    }

    /// <summary>The key node itself (for locating errors about a key).</summary>
    public YamlScalarNode KeyNode(string key) => _entries[key].Key;

    /// <summary>A required value.</summary>
    public YamlNode Require(string key) => Get(key) ?? throw Error(Node, $"{What}: missing required key '{key}'");

    public string? Str(string key) => Get(key) is { } n ? YamlValues.Scalar(File, n, $"{What}.{key}") : null;

    public string RequireStr(string key) => YamlValues.Scalar(File, Require(key), $"{What}.{key}");

    public ulong? Size(string key) => Get(key) is { } n ? YamlValues.Size(File, n, $"{What}.{key}") : null;

    public long? Long(string key) => Get(key) is { } n ? YamlValues.Long(File, n, $"{What}.{key}") : null;

    public bool? Bool(string key) => Get(key) is { } n ? YamlValues.Bool(File, n, $"{What}.{key}") : null;

    public YamlMap? Map(string key) => Get(key) is { } n ? Of(File, n, $"{What}.{key}") : null;

    /// <summary>A sequence value (a single non-sequence value counts as a one-item list).</summary>
    public IReadOnlyList<YamlNode>? List(string key) => Get(key) is { } n ? YamlValues.List(n) : null;

    /// <summary>Mark a key as known without reading it (for "expected one of" messages).</summary>
    public void Know(string key)
    {
        CheckDeclared(key);
        if (!_known.Contains(key)) _known.Add(key);
    }

    /// <summary>Fail on the first key that was never asked for.</summary>
    public void Done()
    {
        foreach (var key in _order)
        {
            if (_used.Contains(key)) continue;
            var known = _known.Count == 0 ? "none" : string.Join(", ", _known);
            throw Error(_entries[key].Key, $"{What}: unknown key '{key}' (expected one of: {known})");
        }
    }

    /// <summary>A debug build (the tests) fails when the parser reads a key its table does not declare: the schema would refuse it.</summary>
    [Conditional("DEBUG")]
    private void CheckDeclared(string key)
    {
        if (Table != null && !Table.Declares(key))
            throw new InvalidOperationException($"{What}: the parser reads key '{key}', which KeyTable '{Table.Name}' does not declare");
    }

    public ScenarioException Error(YamlNode node, string reason) =>
        new(File, ReferenceEquals(node, Node) && !Fallback.Equals(Mark.Empty) ? Fallback : node.Start.Line > 0 ? node.Start : Fallback, reason);

    /// <summary>Where errors about a synthetic mapping (empty, or made from a scalar argument) point: the key or scalar that introduced it.</summary>
    public Mark Fallback { get; init; } = Mark.Empty;
}
