using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Docs;

/// <summary>docs/iterators.md shows Tests/Docs/IteratorExampleTests.cs verbatim, so the documented example is the checked one.</summary>
public class IteratorsDocTests
{
    [Test]
    public void IteratorsDoc_QuotesIteratorExampleTestsVerbatim()
    {
        var code = File.ReadAllText(RepoFiles.Path("Tests/Docs/IteratorExampleTests.cs"));
        var doc = File.ReadAllText(RepoFiles.Path("docs/iterators.md"));
        Assert.That(doc, Does.Contain("```csharp\n" + code + "```\n"), "docs/iterators.md must quote IteratorExampleTests.cs verbatim");
    }
}
