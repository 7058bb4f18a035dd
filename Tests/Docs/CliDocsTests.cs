using System.Text.RegularExpressions;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Docs;

/// <summary>
/// docs/cli.md and README.md stay true: every option each command's --help lists is documented in that command's
/// section of cli.md, and every `kernelsim …` / `dotnet run --project KernelSim.Cli -- …` command in their ```sh
/// blocks runs (in-process, output files in a temporary directory) with exit 0, or the code its comment gives
/// (`# exit 1: why`). A block preceded by `&lt;!-- doc-commands: skip (reason) --&gt;` is shown, not run.
/// </summary>
public partial class CliDocsTests
{
    private static readonly string[] Docs = ["README.md", "docs/cli.md"];

    /// <summary>Options whose value is a file or directory the command writes: it goes to the temporary directory.</summary>
    private static readonly HashSet<string> OutputOptions = ["--out", "-o", "--trace-out", "--html", "--resume"];

    /// <summary>The blocks shown but not run, with why; kept small on purpose.</summary>
    private static readonly string[] AllowedSkips =
    [
        ".ci/packaging runs these: they pack, install the tool and create a project from the template",
        "long runs: 5 000 and 10 000 seeds",
        "needs QEMU and a kernel package download; .ci/crosscheck runs it",
    ];

