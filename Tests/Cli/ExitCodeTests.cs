using KernelSim.Cli;
using KernelSim.Cli.Commands;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios.Crosscheck;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Cli;

/// <summary>
/// One test per exit code of the table in docs/cli.md ("Exit codes"), and a test that the table lists exactly
/// these codes: 0, 1, 2, 3, 4, 65, 66, 69, 70, 73, 74, 130, 143.
/// </summary>
public class ExitCodeTests : TempDirTest
{
    private static readonly string Example = RepoFiles.Path("campaigns/example.yaml");

    private const string Copy = """
        scenario: copy
        machine: {kernel: 6.12, cpu: erms}
        actors:
          - name: reader
            mappings:
              - {name: buf, size: 8K, fill: 0xff}
        steps:
          - kmalloc: {name: src, size: 8K, fill: "i*7+1"}
          - poison: {at: src+4992}
          - copy: {routine: copy_mc_to_user, to: buf, from: src, len: 8192}
            expect: {ret: 3200}
        """;

    [Test]
    public void Code0_EveryExpectationHolds()
    {
        var (code, output, err) = CliRun.Invoke("run", Write("ok.yaml", Copy));
        Assert.That((code, err), Is.EqualTo((0, "")));
        Assert.That(output, Does.EndWith("1 scenario(s): 1 passed, 0 failed\n"));
    }

