using System.Text.RegularExpressions;

namespace KernelSim.Tests.Cli;

/// <summary>
/// The `kernelsim demo` output is documented verbatim: docs/demo-output.txt (plain) and
/// docs/demo-trace-output.txt (--trace text) are the single source of truth, docs/cli.md quotes the first
/// between markers. When the simulator's behaviour changes, these tests fail until the docs are
/// regenerated: run the tests with KERNELSIM_UPDATE_DOCS=1 to rewrite the files, then review the diff.
/// </summary>
public partial class DemoGoldenTests
{
    private const string DemoDoc = "docs/demo-output.txt";
    private const string TraceDoc = "docs/demo-trace-output.txt";
    private const string CliDoc = "docs/cli.md";
    private const string BeginMarker = "<!-- demo-output:begin (generated from docs/demo-output.txt) -->";
    private const string EndMarker = "<!-- demo-output:end -->";

    private static bool Update => Environment.GetEnvironmentVariable("KERNELSIM_UPDATE_DOCS") == "1";

    [Test]
    public void Demo_DefaultOutput_MatchesDocsDemoOutput()
    {
        var (code, output, err) = CliRun.Invoke("demo");
        Assert.That(code, Is.Zero, err);
        Golden(DemoDoc, output);
    }

    [Test]
    public void Demo_TraceText_MatchesDocsDemoTraceOutput()
    {
        var (code, output, err) = CliRun.Invoke("demo", "--trace", "text");
        Assert.That(code, Is.Zero, err);
        Golden(TraceDoc, output);
    }

    [Test]
    public void CliDoc_QuotesDemoOutputVerbatim()
    {
        var (_, output, _) = CliRun.Invoke("demo");
        var path = RepoFiles.Path(CliDoc);
        var doc = File.ReadAllText(path);
        var begin = doc.IndexOf(BeginMarker, StringComparison.Ordinal);
        var end = doc.IndexOf(EndMarker, StringComparison.Ordinal);
        Assert.That(begin, Is.GreaterThanOrEqualTo(0), "docs/cli.md lacks the demo-output begin marker");
        Assert.That(end, Is.GreaterThan(begin), "docs/cli.md lacks the demo-output end marker");
        var expected = BeginMarker + "\n```text\n" + output + "```\n";
        var actual = doc[begin..end];
        if (Update && actual != expected)
        {
            File.WriteAllText(path, doc[..begin] + expected + doc[end..]);
            return;
        }
        Assert.That(actual, Is.EqualTo(expected), "docs/cli.md is stale: rerun with KERNELSIM_UPDATE_DOCS=1");
    }

    [Test]
    public void Demo_Default_TellsTheStoryWithSimulatedValues()
    {
        var (_, output, _) = CliRun.Invoke("demo");
        Assert.That(output, Does.Contain("Linux 6.12 (E5) cpu=erms dram=256 MiB"));
        Assert.That(output, Does.Contain("copy_mc_to_user returned 3200 (bytes not copied): 4992 copied"));
        Assert.That(output, Does.Contain("user buffer [0, 4992) equals the source: yes; [4992, 8192) untouched 0xff: yes"));
        Assert.That(output, Does.Contain("context IN_KERNEL_RECOV, severity AR"));
        Assert.That(output, Does.Contain("signals for reader[1000]: none; process running; machine running"));
        Assert.That(output, Does.Contain("copy_mc_to_kernel did not return: panic: Fatal local machine check: Data load in unrecoverable area of kernel"));
        Assert.That(output, Does.Contain("first load at 0x7ffff7ffc234: SIGBUS BUS_MCEERR_AR si_addr=0x7ffff7ffc000 si_addr_lsb=12"));
        Assert.That(output, Does.Contain("second load at 0x7ffff7ffc234: SIGBUS BUS_MCEERR_AR si_addr=0x7ffff7ffc234 si_addr_lsb=12"));
    }

    [Test]
    public void Demo_Kernel417_CopyMcToUserPanicsAndAFreshMachineTakesTheUserStep()
    {
        var (code, output, _) = CliRun.Invoke("demo", "--kernel", "4.17");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("copy_mc_to_user did not return: panic: Fatal local machine check"));
        Assert.That(output, Does.Contain("the first machine panicked; booted a fresh one: Linux 4.17 (E0) cpu=erms"));
    }

    [Test]
    public void Demo_CpuFragileTrace_ShowsCopyMcFragile()
    {
        var (code, output, _) = CliRun.Invoke("demo", "--cpu", "fragile", "--trace", "text");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("copy_mc_fragile() {"));
        Assert.That(output, Does.Contain("copy_mc_to_user returned 3200"));
    }

    [Test]
    public void Demo_RunTwice_ByteIdentical()
    {
        var first = CliRun.Invoke("demo", "--trace", "text").Out;
        var second = CliRun.Invoke("demo", "--trace", "text").Out;
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void Demo_PlainOutput_HasNoAnsiEscapes_ColorOutputDiffersOnlyByEscapes()
    {
        var plain = CliRun.Invoke(false, "demo").Out;
        var color = CliRun.Invoke(true, "demo").Out;
        // Ordinal: culture-sensitive search treats control characters as ignorable.
        Assert.That(plain.Contains('\u001b', StringComparison.Ordinal), Is.False, "no ANSI escape in plain output");
        Assert.That(color.Contains("\u001b[", StringComparison.Ordinal), Is.True, "headings are styled in colour mode");
        Assert.That(Ansi().Replace(color, ""), Is.EqualTo(plain));
    }

    [Test]
    public void NoCommand_RunsTheDemo()
    {
        var bare = CliRun.Invoke().Out;
        var demo = CliRun.Invoke("demo").Out;
        Assert.That(bare, Is.EqualTo(demo));
    }

    [GeneratedRegex("\u001b\\[[0-9;]*m")]
    private static partial Regex Ansi();

    private static void Golden(string relative, string actual)
    {
        var path = RepoFiles.Path(relative);
        if (Update)
        {
            File.WriteAllText(path, actual);
            return;
        }
        Assert.That(File.Exists(path), Is.True, $"{relative} missing: run the tests with KERNELSIM_UPDATE_DOCS=1");
        Assert.That(actual, Is.EqualTo(File.ReadAllText(path)), $"{relative} is stale: rerun with KERNELSIM_UPDATE_DOCS=1 and review the diff");
    }
}
