using System.CommandLine;
using KernelSim.Cli.Rendering;
using KernelSim.Cli.Rendering.Html;
using KernelSim.Profiles;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Walkthroughs;

namespace KernelSim.Cli.Commands;

/// <summary>--html FILE and --profiles LIST: the HTML step-through of `run` and `walkthrough`.</summary>
internal static class HtmlOptions
{
    public static Option<string?> Html() => new("--html")
    {
        Description = "Write an offline HTML step-through of the run to FILE (narration, results, function trees, sequence diagrams, a release selector, a glossary) instead of the report",
        HelpName = "FILE",
    };

    /// <summary>--profiles 4.17,5.10,6.12: releases the page offers besides the file's own.</summary>
    public static Option<KernelVersion[]> Profiles() => new("--profiles")
    {
        Description = "With --html: also run every scenario on these releases (comma-separated, e.g. 4.17,5.10,6.12) for the page's release selector",
        HelpName = "V,V,...",
        DefaultValueFactory = _ => [],
        CustomParser = r =>
        {
            var list = new List<KernelVersion>();
            foreach (var token in r.Tokens)
            {
                foreach (var part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (CommonOptions.TryRelease(part, out var v, out var error)) list.Add(v);
                    else r.AddError($"unknown kernel version '{part}' in --profiles: {error}");
                }
            }
            return list.ToArray();
        },
    };

    /// <summary>--profiles needs --html; --html writes the page instead of the report, so the report's options cannot come with it.</summary>
    public static void Validate(Command cmd, Option<string?> html, Option<KernelVersion[]> profiles, params Option[] reportOnly) =>
        cmd.Validators.Add(r =>
        {
            var page = r.GetResult(html) != null;
            if (r.GetResult(profiles) != null && !page) r.AddError("--profiles needs --html");
            foreach (var o in reportOnly)
                if (page && r.GetResult(o) != null) r.AddError($"--html writes the page instead of the report: it cannot be combined with {o.Name}");
        });

    /// <summary>Run the scenarios for the page and write it; prints one line. Exit code: 0 when every as-written expectation holds, 1 when one fails, 73 when the file cannot be written.</summary>
    public static int Write(string file, string title, string? summary, string source, string command, IReadOnlyList<Scenario> scenarios,
        IReadOnlyList<KernelVersion> profiles, SideBySide? compare, Terminal term, Terminal err)
    {
        var doc = StepThrough.Run(title, summary, source, command, scenarios, profiles, compare, file);
        if (StepThrough.Write(doc, file) is { } error)
        {
            err.Line($"kernelsim: {error}");
            err.Writer.Flush();
            return ExitCodes.CannotCreate;
        }
        if (!StepThroughPage.HasMermaid)
        {
            err.Line("kernelsim: warning: built without Mermaid (npm was unavailable at build time): diagrams are shown as text");
            err.Writer.Flush();
        }
        var asWritten = doc.Releases[0].Results;
        var failed = asWritten.Count(r => !r.Passed);
        term.Line($"wrote {file}: {scenarios.Count} scenario(s) on {doc.Releases.Count} release choice(s) ({string.Join(", ", doc.Releases.Select(r => r.Kernel?.ToString() ?? "as written"))}); as written: {asWritten.Count - failed} passed, {failed} failed");
        term.Writer.Flush();
        return failed == 0 ? 0 : RunCommand.ExpectationFailed;
    }
}
