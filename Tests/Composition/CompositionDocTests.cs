using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Composition;

/// <summary>docs/api.md shows Tests/Composition/BlockDeviceDoubleTests.cs verbatim, so the documented example is the checked one.</summary>
public class CompositionDocTests
{
    [Test]
    public void ApiDoc_QuotesBlockDeviceDoubleTestsVerbatim()
    {
        var code = File.ReadAllText(RepoFiles.Path("Tests/Composition/BlockDeviceDoubleTests.cs"));
        var doc = File.ReadAllText(RepoFiles.Path("docs/api.md"));
        Assert.That(doc, Does.Contain("```csharp\n" + code + "```\n"), "docs/api.md must quote BlockDeviceDoubleTests.cs verbatim");
    }
}
