using KernelSim.Tests.Cli;

namespace KernelSim.Tests.FsDax;

/// <summary>docs/fsdax.md shows Tests/FsDax/FsDaxDocExampleTests.cs verbatim, so the documented example is the checked one.</summary>
public class FsDaxDocTests
{
    [Test]
    public void FsdaxDoc_QuotesTheExampleTestVerbatim()
    {
        var code = File.ReadAllText(RepoFiles.Path("Tests/FsDax/FsDaxDocExampleTests.cs"));
        var doc = File.ReadAllText(RepoFiles.Path("docs/fsdax.md"));
        Assert.That(doc, Does.Contain("```csharp\n" + code + "```\n"), "docs/fsdax.md must quote FsDaxDocExampleTests.cs verbatim");
    }

    [Test]
    public void FsdaxDoc_QuotesThePerInodeDaxExampleVerbatim()
    {
        var code = File.ReadAllText(RepoFiles.Path("Tests/FsDax/PerInodeDaxDocExampleTests.cs"));
        var doc = File.ReadAllText(RepoFiles.Path("docs/fsdax.md"));
        Assert.That(doc, Does.Contain("```csharp\n" + code + "```\n"), "docs/fsdax.md must quote PerInodeDaxDocExampleTests.cs verbatim");
    }
}
