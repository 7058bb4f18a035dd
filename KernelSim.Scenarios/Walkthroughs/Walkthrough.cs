namespace KernelSim.Scenarios.Walkthroughs;

/// <summary>A built-in walkthrough: a scenario file with a story, shipped in scenarios/ and embedded in the tool.</summary>
/// <param name="Name">What `kernelsim walkthrough NAME` takes.</param>
/// <param name="Title">One line.</param>
/// <param name="Summary">A short paragraph for the list and the docs page.</param>
/// <param name="File">The repository path of its scenario file ("scenarios/user-sigbus.yaml").</param>
public sealed record Walkthrough(string Name, string Title, string Summary, string File)
{
    /// <summary>The scenario file's text (embedded resource named after <see cref="File"/>).</summary>
    public string Text()
    {
        var asm = typeof(Walkthrough).Assembly;
        using var s = asm.GetManifestResourceStream(File) ?? throw new InvalidOperationException($"walkthrough resource {File} is missing from the build");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }
}
