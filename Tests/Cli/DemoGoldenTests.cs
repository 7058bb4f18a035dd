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
    public void Demo_IsTheDaxBypassWalkthrough()
    {
        var demo = CliRun.Invoke("demo");
        var walkthrough = CliRun.Invoke("walkthrough", "dax-bypass");
        Assert.That(demo.Code, Is.Zero, demo.Err);
        Assert.That(demo.Out, Is.EqualTo(walkthrough.Out));
        Assert.That(demo.Out, Does.StartWith("KernelSim walkthrough dax-bypass: The DAX bypass\n"));
    }

    [Test]
    public void Demo_Default_TellsTheStoryWithSimulatedValues()
    {
        var (_, output, _) = CliRun.Invoke("demo");
        Assert.That(output, Does.Contain("  setup: Linux 4.17 (E0) cpu=fragile dram=256 MiB\n"));
        Assert.That(output, Does.Contain("  setup:   /dev/pmem0: namespace0.0 (Fsdax) pmem0 phys=0x100000000 size=67108864 data_offset=2097152\n"));
        Assert.That(output, Does.Contain("  [3] poison /mnt/pmem/F byte 4160 (line 4160..4223) = 0 (/dev/pmem0 byte 4160 = 0x1040, sector 8, pa 0x100201040, line 0x100201040)\n"));
        Assert.That(output, Does.Contain("  [6] app: pread(f, buf, 8192, 0): did not return: panic: Fatal local machine check: Data load in unrecoverable area of kernel\n"));
        Assert.That(output, Does.Contain("  [6] app: pread(f, buf, 8192, 0) = 4160\n"));
        Assert.That(output, Does.Contain("      checked: memory [buf+4160, +4032) is untouched (its own fill)\n"));
        Assert.That(output, Does.Contain("  [7] app: pread(f, buf, 4096, 4160) = -EFAULT (-14)\n"));
        Assert.That(output, Does.Contain("      badblocks pmem0: empty → \"8 1\"\n"));
        Assert.That(output, Does.Contain("  [10] app: pread(f, buf, 4096, 4160) = -EIO (-5)\n"));
        Assert.That(output, Does.EndWith("Done: 2 scenario(s), every expectation holds. The scenario file is scenarios/dax-bypass.yaml; run it with: kernelsim run scenarios/dax-bypass.yaml\n"));
    }

    [Test]
    public void Demo_KernelOverride_IsAWhatIf_The417DaxReadNoLongerPanics_Exit1()
    {
        var (code, output, _) = CliRun.Invoke("demo", "--kernel", "6.12");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain("What-if: every scenario runs on Linux 6.12 instead of its own machine"));
        Assert.That(output, Does.Contain("  FAIL scenario dax-bypass-4.17, step 6 (app: pread(f, buf, 8192, 0)), expect ret at scenarios/dax-bypass.yaml:50:12: expected no return, actual 4160\n"));
        Assert.That(output, Does.Contain("1 of 2 scenario(s) FAILED."));
    }

    [Test]
    public void Demo_CpuFragileTrace_ShowsCopyMcFragile()
    {
        var (code, output, _) = CliRun.Invoke("demo", "--cpu", "fragile", "--trace", "text");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("copy_mc_fragile() {"));
        Assert.That(output, Does.Contain("  [6] app: pread(f, buf, 8192, 0) = 4160\n"));
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
