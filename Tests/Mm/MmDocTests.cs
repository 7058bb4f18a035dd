using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Mm;

/// <summary>docs/mm.md shows Tests/Mm/MmDocExampleTests.cs verbatim, so the documented examples are the checked ones.</summary>
public class MmDocTests
{
    [Test]
    public void MmDoc_QuotesTheExampleTestVerbatim()
    {
        var code = File.ReadAllText(RepoFiles.Path("Tests/Mm/MmDocExampleTests.cs"));
        var doc = File.ReadAllText(RepoFiles.Path("docs/mm.md"));
        Assert.That(doc, Does.Contain("```csharp\n" + code + "```\n"), "docs/mm.md must quote MmDocExampleTests.cs verbatim");
    }
}