    [Test]
    public void Code1_AnExpectationFailed()
    {
        var (code, output, _) = CliRun.Invoke("run", Write("wrong.yaml", Copy.Replace("ret: 3200", "ret: 3136", StringComparison.Ordinal)));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.EndWith("1 scenario(s): 0 passed, 1 failed\n"));
    }

    [TestCase("run", "x.yaml", "--bogus")]
    [TestCase("campaign", "x.yaml", "--jobs", "abc")]
    [TestCase("replay", "-1", "--campaign", "x.yaml")]
    [TestCase("demo", "--kernel", "9.99")]
    public void Code2_UsageError_NothingRuns(params string[] args)
    {
        var (code, output, err) = CliRun.Invoke(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.EndWith("\nRun 'kernelsim --help' for usage.\n"));
    }

    [Test]
    public void Code3_ShrinkAHostileSeed_CannotBeWrittenAsAScenario()
    {
        var (code, output, err) = CliRun.Invoke("shrink", "1", "--campaign", Example);
        Assert.That(code, Is.EqualTo(3));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.Contain("kernelsim: the hostile workload cannot be written as a scenario"));
    }

    [Test]
    public void Code4_ShrinkASeedWithoutTheTarget_NothingWritten()
    {
        var path = Path.Combine(Dir, "s.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "112", "--campaign", Example, "--target", "panic", "--kernel", "6.12", "--out", path);
        Assert.That(code, Is.EqualTo(4));
        Assert.That(err, Does.StartWith("kernelsim: seed 112 shows no panic on Linux 6.12"));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void Code65_AnUnusableInputFile()
    {
        var f = Write("bad.yaml", "scenario: t\nsteps:\n  - frobnicate: {}\n");
        var (code, output, err) = CliRun.Invoke("run", f);
        Assert.That(code, Is.EqualTo(65));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.StartWith($"kernelsim: {f}:3:5: step 1: unknown step 'frobnicate'"));
    }

    [Test]
    public void Code66_AnInputFileThatCannotBeOpened()
    {
        var missing = Path.Combine(Dir, "missing.yaml");
        Assert.That(CliRun.Invoke("run", missing), Is.EqualTo((66, "", $"kernelsim: {missing}: no such file\n")));
        Assert.That(CliRun.Invoke("campaign", Dir), Is.EqualTo((66, "", $"kernelsim: {Dir}: is a directory\n")));
    }

    [Test]
    public void Code69_CrosscheckWithoutWhatTheHostMustProvide()
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        var runner = new CrosscheckRunner(new NoPackages(), new NoGuest());
        var code = CrosscheckCommand.Run([RepoFiles.Path("scenarios/mm-signals.yaml")], "linux-image-6.12.118+deb12-amd64-unsigned", runner, new Terminal(stdout, false), new Terminal(stderr, false));
        Assert.That(code, Is.EqualTo(69));
        Assert.That(stderr.ToString(), Is.EqualTo("kernelsim: crosscheck: apt-get is not installed (.ci/crosscheck installs what the crosscheck needs)\n"));
    }

    [Test]
    public void Code70_AnInternalError_OneLineNoStackTrace()
    {
        var stderr = new StringWriter { NewLine = "\n" };
        var code = CliApp.Run(["profiles"], new ThrowingWriter(new InvalidOperationException("a bug")), stderr, false);
        Assert.That(code, Is.EqualTo(70));
        Assert.That(stderr.ToString(), Is.EqualTo("kernelsim: internal error: InvalidOperationException: a bug\n"));
    }

    [Test]
    public void Code73_AnOutputFileThatCannotBeWritten()
    {
        var (code, output, err) = CliRun.Invoke("run", Write("ok.yaml", Copy), "--trace-out", Dir);
        Assert.That(code, Is.EqualTo(73));
        Assert.That(output, Is.Empty);
        Assert.That(err, Is.EqualTo($"kernelsim: {Dir}: is a directory\n"));
    }

    [Test]
    public void Code74_WritingTheOutputFailed()
    {
        var stderr = new StringWriter { NewLine = "\n" };
        var code = CliApp.Run(["profiles"], new ThrowingWriter(new IOException("No space left on device")), stderr, false);
        Assert.That(code, Is.EqualTo(74));
        Assert.That(stderr.ToString(), Is.EqualTo("kernelsim: I/O error: No space left on device\n"));
    }

    [TestCase(130)]
    [TestCase(143)]
    public void Code130And143_CampaignInterrupted_PartialResultWritten(int signalCode)
    {
        var dir = Path.Combine(Dir, "out");
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        using var host = CliHost.AlreadyInterrupted(signalCode);
        var code = CliApp.Run(["campaign", Example, "--seeds", "1..50", "--out", dir], stdout, stderr, false, host);
        Assert.That(code, Is.EqualTo(signalCode));
        Assert.That(stdout.ToString(), Does.Contain("interrupted after 0 seeds of 50"));
        Assert.That(stderr.ToString(), Does.Contain($"continue with: kernelsim campaign {Example} --resume {dir}"));
    }

    [Test]
    public void Code130_AnyOtherCommand_EndedBySigintAtOnce()
    {
        // `run` writes 250 KB of trace: the child blocks on the full pipe until stdout is read. A SIGINT the command
        // swallowed (as campaign's handler does) would leave it blocked there.
        string[] scenarios = [.. Directory.GetFiles(RepoFiles.Path("scenarios"), "*.yaml").Order(StringComparer.Ordinal)];
        using var child = KernelSim.Tests.Campaigns.CampaignStreamTests.Kernelsim(["run", .. scenarios, "--trace", "text"]);
        try
        {
            Assert.That(child.StandardOutput.ReadLine(), Is.Not.Null, "the child runs and writes");
            using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.That(child.WaitForExit(30_000), Is.True, "ended without its stdout being read");
            Assert.That(child.ExitCode, Is.EqualTo(130));
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
    }

    [Test]
    public void CliMd_ExitCodeTable_ListsExactlyTheCodesTestedHere()
    {
        var doc = File.ReadAllText(RepoFiles.Path("docs/cli.md"));
        var start = doc.IndexOf("| code | meaning |", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThan(0), "docs/cli.md has the exit-code table");
        var rows = doc[start..].Split('\n').Skip(2).TakeWhile(l => l.StartsWith('|'));
        var codes = rows.SelectMany(r => System.Text.RegularExpressions.Regex.Matches(r.Split('|')[1], "`(\\d+)`").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(codes, Is.EqualTo(new[] { 0, 1, 2, 3, 4, 65, 66, 69, 70, 73, 74, 130, 143 }));
    }

    /// <summary>A host without apt-get: what Tools.Run reports.</summary>
    private sealed class NoPackages : IKernelPackages
    {
        public KernelImage Prepare(string package) => throw new CrosscheckException("apt-get is not installed (.ci/crosscheck installs what the crosscheck needs)");
    }

    private sealed class NoGuest : IGuestRunner
    {
        public GuestRunResult Run(GuestProgram program, KernelImage kernel) => throw new AssertionException("no guest runs without a kernel");
    }

    /// <summary>A stdout whose every write throws (a bug, or a disk that filled up).</summary>
    private sealed class ThrowingWriter(Exception e) : StringWriter
    {
        public override void Write(char value) => throw e;
        public override void Write(string? value) => throw e;
        public override void Write(char[] buffer, int index, int count) => throw e;
    }
}
