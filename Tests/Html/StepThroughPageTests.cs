using System.Text.Json;
using System.Text.RegularExpressions;
using KernelSim.Cli.Rendering.Html;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Html;

/// <summary>
/// The HTML step-through as text: self-contained, escaped, deterministic; the release selector, the matrix of
/// differences, the side-by-side bypass, the glossary links and the source links at each release. The browser
/// test (StepThroughBrowserTests) checks that it renders.
/// </summary>
[TestFixture]
public partial class StepThroughPageTests
{
    private string _dir = "";
    private string _page = "";

    [OneTimeSetUp]
    public void WriteDaxBypassPage()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"kernelsim-page-{Environment.ProcessId}");
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, "dax-bypass.html");
        var (code, output, err) = CliRun.Invoke("walkthrough", "dax-bypass", "--html", file, "--profiles", "5.10,6.12");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Is.EqualTo($"wrote {file}: 2 scenario(s) on 4 release choice(s) (as written, 4.17, 5.10, 6.12); as written: 2 passed, 0 failed\n"));
        _page = File.ReadAllText(file);
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Page_IsSelfContained_NothingLoadedWhenViewed()
    {
        // The markup is everything before the two inline scripts at the end of the body.
        var markup = _page[.._page.IndexOf("<script>", StringComparison.Ordinal)];
        Assert.Multiple(() =>
        {
            Assert.That(_page, Does.StartWith("<!DOCTYPE html>\n<html lang=\"en\">"));
            Assert.That(ScriptTag().Matches(_page), Has.Count.EqualTo(2), "Mermaid and the page's own script, both inline");
            Assert.That(_page, Does.Not.Match("<script[^>]* src="), "no external script");
            Assert.That(markup, Does.Not.Contain("<link"), "no external stylesheet");
            Assert.That(markup, Does.Not.Match("<(img|iframe|object|embed)"), "nothing else fetched");
            Assert.That(_page, Does.Contain($"Mermaid {StepThroughPage.MermaidVersion} (MIT license)"));
            Assert.That(_page, Does.Contain("Permission is hereby granted, free of charge"), "Mermaid's license travels with it");
        });
        // Every link points inside the page, at a docs/kernel page of the checkout, or at a kernel source cross-reference.
        foreach (Match m in Href().Matches(markup))
        {
            var href = m.Groups[1].Value;
            Assert.That(href.StartsWith('#') || href.StartsWith("https://elixir.bootlin.com/linux/v", StringComparison.Ordinal), Is.True, href);
        }
    }

    [Test]
    public void Page_ReleaseSelector_OffersAsWrittenAndEachRelease_OnlyAsWrittenVisible()
    {
        Assert.That(Option().Matches(_page).Select(m => m.Groups[1].Value), Is.EqualTo(new[] { "as-written", "4.17", "5.10", "6.12" }));
        Assert.That(_page, Does.Contain("<option value=\"as-written\">as written (Linux 4.17, Linux 6.12)</option>"));
        Assert.That(_page, Does.Contain("<option value=\"5.10\">every scenario on Linux 5.10 (E2)</option>"));
        Assert.That(_page, Does.Contain("<section class=\"run\" data-release=\"as-written\">"));
        Assert.That(_page, Does.Contain("<section class=\"run\" data-release=\"6.12\" hidden>"));
    }

    [Test]
    public void Page_DifferencesFromTheFilesOwnRelease_AreHighlighted()
    {
        // dax-bypass-4.17 step 6 (the DAX read): a panic as written, 4160 bytes on 5.10 and 6.12.
        Assert.That(_page, Does.Contain("<td data-col=\"as-written\">did not return: panic: Fatal local machine check: Data load in unrecoverable area of kernel</td>"));
        Assert.That(_page, Does.Contain("<td data-col=\"6.12\" class=\"diff\">= 4160</td>"));
        Assert.That(_page, Does.Contain("<div class=\"was\">as written (Linux 4.17): did not return: panic: Fatal local machine check: Data load in unrecoverable area of kernel</div>"));
        // The block path read fails with EIO on every release: not highlighted.
        Assert.That(_page, Does.Contain("<td data-col=\"5.10\">= -EIO (-5)</td>"));
    }

    [Test]
    public void Page_BypassSideBySide_BlockPathAndDaxPath_WithTheirDiagrams()
    {
        var pairs = Regex.Matches(_page, "<div class=\"pair\"><h3>The bypass: the same 8 KiB of latent poison read two ways</h3><div class=\"side-by-side\">" +
            "<div data-step=\"5\"><h3>The block path: pread of /dev/pmem0 \\(O_DIRECT\\) through the pmem driver</h3>.*?<pre class=\"mermaid\">sequenceDiagram" +
            ".*?<div data-step=\"6\"><h3>The DAX path: pread of /mnt/pmem/F \\(dax=always\\), fs/dax.c copies itself</h3>.*?<pre class=\"mermaid\">sequenceDiagram", RegexOptions.Singleline);
        Assert.That(pairs, Has.Count.EqualTo(8), "2 scenarios x 4 release choices");
    }

    [Test]
    public void Page_KernelFunctions_LinkToTheirSourceAtTheRelease_SimulatorStandInsDoNot()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_page, Does.Contain("<a href=\"https://elixir.bootlin.com/linux/v4.17/A/ident/memcpy_mcsafe\" title=\"memcpy_mcsafe in Linux 4.17 (x86)\">memcpy_mcsafe</a>"));
            Assert.That(_page, Does.Contain("<a href=\"https://elixir.bootlin.com/linux/v6.12/A/ident/copy_mc_to_user\""));
            Assert.That(_page, Does.Contain("<a href=\"https://elixir.bootlin.com/linux/v5.10/A/ident/dax_iomap_rw\""));
            Assert.That(_page, Does.Not.Contain("ident/daxfs_"));
            Assert.That(_page, Does.Contain("<span class=\"sim\" title=\"the simulator&#x27;s stand-in (no kernel source)\">daxfs_iomap_begin</span>"));
        });
        Assert.That(FunctionTree.IsKernelFunction("__pmem_direct_access"), Is.True);
        Assert.That(FunctionTree.IsKernelFunction("user_load"), Is.False);
        Assert.That(FunctionTree.SourceUrl(new(5, 15), "kill_me_maybe"), Is.EqualTo("https://elixir.bootlin.com/linux/v5.15/A/ident/kill_me_maybe"));
    }

    [Test]
    public void Page_GlossaryTerms_AreLinkedWhereTheyAppear_LongestSpellingFirst()
    {
        foreach (var e in Glossary.Entries) Assert.That(_page, Does.Contain($"<dt id=\"{e.Id}\">"), e.Id);
        Assert.Multiple(() =>
        {
            Assert.That(_page, Does.Contain("<a class=\"term\" href=\"#g-einj\" title=\"EINJ\">EINJ</a> puts"));
            Assert.That(_page, Does.Contain("context <a class=\"term\" href=\"#g-in-kernel-recov\" title=\"IN_KERNEL_RECOV (machine-check context)\">IN_KERNEL_RECOV</a>, severity <a class=\"term\" href=\"#g-sev-ar\""));
            Assert.That(_page, Does.Contain("context <a class=\"term\" href=\"#g-in-kernel\" title=\"IN_KERNEL (machine-check context)\">IN_KERNEL</a>, severity <a class=\"term\" href=\"#g-sev-panic\""));
            Assert.That(_page, Does.Contain("setup: Linux 4.17 (<a class=\"term\" href=\"#g-e0\""));
            Assert.That(_page, Does.Contain("href=\"#g-badblocks\""));
            Assert.That(_page, Does.Contain("href=\"#g-nfit\""));
        });
        Assert.That(Glossary.Split("IN_KERNEL_RECOVERY and XAR").All(p => p.Entry == null), Is.True, "whole words only");
    }

    [Test]
    public void Glossary_EveryEntryCitesAnAnchorOfDocsKernel()
    {
        foreach (var e in Glossary.Entries)
        {
            var parts = e.Source.Split('#');
            Assert.That(parts, Has.Length.EqualTo(2), e.Source);
            Assert.That(parts[0], Does.StartWith("docs/kernel/"));
            var page = File.ReadAllText(RepoFiles.Path(parts[0]));
            Assert.That(page, Does.Contain($"<a id=\"{parts[1]}\"></a>"), e.Source);
        }
    }

    [Test]
    public void Glossary_LinksToTheCheckoutsDocs_WhenThePageIsWrittenInsideIt()
    {
        var dir = RepoFiles.Path("Tests/bin");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"kernelsim-glossary-{Environment.ProcessId}.html");
        try
        {
            var (code, _, err) = CliRun.Invoke("walkthrough", "mce-copy", "--html", file);
            Assert.That(code, Is.Zero, err);
            Assert.That(File.ReadAllText(file), Does.Contain("(<a href=\"../../docs/kernel/pmem.md#injection\">docs/kernel/pmem.md#injection</a>)"));
        }
        finally
        {
            File.Delete(file);
        }
        // Outside a checkout the source is named, not linked.
        Assert.That(_page, Does.Contain("(<code>docs/kernel/pmem.md#injection</code>)"));
    }

    [Test]
    public void EveryWalkthrough_WritesItsPage_OnOldAndNewReleases()
    {
        foreach (var w in KernelSim.Scenarios.Walkthroughs.WalkthroughRegistry.All)
        {
            var file = Path.Combine(_dir, w.Name + ".html");
            var (code, output, err) = CliRun.Invoke("walkthrough", w.Name, "--html", file, "--profiles", "4.17,5.10,6.12");
            Assert.That(code, Is.Zero, w.Name + ": " + err);
            Assert.That(output, Does.StartWith($"wrote {file}: "));
            Assert.That(File.ReadAllText(file), Does.Contain($"<title>KernelSim walkthrough {w.Name}: "));
        }
    }

    [Test]
    public void Page_IsDeterministic()
    {
        var again = Path.Combine(_dir, "again.html");
        var (code, _, _) = CliRun.Invoke("walkthrough", "dax-bypass", "--html", again, "--profiles", "6.12,5.10,6.12");
        Assert.That(code, Is.Zero);
        Assert.That(File.ReadAllText(again), Is.EqualTo(_page), "same page; --profiles order and duplicates do not matter");
    }

    [Test]
    public void RunHtml_EscapesWhatTheScenarioFileSays()
    {
        var yaml = Path.Combine(_dir, "evil.yaml");
        File.WriteAllText(yaml, """
            scenario: evil
            title: "<script>alert(1)</script> & \"quotes\""
            story: "<img src=x onerror=alert(2)>"
            actors:
              - name: app
                mappings: [{name: buf, size: 4K}]
            steps:
              - load: {actor: app, at: buf}
                say: "</pre><b>bold</b>"
                expect: {signal: none}
            """);
        var html = Path.Combine(_dir, "evil.html");
        var (code, output, err) = CliRun.Invoke("run", yaml, "--html", html);
        Assert.That(code, Is.Zero, err + output);
        var page = File.ReadAllText(html);
        Assert.Multiple(() =>
        {
            Assert.That(page, Does.Contain("<p class=\"call\">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;</p>"));
            Assert.That(page, Does.Contain("<div class=\"story\">&lt;img src=x onerror=alert(2)&gt;</div>"));
            Assert.That(page, Does.Contain("<div class=\"say\">&lt;/pre&gt;&lt;b&gt;bold&lt;/b&gt;</div>"));
            Assert.That(ScriptTag().Matches(page), Has.Count.EqualTo(2));
            Assert.That(page[..page.IndexOf("<script>", StringComparison.Ordinal)], Does.Not.Contain("<img"));
        });
    }

    [Test]
    public void HtmlBuilder_EncodesTextAndAttributes_RefusesMarkupInNames()
    {
        var h = new HtmlBuilder();
        h.Open("p", ("title", "a\"b<c>&"), ("hidden", ""), ("data-x", null)).Text("1 < 2 → 3 & \"x\"").Close("p");
        Assert.That(h.ToString(), Is.EqualTo("<p title=\"a&quot;b&lt;c&gt;&amp;\" hidden>1 &lt; 2 → 3 &amp; &quot;x&quot;</p>"));
        Assert.Throws<ArgumentException>(() => new HtmlBuilder().Open("p onclick=x"));
        Assert.Throws<ArgumentException>(() => new HtmlBuilder().Open("p", ("on click", "x")));
        Assert.Throws<InvalidOperationException>(() => new HtmlBuilder().Open("div").ToString());
        Assert.That(new HtmlBuilder().Script("var s = '</script><b>';").ToString(), Is.EqualTo("<script>var s = '<\\/script><b>';</script>"));
    }

    [Test]
    public void Html_BadProfilesIsAUsageError_UnwritableFileExit73()
    {
        var (code, _, err) = CliRun.Invoke("walkthrough", "mce-copy", "--html", Path.Combine(_dir, "x.html"), "--profiles", "5.10,abc");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("kernelsim: unknown kernel version 'abc' in --profiles: expected major.minor such as 6.12"));
        (code, _, err) = CliRun.Invoke("walkthrough", "mce-copy", "--html", _dir);
        Assert.That(code, Is.EqualTo(73));
        Assert.That(err, Does.StartWith($"kernelsim: {_dir}: "));
    }

    [TestCase("--profiles needs --html", "walkthrough", "mce-copy", "--profiles", "5.10")]
    [TestCase("--html writes the page instead of the report: it cannot be combined with --json", "run", "scenarios/mce-copy.yaml", "--html", "x.html", "--json")]
    [TestCase("--html writes the page instead of the report: it cannot be combined with --trace", "walkthrough", "mce-copy", "--html", "x.html", "--trace", "text")]
    public void Html_OptionsThatMeanNothingWithOrWithoutIt_AreUsageErrors(string message, params string[] args)
    {
        if (args[0] == "run") args[1] = RepoFiles.Path(args[1]);
        var (code, output, err) = CliRun.Invoke(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith($"kernelsim: {message}\n"));
        Assert.That(output, Is.Empty);
        Assert.That(File.Exists("x.html"), Is.False);
    }

    [Test]
    public void TraceOut_WritesPureTraceEventJson_AndTheReportStillPrints()
    {
        var file = Path.Combine(_dir, "trace.json");
        var (code, output, err) = CliRun.Invoke("run", RepoFiles.Path("scenarios/mce-copy.yaml"), "--trace-out", file);
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("3 scenario(s): 3 passed, 0 failed"));
        var text = File.ReadAllText(file);
        Assert.That(text, Does.StartWith("{\"displayTimeUnit\":\"ns\",\"traceEvents\":["));
        using var json = JsonDocument.Parse(text);
        var names = json.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("name").GetString() == "process_name").Select(e => e.GetProperty("args").GetProperty("name").GetString()).ToList();
        Assert.That(names, Is.EqualTo(new[] { "mce-copy (Linux 6.12)", "mce-copy-no-recovery (Linux 6.12)", "mce-copy-user-load (Linux 6.12)" }));

        var wt = Path.Combine(_dir, "walkthrough-trace.json");
        (code, _, err) = CliRun.Invoke("walkthrough", "dax-bypass", "--trace-out", wt);
        Assert.That(code, Is.Zero, err);
        using var json2 = JsonDocument.Parse(File.ReadAllText(wt));
        Assert.That(json2.RootElement.GetProperty("traceEvents").GetArrayLength(), Is.GreaterThan(100));
    }

    [Test]
    public void MermaidStep_DrawsOnlyThatStep()
    {
        var (code, output, err) = CliRun.Invoke("run", RepoFiles.Path("scenarios/dax-bypass.yaml"), "--trace", "mermaid", "--step", "6");
        Assert.That(code, Is.Zero, err);
        var blocks = Regex.Matches(output, "```mermaid\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.That(blocks, Has.Count.EqualTo(2), "one per scenario");
        Assert.Multiple(() =>
        {
            Assert.That(blocks[0], Does.StartWith("sequenceDiagram\n    participant user\n    participant syscall\n"));
            Assert.That(blocks[0], Does.Contain("    fs->>iov_iter: _copy_to_iter\n    iov_iter->>x86: copy_user_generic\n"), "4.17: the plain copy");
            Assert.That(blocks[0], Does.EndWith("    Note over syscall: did not return - panic: Fatal local machine check: Data load in unrecoverable area of kernel\n"));
            Assert.That(blocks[0], Does.Not.Contain("blkdev"), "only step 6, not the block read of step 5");
            Assert.That(blocks[1], Does.Contain("copy_mc_to_user"));
            Assert.That(blocks[1], Does.EndWith("    syscall-->>user: sys_pread64 returns\n"));
        });
        (code, output, _) = CliRun.Invoke("run", RepoFiles.Path("scenarios/mce-copy.yaml"), "--trace", "mermaid", "--step", "9");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("(scenario mce-copy has no step 9: it has 3)"));
    }

    [TestCase("--step", "0")]
    [TestCase("--step", "x")]
    public void MermaidStep_BadNumber_IsAUsageError(string option, string value)
    {
        var (code, _, err) = CliRun.Invoke("walkthrough", "dax-bypass", "--trace", "mermaid", option, value);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith($"kernelsim: --step '{value}': expected a step number, 1 or more\n"));
    }

    [Test]
    public void MermaidStep_WithoutTraceMermaid_IsAUsageError()
    {
        var (code, _, err) = CliRun.Invoke("run", RepoFiles.Path("scenarios/mce-copy.yaml"), "--trace", "text", "--step", "2");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("kernelsim: --step needs --trace mermaid\n"));
    }

    [GeneratedRegex("<script>")]
    private static partial Regex ScriptTag();

    [GeneratedRegex("href=\"([^\"]*)\"")]
    private static partial Regex Href();

    [GeneratedRegex("<option value=\"([^\"]*)\"")]
    private static partial Regex Option();
}
