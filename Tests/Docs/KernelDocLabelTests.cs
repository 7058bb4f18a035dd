using System.Text;
using System.Text.RegularExpressions;
using KernelSim.Profiles;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Docs;

/// <summary>
/// The repository stands alone: every label cited in code, tests, scenario and campaign files, docs, the generated
/// walkthrough pages and the CLI's printed output has an anchor in docs/kernel/; nothing refers to a specification
/// or design file outside the repository; every relative markdown link in the docs resolves (with its anchor, for
/// links into docs/kernel/).
/// </summary>
public partial class KernelDocLabelTests
{
    /// <summary>
    /// Cited labels, one alternative per family, each a whole word (no letter, digit or underscore on either side,
    /// so "E820", "0x10F00", "E2BIG" and test names like "S12b_Write" are not citations):
    /// WE1–WE20 worked examples; FI fault-in, MF memory_failure facts; DX per-inode DAX and the VFS calls around it;
    /// S scenarios (optional sub-case letter, "S9a"; "S9(b)" cites S9);
    /// VF facts and R commit references of virtio-fs; SH tmpfs/memfd facts; A/B/C/D/F/G/J facts of the copy, machine-check, iov_iter,
    /// buffered-I/O, DAX and invariant families; E0–E5 eras.
    /// </summary>
    [GeneratedRegex(@"(?<![A-Za-z0-9_])(?<l>WE\d{1,2}|FI\d{1,2}|MF\d{1,2}|MM\d{1,2}|VF\d{1,2}|DX\d{1,2}|DD\d{1,2}|NS\d{1,2}|BT\d{1,2}|SH\d{1,2}|S\d{1,2}[a-d]?|R\d{1,2}|[ABCDFGJ]\d{1,2}|E[0-5])(?![A-Za-z0-9_])")]
    private static partial Regex LabelRegex();

    /// <summary>A range of one family ("D16–D21", "S1-S5", "WE7–WE10", "F1–F3"): every label in between is cited too.</summary>
    [GeneratedRegex(@"(?<![A-Za-z0-9_])(?<f>WE|FI|MF|MM|VF|DX|DD|NS|BT|SH|S|R|E|[ABCDFGJ])(?<a>\d{1,2})\s?[–-]\s?\k<f>?(?<b>\d{1,2})(?![A-Za-z0-9_])")]
    private static partial Regex RangeRegex();

    /// <summary>An explicit anchor, &lt;a id="we8"&gt;&lt;/a&gt;.</summary>
    [GeneratedRegex(@"<a id=""(?<id>[^""]+)""></a>")]
    private static partial Regex AnchorRegex();

    /// <summary>References to material outside the repository.</summary>
    private static readonly (string What, Regex Pattern)[] OutsideCitations =
    [
        ("a path into ../shared or /work/shared", new Regex(@"\.\./shared\b|/work/shared\b|\bshared/(spec|DESIGN)")),
        ("DESIGN.md", new Regex(@"\bDESIGN\.md\b")),
        ("a numbered section of an outside spec (\"spec 6.3\", \"Spec §15\")", new Regex(@"\b[Ss]pec(ification)?\s+(§\s*)?\d+(\.\d+)*")),
        ("a section sign with a number (\"§5\")", new Regex(@"§\s*\d")),
        ("a label of an outside spec (\"spec C6\", \"Spec E\")", new Regex(@"\b[Ss]pec\s+([A-Z]{1,2}\d+|[A-Z]\b)")),
        ("\"the spec\"", new Regex(@"\b[Tt]he spec('s)?\b")),
        ("an outside spec file", new Regex(@"copy-uaccess-iov-iter|pmem-dax-memory-failure|virtiofs-dax\b")),
    ];

    private static readonly string KernelDir = RepoFiles.Path("docs/kernel");
    private static readonly string[] SkippedDirs = ["bin", "obj", ".git", ".vs", "TestResults", "BenchmarkDotNet.Artifacts", "out"];
    private static readonly string[] TextExtensions = [".cs", ".md", ".yaml", ".yml", ".txt", ".json", ".csproj", ".props", ".sln", ".svg", ".editorconfig", ".gitignore", ""];

    [Test]
    public void Labels_CitedAnywhere_HaveAnAnchorInDocsKernel()
    {
        var anchors = KernelAnchors();
        var missing = new List<string>();
        var cited = 0;
        foreach (var file in RepoTextFiles().Where(f => f.EndsWith(".cs") || f.EndsWith(".md") || f.EndsWith(".yaml") || f.EndsWith(".txt")))
            cited += CheckText(Rel(file), File.ReadAllText(file), anchors, missing);
        // The printed output beyond docs/demo-output.txt and the walkthrough pages: the release table and the list.
        cited += CheckText("kernelsim profiles --kernel 5.10", CliRun.Invoke("profiles", "--kernel", "5.10").Out, anchors, missing);
        cited += CheckText("kernelsim walkthrough", CliRun.Invoke("walkthrough").Out, anchors, missing);
        Assert.That(cited, Is.GreaterThan(300), "the scan found too few citations: is the repository root right?");
        Assert.That(missing, Is.Empty, "labels without an anchor in docs/kernel/ (add <a id=\"label\"></a> there):\n" + string.Join("\n", missing));
    }

