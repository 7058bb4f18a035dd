using System.Text.RegularExpressions;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios.Walkthroughs;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Scenarios;

/// <summary>
/// Built-in walkthroughs: each page docs/walkthroughs/NAME.md holds the real output and diagrams, regenerated
/// with KERNELSIM_UPDATE_DOCS=1; the embedded scenario equals the shipped file; docs/scenarios.md's example runs.
/// </summary>
public partial class WalkthroughTests
{
    private static bool Update => Environment.GetEnvironmentVariable("KERNELSIM_UPDATE_DOCS") == "1";

    public static IEnumerable<string> Names => WalkthroughRegistry.All.Select(w => w.Name);

    [TestCaseSource(nameof(Names))]
    public void Walkthrough_DocsPage_MatchesRealOutput(string name)
    {
        var w = WalkthroughRegistry.Find(name)!;
        var page = WalkthroughPage.Render(w);
        var path = RepoFiles.Path($"docs/walkthroughs/{name}.md");
        if (Update)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, page);
            return;
        }
        Assert.That(File.Exists(path), Is.True, $"{path} missing: run the tests with KERNELSIM_UPDATE_DOCS=1");
        Assert.That(page, Is.EqualTo(File.ReadAllText(path)), $"docs/walkthroughs/{name}.md is stale: rerun with KERNELSIM_UPDATE_DOCS=1 and review the diff");
    }

    [TestCaseSource(nameof(Names))]
    public void Walkthrough_RunsWithEveryExpectationHolding_Exit0(string name)
    {
        var (code, output, err) = CliRun.Invoke("walkthrough", name);
        Assert.That(code, Is.Zero, output + err);
        Assert.That(output, Does.Contain("every expectation holds"));
        Assert.That(output, Does.Not.Contain("FAIL"));
        Assert.That(output, Does.Contain("checked: "));
    }

    [TestCaseSource(nameof(Names))]
    public void Walkthrough_EmbeddedScenario_IsTheShippedFile(string name)
    {
        var w = WalkthroughRegistry.Find(name)!;
        Assert.That(w.Text(), Is.EqualTo(File.ReadAllText(RepoFiles.Path(w.File))));
    }

    [TestCaseSource(nameof(Names))]
    public void Walkthrough_Page_HasAMermaidDiagram(string name)
    {
        var page = WalkthroughPage.Render(WalkthroughRegistry.Find(name)!);
        Assert.That(page, Does.Contain("```mermaid\nsequenceDiagram\n    participant user\n"));
    }

    [Test]
    public void Walkthrough_CopyinYears_TellsEachRelease()
    {
        var (_, output, _) = CliRun.Invoke("walkthrough", "copyin-years");
        Assert.That(output, Does.Contain("  [3] writer: write(f, buf, 4096): did not return: panic: Fatal local machine check: Data load in unrecoverable area of kernel\n"));
        Assert.That(output, Does.Contain("scenario copyin-5.10:"));
        Assert.That(output, Does.Contain("      writer[1000] is now killed by SIGBUS\n"));
        Assert.That(output, Does.Contain("  [3] writer: write(f, buf, 4096) = 512\n"));
    }

    [Test]
    public void Walkthrough_DaxBypass_PanicOn417_ShortReadEfaultBadblocksEioOn612()
    {
        var (code, output, _) = CliRun.Invoke("walkthrough", "dax-bypass");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("scenario dax-bypass-4.17:"));
        Assert.That(output, Does.Contain("  [5] app: pread(disk, buf, 8192, 0) = -EIO (-5)\n"));
        Assert.That(output, Does.Contain("  [6] app: pread(f, buf, 8192, 0): did not return: panic: Fatal local machine check: Data load in unrecoverable area of kernel\n"));
        Assert.That(output, Does.Contain("      machine check #2: pa 0x100201040, context IN_KERNEL, severity PANIC"));
        Assert.That(output, Does.Contain("scenario dax-bypass-6.12:"));
        Assert.That(output, Does.Contain("  [6] app: pread(f, buf, 8192, 0) = 4160\n"));
        Assert.That(output, Does.Contain("  [7] app: pread(f, buf, 4096, 4160) = -EFAULT (-14)\n"));
        Assert.That(output, Does.Contain("      badblocks pmem0: empty → \"8 1\"\n"));
        Assert.That(output, Does.Contain("  [10] app: pread(f, buf, 4096, 4160) = -EIO (-5)\n"));
        Assert.That(output, Does.Contain("  [14] app: pread(disk, buf, 512, 4608) = 512\n"));
        Assert.That(output, Does.Contain("  [17] app: pread(cached, buf, 8192, 0) = 4096\n"));
    }

    [Test]
    public void Walkthrough_VirtiofsTruncate_EachPolicy()
    {
        var (code, output, _) = CliRun.Invoke("walkthrough", "virtiofs-truncate");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("  [8] reader: pread(f, buf, 8192, 2093056): did not return: livelock: "));
        Assert.That(output, Does.Contain("  [8] reader: pread(f, buf, 8192, 2093056): did not return: stopped: error: kvm run failed Bad address\n"));
        Assert.That(output, Does.Contain("  [8] mapper: load 8 byte(s) at m+0x300000: SIGBUS BUS_ADRERR si_addr=m+0x300000 (0x7ffff7eff000) si_addr_lsb=0 after 0 byte(s); caught\n"));
        Assert.That(output, Does.Contain("  [8] reader: pread(f, buf, 8192, 2093056) = 4096\n"));
        Assert.That(output, Does.Contain("  [9] mapper: load 8 byte(s) at m+0x300000: SIGBUS BUS_MCEERR_AR si_addr=m+0x300000 (0x7ffff7eff000) si_addr_lsb=12 after 0 byte(s); caught\n"));
        Assert.That(output, Does.Contain("fuse: [requests.0] FUSE_SETUPMAPPING unique=16 nodeid=5 fh=0xffffffffffffffff foffset=2097152 len=2097152 flags=3 moffset=2097152 → 0\n"));
        Assert.That(output, Does.Contain("  [10] writer: pwrite(f, src, 4096, 3145728) = 4096\n"));
    }

    [Test]
    public void Walkthrough_ClearingPoison_WriteOrders_RecoveryWrites_Zeroing()
    {
        var (code, output, _) = CliRun.Invoke("walkthrough", "clearing-poison");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("  [4] dd: pwrite(disk, src, 512, 4096) = 512\n"));
        Assert.That(output, Does.Contain("scenario clearing-poison-unit-6.12:"));
        Assert.That(output, Does.Contain("checked: /dev/pmem0 media [4096, +512) is all 0x00\n"));
        Assert.That(output, Does.Contain("checked: /dev/pmem0 media [4096, +512) is the fill of src\n"));
        Assert.That(output, Does.Contain("  [4] app: pwrite(f, new, 512, 4096) = -EFAULT (-14)\n"));
        Assert.That(output, Does.Contain("  [5] app: pwrite(f, new, 6000, 100) = 3996\n"));
        Assert.That(output, Does.Contain("  [10] app: fallocate(f, FALLOC_FL_ZERO_RANGE|FALLOC_FL_KEEP_SIZE, 12288, 100) = -EIO (-5)\n"));
        Assert.That(output, Does.Contain("  [4] app: pwrite(f, new, 4096, 4096) = -EIO (-5)\n"));
    }

    [Test]
    public void WalkthroughList_NamesEveryWalkthrough()
    {
        foreach (var args in new[] { new[] { "walkthrough" }, new[] { "walkthrough", "list" } })
        {
            var (code, output, _) = CliRun.Invoke(args);
            Assert.That(code, Is.Zero);
            foreach (var w in WalkthroughRegistry.All) Assert.That(output, Does.Contain($"| {w.Name} "));
        }
    }

    [Test]
    public void Walkthrough_Unknown_Exit2()
    {
        var (code, output, err) = CliRun.Invoke("walkthrough", "nope");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.StartWith("kernelsim: unknown walkthrough 'nope' (known: dax-bypass, mce-copy, user-sigbus, copyin-years, fault-in-livelock, virtiofs-truncate, clearing-poison, poison-modes)"));
    }

    [Test]
    public void Walkthrough_Twice_ByteIdentical()
    {
        var a = CliRun.Invoke("walkthrough", "fault-in-livelock", "--trace", "text").Out;
        var b = CliRun.Invoke("walkthrough", "fault-in-livelock", "--trace", "text").Out;
        Assert.That(b, Is.EqualTo(a));
    }

    [Test]
    public void ScenariosDoc_CompleteExample_RunsAndPasses()
    {
        var doc = File.ReadAllText(RepoFiles.Path("docs/scenarios.md"));
        var m = Example().Match(doc);
        Assert.That(m.Success, Is.True, "docs/scenarios.md has the example between its markers");
        var path = Path.Combine(Path.GetTempPath(), $"kernelsim-doc-example-{Environment.ProcessId}.yaml");
        File.WriteAllText(path, m.Groups[1].Value);
        try
        {
            var (code, output, err) = CliRun.Invoke("run", path);
            Assert.That(code, Is.Zero, output + err);
            Assert.That(output, Does.Contain("0 failed"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void PlainTerminal_HasNoAnsiEscapes()
    {
        var sw = new StringWriter();
        WalkthroughRunner.Run(WalkthroughRegistry.Find("mce-copy")!, new Terminal(sw, color: false));
        Assert.That(sw.ToString().Contains('\u001b', StringComparison.Ordinal), Is.False);
    }

    [GeneratedRegex("<!-- example:begin -->\n```yaml\n(.*?)```\n<!-- example:end -->", RegexOptions.Singleline)]
    private static partial Regex Example();
}
