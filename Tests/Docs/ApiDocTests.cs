using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Docs;

/// <summary>docs/api.md shows Tests/Docs/ApiExampleTests.cs and ScenarioFileExampleTests.cs verbatim, so the documented examples are the checked ones.</summary>
public class ApiDocTests
{
    [Test]
    public void ApiDoc_QuotesApiExampleTestsVerbatim()
    {
        var code = File.ReadAllText(RepoFiles.Path("Tests/Docs/ApiExampleTests.cs"));
        var doc = File.ReadAllText(RepoFiles.Path("docs/api.md"));
        Assert.That(doc, Does.Contain("```csharp\n" + code + "```\n"), "docs/api.md must quote ApiExampleTests.cs verbatim");
    }

    [Test]
    public void ApiDoc_QuotesScenarioFileExampleTestsVerbatim()
    {
        var code = File.ReadAllText(RepoFiles.Path("Tests/Docs/ScenarioFileExampleTests.cs"));
        var doc = File.ReadAllText(RepoFiles.Path("docs/api.md"));
        Assert.That(doc, Does.Contain("```csharp\n" + code + "```\n"), "docs/api.md must quote ScenarioFileExampleTests.cs verbatim");
    }
}
