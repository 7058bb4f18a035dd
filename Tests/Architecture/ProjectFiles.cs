using System.Xml.Linq;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Architecture;

/// <summary>One project of the repository as its MSBuild file declares it.</summary>
/// <param name="Name">The project file's name without .csproj ("Fs.Dax").</param>
/// <param name="AssemblyName">The AssemblyName property, else <paramref name="Name"/>.</param>
/// <param name="References">ProjectReference items, as project names.</param>
/// <param name="InternalsVisibleTo">InternalsVisibleTo items and InternalsVisibleToAttribute AssemblyAttribute items.</param>
internal sealed record ProjectFile(string Name, string AssemblyName, IReadOnlyList<string> References, IReadOnlyList<string> InternalsVisibleTo);

/// <summary>
/// Reads every project of the repository (ROOT/*/*.csproj) with System.Xml.Linq. Items of a Directory.Build.props or
/// Directory.Build.targets at the root are added to every project, since MSBuild imports them into each.
/// </summary>
internal static class ProjectFiles
{
    /// <summary>The projects that may see internals and reference anything: the test and benchmark projects.</summary>
    public static readonly IReadOnlySet<string> TestProjects = new HashSet<string>(StringComparer.Ordinal) { "Tests", "Bench" };

    /// <summary>Projects that compile no code of ours: the dotnet new template package (templates/).</summary>
    public static readonly IReadOnlySet<string> ContentProjects = new HashSet<string>(StringComparer.Ordinal) { "KernelSim.Templates" };

    /// <summary>Every project under the repository root, by name.</summary>
    public static IReadOnlyDictionary<string, ProjectFile> All { get; } = Load(RepoFiles.Root);

    /// <summary>Every project except <see cref="TestProjects"/> and <see cref="ContentProjects"/>.</summary>
    public static IEnumerable<ProjectFile> Libraries => All.Values.Where(p => !TestProjects.Contains(p.Name) && !ContentProjects.Contains(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal);

    private static Dictionary<string, ProjectFile> Load(string root)
    {
        var shared = new List<XDocument>();
        foreach (var f in new[] { "Directory.Build.props", "Directory.Build.targets" })
        {
            var path = Path.Combine(root, f);
            if (File.Exists(path)) shared.Add(XDocument.Load(path));
        }
        var result = new Dictionary<string, ProjectFile>(StringComparer.Ordinal);
        foreach (var dir in Directory.GetDirectories(root))
        {
            foreach (var csproj in Directory.GetFiles(dir, "*.csproj"))
            {
                var p = Parse(Path.GetFileNameWithoutExtension(csproj), XDocument.Load(csproj), shared);
                result.Add(p.Name, p);
            }
        }
        return result;
    }

    /// <summary>The project named <paramref name="name"/> from its XML and the XML every project imports.</summary>
    public static ProjectFile Parse(string name, XDocument project, IEnumerable<XDocument> imported)
    {
        var docs = imported.Prepend(project).ToList();
        var assemblyName = project.Descendants().LastOrDefault(e => e.Name.LocalName == "AssemblyName")?.Value.Trim();
        var refs = docs.SelectMany(d => Items(d, "ProjectReference"))
            .Select(i => Path.GetFileNameWithoutExtension(i.Replace('\\', '/')))
            .ToList();
        var ivt = docs.SelectMany(d => Items(d, "InternalsVisibleTo")).ToList();
        foreach (var d in docs)
        {
            foreach (var a in d.Descendants().Where(e => e.Name.LocalName == "AssemblyAttribute" &&
                         (string?)e.Attribute("Include") == "System.Runtime.CompilerServices.InternalsVisibleToAttribute"))
            {
                var arg = a.Elements().FirstOrDefault(e => e.Name.LocalName == "_Parameter1")?.Value ?? (string?)a.Attribute("_Parameter1");
                if (arg != null) ivt.Add(FriendName(arg));
            }
        }
        return new ProjectFile(name, string.IsNullOrEmpty(assemblyName) ? name : assemblyName, refs, ivt);
    }

    /// <summary>The assembly a friend declaration names, without ", PublicKey=…".</summary>
    public static string FriendName(string declaration) => declaration.Split(',')[0].Trim();

    private static IEnumerable<string> Items(XDocument d, string item) =>
        d.Descendants().Where(e => e.Name.LocalName == item)
            .Select(e => (string?)e.Attribute("Include"))
            .Where(s => !string.IsNullOrWhiteSpace(s))
            .SelectMany(s => s!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
