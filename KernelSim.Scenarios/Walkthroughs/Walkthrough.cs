namespace KernelSim.Scenarios.Walkthroughs;

/// <summary>A built-in walkthrough: a scenario file with a story, shipped in scenarios/ and embedded in the tool.</summary>
/// <param name="Name">What `kernelsim walkthrough NAME` takes.</param>
/// <param name="Title">One line.</param>
/// <param name="Summary">A short paragraph for the list and the docs page.</param>
/// <param name="File">The repository path of its scenario file ("scenarios/user-sigbus.yaml").</param>
public sealed record Walkthrough(string Name, string Title, string Summary, string File)
{
    /// <summary>Two steps of every scenario in the file drawn side by side in the HTML step-through, or none.</summary>
    public SideBySide? Compare { get; init; }

    /// <summary>The scenario file's text (embedded resource named after <see cref="File"/>).</summary>
    public string Text()
    {
        var asm = typeof(Walkthrough).Assembly;
        using var s = asm.GetManifestResourceStream(File) ?? throw new InvalidOperationException($"walkthrough resource {File} is missing from the build");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }
}

/// <summary>Two steps of a scenario shown next to each other (the same step numbers in every scenario of the file).</summary>
/// <param name="Heading">What the pair shows.</param>
/// <param name="LeftStep">The 1-based index of the left step.</param>
/// <param name="LeftLabel">Its heading.</param>
/// <param name="RightStep">The 1-based index of the right step.</param>
/// <param name="RightLabel">Its heading.</param>
public sealed record SideBySide(string Heading, int LeftStep, string LeftLabel, int RightStep, string RightLabel);
