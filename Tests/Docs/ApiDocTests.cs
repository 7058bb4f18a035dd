using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Docs;

/// <summary>docs/api.md shows Tests/Docs/ApiExampleTests.cs verbatim, so the documented example is the checked one.</summary>
public class ApiDocTests
{
    [Test]
    public void ApiDoc_QuotesApiExampleTestsVerbatim()
    {
        var code = File.ReadAllText(RepoFiles.Path("Tests/Docs/ApiExampleTests.cs"));
        var doc = File.ReadAllText(RepoFiles.Path("docs/api.md"));
        Assert.That(doc, Does.Contain("```csharp\n" + code + "```\n"), "docs/api.md must quote ApiExampleTests.cs verbatim");
    }
}
