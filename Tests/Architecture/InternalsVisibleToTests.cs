using System.Reflection;
using System.Runtime.CompilerServices;
using System.Xml.Linq;

namespace KernelSim.Tests.Architecture;

/// <summary>
/// No library lets anything but the test and benchmark projects see its internals: what a driver or filesystem
/// needs from the kernel core is public API. Checked on the project files and on the built assemblies (which also
/// catches an [assembly: InternalsVisibleTo] in source).
/// </summary>
public class InternalsVisibleToTests
{
    private static readonly string[] ExpectedLibraries =
        ["Drivers.Pmem", "Drivers.Virtiofs", "Fs.Dax", "Kernel.Sim", "KernelSim.Cli", "KernelSim.Scenarios"];

    /// <summary>"Lib → Friend" for every friend outside Tests and Bench.</summary>
    internal static IEnumerable<string> Violations(string library, IEnumerable<string> friends) =>
        friends.Where(f => !ProjectFiles.TestProjects.Contains(f)).Select(f => $"{library} → {f}");

    [Test]
    public void EveryLibraryProjectIsChecked()
    {
        Assert.That(ProjectFiles.Libraries.Select(p => p.Name), Is.SupersetOf(ExpectedLibraries));
    }

    [Test]
    public void ProjectFiles_GrantInternalsOnlyToTestsAndBench()
    {
        var bad = ProjectFiles.Libraries.SelectMany(p => Violations(p.Name, p.InternalsVisibleTo)).ToList();
        Assert.That(bad, Is.Empty, "InternalsVisibleTo items naming a non-test project");
        Assert.That(ProjectFiles.All["Kernel.Sim"].InternalsVisibleTo, Is.EquivalentTo(new[] { "Tests", "Bench" }), "the items are read");
    }

    [Test]
    public void BuiltAssemblies_GrantInternalsOnlyToTestsAndBench()
    {
        var bad = new List<string>();
        foreach (var p in ProjectFiles.Libraries)
        {
            var asm = Assembly.Load(new AssemblyName(p.AssemblyName));
            var friends = asm.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => ProjectFiles.FriendName(a.AssemblyName));
            bad.AddRange(Violations(p.Name, friends));
        }
        Assert.That(bad, Is.Empty, "InternalsVisibleToAttribute naming a non-test assembly");
        var kernel = typeof(KernelSim.Kernel.Machine).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName);
        Assert.That(kernel, Is.EquivalentTo(new[] { "Tests", "Bench" }), "the attributes are read");
    }

    [Test]
    public void Check_FlagsAFriendOutsideTestsAndBench_FromItemsAndAssemblyAttributes()
    {
        var xml = XDocument.Parse("""
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup>
                <InternalsVisibleTo Include="Tests" />
                <InternalsVisibleTo Include="Fs.Dax" />
                <AssemblyAttribute Include="System.Runtime.CompilerServices.InternalsVisibleToAttribute">
                  <_Parameter1>Drivers.Pmem, PublicKey=0024</_Parameter1>
                </AssemblyAttribute>
              </ItemGroup>
            </Project>
            """);
        var p = ProjectFiles.Parse("Kernel.Sim", xml, []);
        Assert.That(Violations(p.Name, p.InternalsVisibleTo), Is.EqualTo(new[] { "Kernel.Sim → Fs.Dax", "Kernel.Sim → Drivers.Pmem" }));
        Assert.That(Violations("Fs.Dax", ["Bench", "Tests"]), Is.Empty);
    }
}
