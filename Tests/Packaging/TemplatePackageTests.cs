using System.Xml.Linq;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Packaging;

/// <summary>
/// The dotnet new template references the packages this build packs: KernelSim.Scenarios at the version of
/// Directory.Build.props, and the test packages at the versions Directory.Packages.props pins (so a template project
/// restores from the same cache offline).
/// </summary>
public class TemplatePackageTests
{
    private static string Property(string file, string name) =>
        XDocument.Load(RepoFiles.Path(file)).Descendants().Single(e => e.Name.LocalName == name).Value.Trim();

    private static Dictionary<string, string> Versions(string file, string item) =>
        XDocument.Load(RepoFiles.Path(file)).Descendants().Where(e => e.Name.LocalName == item)
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string?)e.Attribute("Version") ?? "");

    [Test]
    public void Template_ReferencesThisBuildsPackagesAndPins()
    {
        var template = Versions("templates/content/kernelsim-nunit/KernelSimTests.csproj", "PackageReference");
        var pinned = Versions("Directory.Packages.props", "PackageVersion");

        Assert.That(template.Keys, Is.EquivalentTo(new[] { "KernelSim.Scenarios", "Microsoft.NET.Test.Sdk", "NUnit", "NUnit3TestAdapter", "NUnit.Analyzers" }));
        Assert.That(template["KernelSim.Scenarios"], Is.EqualTo(Property("Directory.Build.props", "Version")));
        foreach (var (id, version) in template.Where(kv => kv.Key != "KernelSim.Scenarios"))
            Assert.That(version, Is.EqualTo(pinned[id]), id);
    }

    [Test]
    public void Template_ShortNameAndSourceName()
    {
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(RepoFiles.Path("templates/content/kernelsim-nunit/.template.config/template.json"))).RootElement;

        Assert.That(json.GetProperty("shortName").GetString(), Is.EqualTo("kernelsim-nunit"));
        Assert.That(json.GetProperty("sourceName").GetString(), Is.EqualTo("KernelSimTests"), "the project file's name, replaced by -n/-o");
        Assert.That(File.Exists(RepoFiles.Path("templates/content/kernelsim-nunit/KernelSimTests.csproj")), Is.True);
    }
}
