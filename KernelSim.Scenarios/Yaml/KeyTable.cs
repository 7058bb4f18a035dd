namespace KernelSim.Scenarios.Yaml;

/// <summary>
/// The keys one YAML mapping of a scenario or campaign file accepts, with the shape of each value. The parser
/// attaches the table to the <see cref="YamlMap"/> it reads (a debug build fails on a key the parser reads but the
/// table does not declare), and <see cref="Schema.FileSchemas"/> generates the JSON Schemas from the same tables.
/// </summary>
internal sealed class KeyTable
{
    private readonly Dictionary<string, YamlKey> _byName;

    public KeyTable(string name, params YamlKey[] keys)
    {
        Name = name;
        Keys = keys;
        _byName = keys.ToDictionary(k => k.Name, StringComparer.Ordinal);
    }

    /// <summary>What the mapping is ("machine", "step copy"), the schema's definition name.</summary>
    public string Name { get; }

    /// <summary>The keys in documentation order.</summary>
    public IReadOnlyList<YamlKey> Keys { get; }

    public bool Declares(string key) => _byName.ContainsKey(key);
}

/// <summary>One key of a <see cref="KeyTable"/>: its name, the shape of its value, whether it must be present.</summary>
internal sealed record YamlKey(string Name, YamlShape Shape, bool Required = false)
{
    public static implicit operator YamlKey(string name) => new(name, YamlShape.Scalar);
}

/// <summary>The shape of a YAML value, as the parser reads it.</summary>
internal abstract record YamlShape
{
    /// <summary>Any scalar: a string, number or boolean (sizes "8K", addresses "buf+4992", names, numbers).</summary>
    public static readonly YamlShape Scalar = new ScalarShape();

    /// <summary>A boolean as <see cref="YamlValues.Bool"/> reads it (true/false, yes/no, on/off).</summary>
    public static readonly YamlShape Bool = new BoolShape();

    /// <summary>A YAML sequence of <paramref name="item"/>, or one item standing for a one-item list (<see cref="YamlValues.List"/>).</summary>
    public static YamlShape List(YamlShape item) => new ListShape(item, SingleAllowed: true);

    /// <summary>A YAML sequence only (actors:, steps:).</summary>
    public static YamlShape Sequence(YamlShape item) => new ListShape(item, SingleAllowed: false);

    public static YamlShape Map(KeyTable table) => new MapShape(table);

    /// <summary>A mapping whose keys are names the file declares (actors), with values of one shape.</summary>
    public static YamlShape Dict(YamlShape value) => new DictShape(value);

    public static YamlShape Enum(IEnumerable<string> values) => new EnumShape(values.ToList());

    public static YamlShape AnyOf(params YamlShape[] shapes) => new AnyOfShape(shapes);
}

internal sealed record ScalarShape : YamlShape;

internal sealed record BoolShape : YamlShape;

internal sealed record ListShape(YamlShape Item, bool SingleAllowed) : YamlShape;

internal sealed record MapShape(KeyTable Table) : YamlShape;

internal sealed record DictShape(YamlShape Value) : YamlShape;

internal sealed record EnumShape(IReadOnlyList<string> Values) : YamlShape;

internal sealed record AnyOfShape(IReadOnlyList<YamlShape> Shapes) : YamlShape;
