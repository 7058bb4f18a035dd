using System.Xml.Linq;

namespace KernelSim.Tests.Architecture;

/// <summary>
/// The project graph: Kernel.Sim references nothing of ours; Drivers.Pmem and Fs.Dax only Kernel.Sim (a filesystem
/// knows no driver); Drivers.Virtiofs Kernel.Sim and Fs.Dax (virtio-fs uses fs/dax.c); KernelSim.Scenarios the four;
/// KernelSim.Cli the libraries (it builds on KernelSim.Scenarios); Tests and Bench anything. So no driver references
/// another driver, no library references KernelSim.Cli, and only KernelSim.Cli, Tests and Bench reference
/// KernelSim.Scenarios. A new project fails until it is given its place here.
/// </summary>
public class ProjectReferenceTests
{
    private static readonly string[] Core = ["Kernel.Sim", "Drivers.Pmem", "Fs.Dax", "Drivers.Virtiofs"];

    /// <summary>What each project may reference (null: anything).</summary>
    internal static readonly IReadOnlyDictionary<string, string[]?> Allowed = new Dictionary<string, string[]?>(StringComparer.Ordinal)
    {
        ["Kernel.Sim"] = [],
        ["Drivers.Pmem"] = ["Kernel.Sim"],
        ["Fs.Dax"] = ["Kernel.Sim"],
        ["Drivers.Virtiofs"] = ["Kernel.Sim", "Fs.Dax"],
        ["KernelSim.Scenarios"] = Core,
        ["KernelSim.Cli"] = [.. Core, "KernelSim.Scenarios"],
        ["Tests"] = null,
        ["Bench"] = null,
        // The dotnet new template package: content only, it compiles nothing.
        ["KernelSim.Templates"] = [],
    };

    /// <summary>"From → To" for every reference the graph forbids; "From (unknown project)" for a project with no place.</summary>
    internal static IEnumerable<string> Violations(string project, IEnumerable<string> references)
    {
        if (!Allowed.TryGetValue(project, out var allowed))
        {
            yield return $"{project} (unknown project: give it a place in {nameof(ProjectReferenceTests)}.{nameof(Allowed)})";
            yield break;
        }
        if (allowed == null) yield break;
        foreach (var r in references)
            if (!allowed.Contains(r)) yield return $"{project} → {r}";
    }

    [Test]
    public void EveryProjectReferencesOnlyWhatTheGraphAllows()
    {
        Assert.That(ProjectFiles.All.Keys, Is.SupersetOf(Allowed.Keys), "every project of the graph is found");
        var bad = ProjectFiles.All.Values.SelectMany(p => Violations(p.Name, p.References)).ToList();
        Assert.That(bad, Is.Empty);
    }

    [Test]
    public void TheReferencesAreRead()
    {
        Assert.That(ProjectFiles.All["Drivers.Virtiofs"].References, Is.EquivalentTo(new[] { "Kernel.Sim", "Fs.Dax" }));
        Assert.That(ProjectFiles.All["KernelSim.Cli"].References, Is.EqualTo(new[] { "KernelSim.Scenarios" }));
        Assert.That(ProjectFiles.All["Kernel.Sim"].References, Is.Empty);
    }

    [TestCase("Fs.Dax", "Drivers.Pmem", TestName = "A filesystem references a driver")]
    [TestCase("Drivers.Pmem", "Drivers.Virtiofs", TestName = "A driver references another driver")]
    [TestCase("Drivers.Pmem", "Fs.Dax", TestName = "pmem references fs/dax")]
    [TestCase("Kernel.Sim", "Fs.Dax", TestName = "The kernel core references a sibling")]
    [TestCase("KernelSim.Scenarios", "KernelSim.Cli", TestName = "A library references the CLI")]
    [TestCase("Drivers.Virtiofs", "KernelSim.Scenarios", TestName = "A driver references the scenarios")]
    public void Check_FlagsAForbiddenReference(string from, string to)
    {
        var xml = XDocument.Parse($"""
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup>
                <ProjectReference Include="..\{to}\{to}.csproj" />
              </ItemGroup>
            </Project>
            """);
        var p = ProjectFiles.Parse(from, xml, []);
        Assert.That(Violations(p.Name, p.References), Is.EqualTo(new[] { $"{from} → {to}" }));
    }

    [Test]
    public void Check_AllowsVirtiofsOnFsDax_AndTestsOnAnything_RejectsAnUnknownProject()
    {
        Assert.That(Violations("Drivers.Virtiofs", ["Kernel.Sim", "Fs.Dax"]), Is.Empty);
        Assert.That(Violations("Tests", ["KernelSim.Cli", "KernelSim.Scenarios", "Drivers.Pmem"]), Is.Empty);
        Assert.That(Violations("Drivers.Nvme", ["Kernel.Sim"]).Single(), Does.StartWith("Drivers.Nvme (unknown project"));
    }

    [Test]
    public void ItemsOfDirectoryBuildProps_CountForEveryProject()
    {
        var props = XDocument.Parse("""<Project><ItemGroup><ProjectReference Include="../Drivers.Pmem/Drivers.Pmem.csproj" /></ItemGroup></Project>""");
        var p = ProjectFiles.Parse("Fs.Dax", XDocument.Parse("<Project />"), [props]);
        Assert.That(Violations(p.Name, p.References), Is.EqualTo(new[] { "Fs.Dax → Drivers.Pmem" }));
    }
}