    [Test]
    public void Labels_Scanner_FindsWholeWordsRangesAndScopes()
    {
        var found = Cited("docs/x.md", "see D16–D21, S9(b), WE8; not E820, 0x10F00, E2BIG or S12b_Write; era E5").ToList();
        Assert.That(found.Select(c => c.Label), Is.EqualTo(new[] { "D16", "D17", "D18", "D19", "D20", "D21", "S9", "WE8", "E5" }));
        Assert.That(found.Single(c => c.Label == "S9").Page, Is.EqualTo("fsdax.md"));
        Assert.That(Cited("Tests/Virtiofs/T.cs", "S2 livelocks").Single().Page, Is.EqualTo("virtiofs.md"));
        Assert.That(Cited("Kernel.Sim/P.cs", "(virtio-fs S11)").Single().Page, Is.EqualTo("virtiofs.md"));
        Assert.That(Cited("Kernel.Sim/P.cs", "(A15)").Single().Page, Is.Null);
    }

    [Test]
    public void Labels_AnUnanchoredLabel_IsReported()
    {
        var missing = new List<string>();
        var unknown = "WE" + 99;
        CheckText("docs/x.md", unknown + " and S3", KernelAnchors(), missing);
        Assert.That(missing, Is.EqualTo(new[] { $"docs/x.md:1: {unknown} (no anchor #{unknown.ToLowerInvariant()} in docs/kernel/)" }));
    }

    [Test]
    public void Repository_RefersToNothingOutsideIt()
    {
        var self = RepoFiles.Path("Tests/Docs/KernelDocLabelTests.cs");
        var hits = new List<string>();
        foreach (var file in RepoTextFiles().Where(f => f != self))
        {
            var lines = File.ReadAllLines(file);
            for (var n = 0; n < lines.Length; n++)
                foreach (var (what, pattern) in OutsideCitations)
                    if (pattern.Match(lines[n]) is { Success: true } m)
                        hits.Add($"{Rel(file)}:{n + 1}: {what}: \"{m.Value}\"");
        }
        Assert.That(hits, Is.Empty, "cite docs/kernel/ or docs/architecture.md instead:\n" + string.Join("\n", hits));
    }

