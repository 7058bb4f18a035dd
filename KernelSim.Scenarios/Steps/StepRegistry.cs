namespace KernelSim.Scenarios.Steps;

/// <summary>Parses a step's arguments into a runnable step (throws <see cref="ScenarioException"/> for bad input).</summary>
internal delegate IScenarioStep StepParser(StepParseContext context);

/// <summary>
/// The steps a scenario file can use, by name. Each layer registers its own (mm and user access, kernel copy
/// routines, files); later layers (pmem, fsdax, virtio-fs) add theirs with <see cref="Register(string, string, StepParser)"/> without
/// touching the parser.
/// </summary>
internal sealed class StepRegistry
{
    private readonly Dictionary<string, (StepParser Parser, string Summary)> _steps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _scalarKeys = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>Add a step; the name must be new.</summary>
    public StepRegistry Register(string name, string summary, StepParser parser)
    {
        if (!_steps.TryAdd(name, (parser, summary))) throw new InvalidOperationException($"step '{name}' registered twice");
        _order.Add(name);
        return this;
    }

    /// <summary>
    /// Add a step that may also be written with a scalar argument ("ndctl: start-scrub"), which stands for
    /// {<paramref name="scalarKey"/>: value}.
    /// </summary>
    public StepRegistry Register(string name, string summary, string scalarKey, StepParser parser)
    {
        Register(name, summary, parser);
        _scalarKeys[name] = scalarKey;
        return this;
    }

    /// <summary>The key a scalar argument of the step stands for, or null when the step takes a mapping only.</summary>
    public string? ScalarKey(string name) => _scalarKeys.GetValueOrDefault(name);

    public bool TryGet(string name, out StepParser parser)
    {
        if (_steps.TryGetValue(name, out var e))
        {
            parser = e.Parser;
            return true;
        }
        parser = null!;
        return false;
    }

    /// <summary>Step names in registration order, with their one-line summaries.</summary>
    public IEnumerable<(string Name, string Summary)> All()
    {
        foreach (var n in _order) yield return (n, _steps[n].Summary);
    }

    /// <summary>Every step this build knows.</summary>
    public static StepRegistry Default { get; } = CreateDefault();

    private static StepRegistry CreateDefault()
    {
        var r = new StepRegistry();
        MmSteps.Register(r);
        ProcessSteps.Register(r);
        AccessSteps.Register(r);
        KernelSteps.Register(r);
        FileSteps.Register(r);
        FsSteps.Register(r);
        VfsSteps.Register(r);
        PmemSteps.Register(r);
        VirtioFsSteps.Register(r);
        ShmemSteps.Register(r);
        PathSteps.Register(r);
        PageSteps.Register(r);
        return r;
    }
}
