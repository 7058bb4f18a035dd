using KernelSim.Profiles;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Walkthroughs;

namespace KernelSim.Cli.Rendering.Html;

/// <summary>One choice of the release selector: every scenario of the file run on one release, or (Kernel null) each on its own machine.</summary>
/// <param name="Id">The selector value ("as-written", "5.10").</param>
/// <param name="Label">What the selector shows.</param>
/// <param name="Kernel">The release every scenario ran on; null for "as written".</param>
/// <param name="Results">One result per scenario, in file order.</param>
internal sealed record StepThroughRelease(string Id, string Label, KernelVersion? Kernel, IReadOnlyList<ScenarioResult> Results);

/// <summary>Everything the HTML step-through shows.</summary>
/// <param name="Title">The page title.</param>
/// <param name="Summary">A paragraph under the title, or null.</param>
/// <param name="Source">The scenario file.</param>
/// <param name="Command">The command that wrote the page.</param>
/// <param name="Compare">Two steps drawn side by side in every scenario, or null.</param>
/// <param name="Releases">"As written" first, then one per release.</param>
/// <param name="DocsRoot">The repository root relative to the page ("../"), for links to docs/kernel/; null when the page is outside a checkout.</param>
internal sealed record StepThroughDocument(string Title, string? Summary, string Source, string Command, SideBySide? Compare,
    IReadOnlyList<StepThroughRelease> Releases, string? DocsRoot);

/// <summary>Runs the scenarios of a file for the HTML step-through: as written, and on each release asked for.</summary>
internal static class StepThrough
{
    /// <summary>
    /// Run every scenario as written and on each release: the file's own releases plus <paramref name="profiles"/>
    /// (only the kernel changes; the CPU and everything else stay as the file says).
    /// </summary>
    public static StepThroughDocument Run(string title, string? summary, string source, string command, IReadOnlyList<Scenario> scenarios,
        IReadOnlyList<KernelVersion> profiles, SideBySide? compare, string outputFile)
    {
        var own = scenarios.Select(s => s.Machine.Kernel).Distinct().OrderBy(v => v).ToList();
        var releases = new List<StepThroughRelease>
        {
            new("as-written", $"as written ({string.Join(", ", own.Select(v => "Linux " + v))})", null, scenarios.Select(ScenarioRunner.Run).ToList()),
        };
        foreach (var v in own.Concat(profiles).Distinct().OrderBy(v => v))
        {
            var results = scenarios.Select(s => ScenarioRunner.Run(s with { Machine = s.Machine with { Kernel = v } })).ToList();
            releases.Add(new(v.ToString(), $"every scenario on Linux {v} ({KernelProfile.ForVersion(v).Era})", v, results));
        }
        return new(title, summary, source, command, compare, releases, DocsRoot(outputFile));
    }

    /// <summary>Write the page; null on success, else the error message.</summary>
    public static string? Write(StepThroughDocument doc, string file)
    {
        try
        {
            File.WriteAllText(file, StepThroughPage.Render(doc));
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"{file}: {e.Message}";
        }
    }

    /// <summary>The repository root relative to the page's folder when the page is written inside a checkout (docs/kernel/ found above it).</summary>
    private static string? DocsRoot(string outputFile)
    {
        string full;
        try
        {
            full = Path.GetFullPath(outputFile);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return null;
        }
        var pageDir = Path.GetDirectoryName(full);
        for (var dir = pageDir; dir != null; dir = Path.GetDirectoryName(dir))
        {
            if (!File.Exists(Path.Combine(dir, "docs", "kernel", "README.md"))) continue;
            var rel = Path.GetRelativePath(pageDir!, dir).Replace('\\', '/');
            return rel == "." ? "" : rel + "/";
        }
        return null;
    }
}