    [Test]
    public void Docs_RelativeLinks_Resolve()
    {
        var anchors = new Dictionary<string, HashSet<string>>();
        var broken = new List<string>();
        var checkedLinks = 0;
        var files = Directory.EnumerateFiles(RepoFiles.Path("docs"), "*.md", SearchOption.AllDirectories).Append(RepoFiles.Path("README.md"));
        foreach (var file in files)
        {
            var text = StripCode(File.ReadAllText(file));
            foreach (Match m in MarkdownLinkRegex().Matches(text))
            {
                var target = m.Groups["t"].Value;
                if (target.Contains("://") || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                checkedLinks++;
                var hash = target.IndexOf('#');
                var pathPart = hash < 0 ? target : target[..hash];
                var anchor = hash < 0 ? "" : target[(hash + 1)..];
                var full = pathPart.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, pathPart));
                var where = $"{Rel(file)}: ({target})";
                if (!File.Exists(full) && !Directory.Exists(full)) broken.Add($"{where}: no such file");
                else if (anchor.Length > 0 && full.StartsWith(KernelDir + Path.DirectorySeparatorChar, StringComparison.Ordinal) && File.Exists(full))
                {
                    if (!anchors.TryGetValue(full, out var ids)) anchors[full] = ids = AnchorsOf(File.ReadAllText(full));
                    if (!ids.Contains(anchor)) broken.Add($"{where}: no anchor #{anchor}");
                }
            }
        }
        Assert.That(checkedLinks, Is.GreaterThan(100));
        Assert.That(broken, Is.Empty, string.Join("\n", broken));
    }

    [Test]
    public void Eras_ListsEveryKernelProfileSwitch()
    {
        var eras = File.ReadAllText(Path.Combine(KernelDir, "eras.md"));
        var absent = KernelProfile.Default.Switches().Select(s => s.Name).Where(n => !eras.Contains($"`{n}`", StringComparison.Ordinal));
        Assert.That(absent, Is.Empty, "docs/kernel/eras.md must list every KernelProfile switch");
        foreach (var era in new[] { "E0", "E1", "E2", "E3", "E4", "E5" })
            Assert.That(eras, Does.Contain($"<a id=\"{era.ToLowerInvariant()}\"></a>**{era} "), era);
    }

    // ---- scanning ---------------------------------------------------------------------------------------------

    /// <summary>A cited label and the docs/kernel page it must resolve on (null: any page).</summary>
    private readonly record struct Citation(int Line, string Label, string? Page);

    /// <summary>
    /// The citations of a text. S-labels are scoped: in a file whose path contains "virtiofs" or on a line that
    /// mentions virtio they are the virtio-fs scenarios (docs/kernel/virtiofs.md), elsewhere the pmem/fsdax ones
    /// (docs/kernel/fsdax.md).
    /// </summary>
    private static IEnumerable<Citation> Cited(string source, string text)
    {
        var virtiofsFile = source.Contains("virtiofs", StringComparison.OrdinalIgnoreCase);
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n];
            var scope = virtiofsFile || line.Contains("virtio", StringComparison.OrdinalIgnoreCase) ? "virtiofs.md" : "fsdax.md";
            var labels = new List<(int Pos, int Seq, string Label)>();
            foreach (Match m in RangeRegex().Matches(line))
            {
                int a = int.Parse(m.Groups["a"].Value), b = int.Parse(m.Groups["b"].Value);
                for (var k = a; k <= b && b - a < 30; k++) labels.Add((m.Index, k - a, m.Groups["f"].Value + k));
            }
            labels.AddRange(LabelRegex().Matches(line).Select(m => (m.Index, 0, m.Groups["l"].Value)));
            foreach (var l in labels.OrderBy(x => x.Pos).ThenBy(x => x.Seq).Select(x => x.Label).Distinct())
                yield return new Citation(n + 1, l, l[0] == 'S' && char.IsDigit(l[1]) ? scope : null);
        }
    }

    /// <summary>Records every citation of <paramref name="text"/> that has no anchor; returns how many it checked.</summary>
    private static int CheckText(string source, string text, Dictionary<string, HashSet<string>> anchors, List<string> missing)
    {
        var ownPage = source.StartsWith("docs/kernel/", StringComparison.Ordinal) ? source["docs/kernel/".Length..] : null;
        var count = 0;
        foreach (var c in Cited(source, text))
        {
            count++;
            var id = c.Label.ToLowerInvariant();
            var ok = c.Page == null
                ? anchors.Values.Any(ids => ids.Contains(id))
                : anchors.GetValueOrDefault(c.Page)?.Contains(id) == true
                  || (ownPage != null && anchors.GetValueOrDefault(ownPage)?.Contains(id) == true);
            if (!ok) missing.Add($"{source}:{c.Line}: {c.Label} (no anchor #{id} in docs/kernel/{c.Page})");
        }
        return count;
    }

    /// <summary>Explicit anchors of every docs/kernel page, by file name.</summary>
    private static Dictionary<string, HashSet<string>> KernelAnchors() =>
        Directory.EnumerateFiles(KernelDir, "*.md").ToDictionary(f => Path.GetFileName(f), f => AnchorsOf(File.ReadAllText(f)));

    /// <summary>Explicit &lt;a id&gt; anchors and the GitHub ids of the headings of a markdown page.</summary>
    private static HashSet<string> AnchorsOf(string markdown)
    {
        var ids = AnchorRegex().Matches(markdown).Select(m => m.Groups["id"].Value).ToHashSet();
        var seen = new Dictionary<string, int>();
        foreach (var line in StripCode(markdown).Split('\n').Where(l => l.StartsWith('#')))
        {
            var title = line.TrimStart('#').Trim().ToLowerInvariant();
            var slug = new StringBuilder();
            foreach (var ch in title)
                if (char.IsLetterOrDigit(ch) || ch is '-' or '_') slug.Append(ch);
                else if (ch == ' ') slug.Append('-');
            var s = slug.ToString();
            var k = seen.GetValueOrDefault(s);
            seen[s] = k + 1;
            ids.Add(k == 0 ? s : $"{s}-{k}");
        }
        return ids;
    }

    /// <summary>The text files of the repository (build output, .git and tool folders left out).</summary>
    private static IEnumerable<string> RepoTextFiles()
    {
        var pending = new Stack<string>([RepoFiles.Root]);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var sub in Directory.EnumerateDirectories(dir))
                if (!SkippedDirs.Contains(Path.GetFileName(sub))) pending.Push(sub);
            foreach (var file in Directory.EnumerateFiles(dir))
                if (TextExtensions.Contains(Path.GetExtension(file))) yield return file;
        }
    }

    private static string Rel(string file) => Path.GetRelativePath(RepoFiles.Root, file).Replace('\\', '/');

    /// <summary>The text without fenced code blocks and inline code spans (links there are not links).</summary>
    private static string StripCode(string markdown) => InlineCodeRegex().Replace(FenceRegex().Replace(markdown, ""), "");

    [GeneratedRegex(@"^```.*?^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FenceRegex();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCodeRegex();

    [GeneratedRegex(@"\]\((?<t>[^)\s]+)\)")]
    private static partial Regex MarkdownLinkRegex();
}
