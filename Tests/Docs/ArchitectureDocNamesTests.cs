using System.Reflection;
using System.Text.RegularExpressions;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Docs;

/// <summary>
/// docs/architecture.md and docs/api.md name classes and members of the code; every `Type.Member` they cite
/// in backticks must exist (any visibility, nested types and enum members included), so a rename that
/// leaves the docs behind fails here.
/// </summary>
public class ArchitectureDocNamesTests
{
    private static readonly string[] Assemblies =
        ["Kernel.Sim", "Drivers.Pmem", "Fs.Dax", "Drivers.Virtiofs", "KernelSim.Scenarios", "kernelsim"];

    // `Type.Member`, `Type.Member(args)` or `Type.Member<T>`: the cited name is the part before any '(' or '<'.
    private static readonly Regex Cited = new(@"`(?<type>[A-Z][A-Za-z0-9]*)\.(?<member>[A-Z][A-Za-z0-9_]*)(?:[(<][^`]*)?`", RegexOptions.Compiled);

    private static Dictionary<string, List<Type>> TypesByName()
    {
        var map = new Dictionary<string, List<Type>>(StringComparer.Ordinal);
        foreach (var name in Assemblies)
        {
            foreach (var t in Assembly.Load(name).GetTypes())
            {
                var simple = t.Name.Split('`')[0];
                if (!map.TryGetValue(simple, out var list)) map[simple] = list = [];
                list.Add(t);
            }
        }
        return map;
    }

    private static bool HasMember(Type t, string member)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy;
        for (var x = t; x != null; x = x.BaseType)
            if (x.GetMember(member, all).Length > 0) return true;
        foreach (var i in t.GetInterfaces())
            if (i.GetMember(member, all).Length > 0) return true;
        return false;
    }

    private static IEnumerable<string> Missing(string doc, Dictionary<string, List<Type>> types, HashSet<string> extensionMethods)
    {
        var text = File.ReadAllText(RepoFiles.Path(doc));
        foreach (Match m in Cited.Matches(text))
        {
            var type = m.Groups["type"].Value;
            var member = m.Groups["member"].Value;
            if (!types.TryGetValue(type, out var candidates)) continue; // a file name (`Process.Io.cs`) or a non-type
            if (candidates.Any(t => HasMember(t, member)) || extensionMethods.Contains(member)) continue;
            yield return $"{doc}: `{type}.{member}`";
        }
    }

    // Extension methods (`machine.Pmem`, `builder.AddDaxFs`) are cited as members of the type they extend.
    private static HashSet<string> ExtensionMethods() =>
        Assemblies.SelectMany(a => Assembly.Load(a).GetTypes())
            .Where(t => t.IsSealed && t.IsAbstract)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(m => m.IsDefined(typeof(System.Runtime.CompilerServices.ExtensionAttribute), false))
            .Select(m => m.Name).ToHashSet(StringComparer.Ordinal);

    [TestCase("docs/architecture.md")]
    [TestCase("docs/api.md")]
    public void EveryCitedTypeMember_Exists(string doc)
    {
        var missing = Missing(doc, TypesByName(), ExtensionMethods()).Distinct().ToList();
        Assert.That(missing, Is.Empty, string.Join("\n", missing));
    }

    [Test]
    public void Scanner_FlagsAMemberThatDoesNotExist()
    {
        var types = TypesByName();
        Assert.That(types.ContainsKey("Machine"), Is.True);
        Assert.That(types["Machine"].Any(t => HasMember(t, "Run")), Is.True);
        Assert.That(types["Machine"].Any(t => HasMember(t, "NoSuchMember")), Is.False);
        Assert.That(Cited.Match("`Machine.Run(process, \"sys_…\", …)`").Groups["member"].Value, Is.EqualTo("Run"));
    }
}
