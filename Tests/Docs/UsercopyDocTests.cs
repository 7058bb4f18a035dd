using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Docs;

/// <summary>docs/usercopy.md shows Tests/Docs/UsercopyExampleTests.cs verbatim, so the documented example is the checked one.</summary>
public class UsercopyDocTests
{
    [Test]
    public void UsercopyDoc_QuotesUsercopyExampleTestsVerbatim()
    {
        var code = File.ReadAllText(RepoFiles.Path("Tests/Docs/UsercopyExampleTests.cs"));
        var doc = File.ReadAllText(RepoFiles.Path("docs/usercopy.md"));
        Assert.That(doc, Does.Contain("```csharp\n" + code + "```\n"), "docs/usercopy.md must quote UsercopyExampleTests.cs verbatim");
    }
}