    [Test]
    public void EveryOptionOfEveryCommand_IsInItsCliMdSection()
    {
        var doc = File.ReadAllText(RepoFiles.Path("docs/cli.md"));
        var commands = Section(CliRun.Invoke("--help").Out, "Commands:").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).ToList();
        Assert.That(commands, Has.Count.EqualTo(10));
        var missing = new List<string>();
        foreach (var c in commands)
        {
            var section = CommandSection(doc, c);
            if (section == null)
            {
                missing.Add($"{c}: no section whose heading names `kernelsim {c}` or `{c}`");
                continue;
            }
            var (code, help, _) = CliRun.Invoke(c, "--help");
            Assert.That(code, Is.Zero);
            foreach (var line in Section(help, "Options:"))
            {
                var names = line.TrimStart().Split("  ")[0];
                foreach (Match m in OptionName().Matches(names))
                {
                    var name = m.Value;
                    if (name is "-?" or "-h" or "--help") continue;
                    if (!Regex.IsMatch(section, $"(?<![\\w-]){Regex.Escape(name)}(?![\\w-])")) missing.Add($"{c} {name}");
                }
            }
        }
        Assert.That(missing, Is.Empty, "options in --help but not in their docs/cli.md section");
    }

    [Test]
    public void CliMd_NamesEveryWalkthroughAndExercise()
    {
        var doc = File.ReadAllText(RepoFiles.Path("docs/cli.md"));
        var names = KernelSim.Scenarios.Walkthroughs.WalkthroughRegistry.All.Select(w => w.Name).Concat(KernelSim.Scenarios.Exercises.ExerciseRegistry.All.Select(e => e.Name));
        Assert.That(names.Where(n => !doc.Contains($"`{n}`", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void EveryCommandShownInReadmeAndCliMd_Runs()
    {
        var ran = 0;
        var failures = new List<string>();
        foreach (var docPath in Docs)
        {
            var dir = Path.Combine(Path.GetTempPath(), $"kernelsim-doccmd-{Environment.ProcessId}-{Path.GetFileNameWithoutExtension(docPath)}");
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Directory.CreateDirectory(dir);
            try
            {
                foreach (var block in ShellBlocks(File.ReadAllText(RepoFiles.Path(docPath))))
                {
                    if (block.Skip != null) continue;
                    foreach (var (lineNo, line) in block.Lines)
                    {
                        if (Command(line) is not { } command) continue;
                        var where = $"{docPath}:{lineNo}: {line.Trim()}";
                        if (command.Error != null)
                        {
                            failures.Add($"{where}: {command.Error}");
                            continue;
                        }
                        var args = Resolve(command.Args, dir);
                        var (code, output, err) = CliRun.Invoke(args);
                        if (command.Redirect != null) File.WriteAllText(Path.Combine(dir, command.Redirect), output);
                        if (code != command.Expected) failures.Add($"{where}: exit {code}, documented {command.Expected}; stderr: {err}");
                        ran++;
                    }
                }
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        Assert.That(failures, Is.Empty);
        Assert.That(ran, Is.GreaterThanOrEqualTo(25), "commands run");
    }

    [Test]
    public void SkippedBlocks_AreFewAndSayWhy()
    {
        var skips = Docs.SelectMany(d => ShellBlocks(File.ReadAllText(RepoFiles.Path(d))).Where(b => b.Skip != null).Select(b => b.Skip!)).ToList();
        Assert.That(skips, Is.EquivalentTo(AllowedSkips));
    }

    [Test]
    public void CommandParser_RedirectGlobExitAndErrors()
    {
        Assert.That(Command("ls -l"), Is.Null);
        Assert.That(Command("dotnet test KernelSim.sln"), Is.Null);
        var c = Command("kernelsim replay 23 -c 'a b.yaml' --trace chrome > seed.json   # exit 1: why")!;
        Assert.That((c.Args, c.Redirect, c.Expected, c.Error), Is.EqualTo((new[] { "replay", "23", "-c", "a b.yaml", "--trace", "chrome" }, "seed.json", 1, (string?)null)));
        Assert.That(Command("dotnet run --project KernelSim.Cli -- demo   # the walkthrough")!.Args, Is.EqualTo(new[] { "demo" }));
        Assert.That(Command("kernelsim demo | head")!.Error, Does.StartWith("shell syntax"));
        Assert.That(Command("tools/kernelsim demo")!.Error, Does.StartWith("an installed kernelsim"));
        var dir = Path.Combine(Path.GetTempPath(), $"kernelsim-doccmd-{Environment.ProcessId}-parser");
        Directory.CreateDirectory(dir);
        try
        {
            var args = Resolve(["run", "scenarios/mce-*.yaml", "--trace-out", "scenarios/t.json", "campaigns/example.yaml", "x.yaml"], dir);
            Assert.That(args, Is.EqualTo(new[] { "run", RepoFiles.Path("scenarios/mce-copy.yaml"), "--trace-out", Path.Combine(dir, "scenarios/t.json"), RepoFiles.Path("campaigns/example.yaml"), "x.yaml" }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>One command of a doc: its arguments, stdout redirection, expected exit code, or why it cannot be run.</summary>
    private sealed record DocCommand(string[] Args, string? Redirect, int Expected, string? Error);

    /// <summary>A ```sh block: its lines with their line numbers, and the reason of a skip marker before it.</summary>
    private sealed record ShellBlock(List<(int Line, string Text)> Lines, string? Skip);

    private static IEnumerable<ShellBlock> ShellBlocks(string doc)
    {
        var lines = doc.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (!ShellFence().IsMatch(lines[i])) continue;
            var j = i - 1;
            while (j >= 0 && lines[j].Trim().Length == 0) j--;
            var skip = j >= 0 && SkipMarker().Match(lines[j]) is { Success: true } m ? m.Groups[1].Value : null;
            var body = new List<(int, string)>();
            for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++) body.Add((i + 1, lines[i]));
            yield return new ShellBlock(body, skip);
        }
    }

    /// <summary>The kernelsim invocation on a doc line; null when the line runs something else.</summary>
    private static DocCommand? Command(string line)
    {
        var text = line.Trim();
        if (text.StartsWith("$ ", StringComparison.Ordinal)) text = text[2..];
        var expected = 0;
        var hash = text.IndexOf(" #", StringComparison.Ordinal);
        if (hash >= 0)
        {
            if (ExitComment().Match(text[(hash + 2)..]) is { Success: true } m) expected = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            text = text[..hash].TrimEnd();
        }
        const string DotnetRun = "dotnet run --project KernelSim.Cli --";
        string rest;
        if (text.StartsWith(DotnetRun, StringComparison.Ordinal)) rest = text[DotnetRun.Length..];
        else if (text == "kernelsim" || text.StartsWith("kernelsim ", StringComparison.Ordinal)) rest = text["kernelsim".Length..];
        else if (Regex.IsMatch(text, @"^\S*/kernelsim(\s|$)")) return new DocCommand([], null, 0, "an installed kernelsim: mark the block <!-- doc-commands: skip (why) -->");
        else return null;
        if (Regex.IsMatch(rest, @"[|;&`$<]")) return new DocCommand([], null, 0, "shell syntax the test does not run (|, ;, &, $, <, `): mark the block or simplify the command");
        var words = Words(rest);
        string? redirect = null;
        var gt = words.IndexOf(">");
        if (gt >= 0)
        {
            if (gt != words.Count - 2) return new DocCommand([], null, 0, "shell syntax: > FILE must end the command");
            redirect = words[^1];
            words = words.GetRange(0, gt);
        }
        return new DocCommand([.. words], redirect, expected, null);
    }

    /// <summary>Split on blanks, honouring '…' and "…".</summary>
    private static List<string> Words(string s)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        var inWord = false;
        char quote = '\0';
        foreach (var ch in s)
        {
            if (quote != '\0')
            {
                if (ch == quote) quote = '\0';
                else current.Append(ch);
            }
            else if (ch is '\'' or '"')
            {
                quote = ch;
                inWord = true;
            }
            else if (char.IsWhiteSpace(ch))
            {
                if (inWord) words.Add(current.ToString());
                current.Clear();
                inWord = false;
            }
            else
            {
                current.Append(ch);
                inWord = true;
            }
        }
        if (inWord) words.Add(current.ToString());
        return words;
    }

    /// <summary>
    /// Paths for an in-process run: an output option's value and files written earlier go to <paramref name="dir"/>,
    /// repository files and globs (scenarios/*.yaml) to the repository.
    /// </summary>
    private static string[] Resolve(string[] args, string dir)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (i > 0 && OutputOptions.Contains(args[i - 1])) result.Add(Path.Combine(dir, a));
            else if (a.StartsWith('-')) result.Add(a);
            else if (a.Contains('*', StringComparison.Ordinal))
            {
                var folder = Path.GetDirectoryName(a) ?? "";
                var matches = Directory.GetFiles(RepoFiles.Path(folder), Path.GetFileName(a)).Order(StringComparer.Ordinal).ToList();
                Assert.That(matches, Is.Not.Empty, a);
                result.AddRange(matches);
            }
            else if (File.Exists(Path.Combine(dir, a)) || Directory.Exists(Path.Combine(dir, a))) result.Add(Path.Combine(dir, a));
            else if (File.Exists(RepoFiles.Path(a)) || Directory.Exists(RepoFiles.Path(a))) result.Add(RepoFiles.Path(a));
            else result.Add(a);
        }
        return [.. result];
    }

    /// <summary>The indented lines under a --help heading ("Options:", "Commands:").</summary>
    private static IEnumerable<string> Section(string help, string heading) =>
        help.Split('\n').SkipWhile(l => l != heading).Skip(1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal));

    /// <summary>The text of the ## or ### section whose heading names the command, up to the next heading of its level or above.</summary>
    private static string? CommandSection(string doc, string command)
    {
        var lines = doc.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var h = Heading().Match(lines[i]);
            if (!h.Success) continue;
            var title = h.Groups[2].Value;
            if (!title.Contains($"`kernelsim {command}`", StringComparison.Ordinal) && !title.Contains($"`{command}`", StringComparison.Ordinal)) continue;
            var level = h.Groups[1].Value.Length;
            var end = i + 1;
            while (end < lines.Length && !(Heading().Match(lines[end]) is { Success: true } n && n.Groups[1].Value.Length <= level)) end++;
            return string.Join('\n', lines[i..end]);
        }
        return null;
    }

    [GeneratedRegex(@"^```(sh|bash|shell|console)\s*$")]
    private static partial Regex ShellFence();

    [GeneratedRegex(@"^<!-- doc-commands: skip \((.+)\) -->$")]
    private static partial Regex SkipMarker();

    [GeneratedRegex(@"^\s*exit (\d+)\b")]
    private static partial Regex ExitComment();

    [GeneratedRegex(@"-[\w?][\w-]*|--[\w-]+")]
    private static partial Regex OptionName();

    [GeneratedRegex(@"^(#{2,3}) (.*)$")]
    private static partial Regex Heading();
}
