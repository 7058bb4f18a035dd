using System.Text.RegularExpressions;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Packaging;

/// <summary>
/// README's "Install the tool and the template" commands are the ones .ci/packaging runs: every line of the
/// README block, with ~/kernelsim written as the script's temporary directory "$K", is a command of the script.
/// </summary>
public partial class PackagingScriptTests
{
    private const string Section = "## Install the tool and the template";

    [GeneratedRegex(@"~/kernelsim(?<rest>\S*)")]
    private static partial Regex Home();

    /// <summary>The shell lines of the first sh block after the section heading.</summary>
    internal static IReadOnlyList<string> ReadmeCommands(string readme)
    {
        var at = readme.IndexOf(Section, StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), "README has the section");
        var start = readme.IndexOf("```sh\n", at, StringComparison.Ordinal) + "```sh\n".Length;
        var end = readme.IndexOf("```", start, StringComparison.Ordinal);
        return readme[start..end].Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The README line as the script writes it.</summary>
    internal static string AsScript(string line) => Home().Replace(line, m => $"\"$K{m.Groups["rest"].Value}\"");

    [Test]
    public void ReadmeInstallCommands_AreTheCommandsCiRuns()
    {
        var script = File.ReadAllText(RepoFiles.Path(".ci/packaging"));
        var commands = ReadmeCommands(File.ReadAllText(RepoFiles.Path("README.md")));

        Assert.That(commands, Has.Count.EqualTo(12));
        Assert.That(commands.Select(AsScript).Where(c => !script.Contains(c, StringComparison.Ordinal)), Is.Empty,
            "README commands .ci/packaging does not run");
        Assert.That(commands, Has.Some.EqualTo("dotnet test MyKernelTests"));
    }

    [Test]
    public void AsScript_WritesHomeAsTheTemporaryDirectory()
    {
        Assert.That(AsScript("dotnet pack KernelSim.sln -o ~/kernelsim/feed"), Is.EqualTo("dotnet pack KernelSim.sln -o \"$K/feed\""));
        Assert.That(AsScript("cd ~/kernelsim"), Is.EqualTo("cd \"$K\""));
        Assert.That(File.ReadAllText(RepoFiles.Path(".ci/packaging")), Does.Not.Contain(AsScript("tools/kernelsim run scenarios/mce-copy.yaml")),
            "a command the script does not run is not found");
    }

    [Test]
    public void TemplatePackageName_CarriesTheBuildVersion()
    {
        var version = System.Xml.Linq.XDocument.Load(RepoFiles.Path("Directory.Build.props")).Descendants()
            .Single(e => e.Name.LocalName == "Version").Value.Trim();
        Assert.That(ReadmeCommands(File.ReadAllText(RepoFiles.Path("README.md"))),
            Has.Some.EqualTo($"dotnet new install feed/KernelSim.Templates.{version}.nupkg"));
    }
}
