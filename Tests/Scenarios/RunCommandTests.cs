using System.Text.Json;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Scenarios;

/// <summary>`kernelsim run`: exit codes, messages, --kernel/--cpu overrides, --json, determinism.</summary>
public class RunCommandTests : TempDirTest
{
    private static string[] Shipped() => Directory.GetFiles(RepoFiles.Path("scenarios"), "*.yaml").Order(StringComparer.Ordinal).ToArray();

    private const string CopyMc = """
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
            expect:
              ret: 3200
              memory:
                - {at: buf, len: 4992, same-as: src}
                - {at: buf+4992, len: 3200, untouched: true}
        """;

    [Test]
    public void Run_ShippedScenarios_AllPass_Exit0()
    {
        var files = Shipped();
        Assert.That(files, Has.Length.GreaterThanOrEqualTo(4));
        var (code, output, err) = CliRun.Invoke(["run", .. files]);
        Assert.That(err, Is.Empty);
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Match(@"\n(\d+) scenario\(s\): \1 passed, 0 failed\n$"));
    }

    [Test]
    public void Run_HoldingExpectations_Exit0_PrintsStepResults()
    {
        var (code, output, _) = CliRun.Invoke("run", Write("ok.yaml", CopyMc));
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("  [3] reader: copy_mc_to_user(buf, src, 8192) = 3200 (bytes not copied)\n"));
        Assert.That(output, Does.Contain("PASS copy: 3 step(s), 3 expectation(s) hold\n"));
    }

    [Test]
    public void Run_WrongExpectation_Exit1_NamesScenarioStepAndExpectation()
    {
        var f = Write("wrong.yaml", CopyMc.Replace("ret: 3200", "ret: 3136", StringComparison.Ordinal));
        var (code, output, _) = CliRun.Invoke("run", f);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain($"  FAIL scenario copy, step 3 (reader: copy_mc_to_user(buf, src, 8192)), expect ret at {f}:12:12: expected 3136, actual 3200\n"));
        Assert.That(output, Does.Contain("FAIL copy: 1 of 3 expectation(s) failed"));
        Assert.That(output, Does.EndWith("1 scenario(s): 0 passed, 1 failed\n"));
    }

    [Test]
    public void Run_WrongMemoryExpectation_ReportsFirstDifferingByte()
    {
        var f = Write("mem.yaml", CopyMc.Replace("{at: buf, len: 4992, same-as: src}", "{at: buf, len: 5000, same-as: src}", StringComparison.Ordinal));
        var (code, output, _) = CliRun.Invoke("run", f);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain("expect memory[0] at " + f + ":14:11: 8 of 5000 byte(s) differ; first at buf+0x1380: expected 0x81, actual 0xff"));
    }

    [Test]
    public void Run_MalformedFile_Exit65_FileLineColumnOnStderr_NothingOnStdout()
    {
        var f = Write("bad.yaml", "scenario: t\nsteps:\n  - load: {at: buf\n");
        var (code, output, err) = CliRun.Invoke("run", f);
        Assert.That(code, Is.EqualTo(65));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.StartWith($"kernelsim: {f}:4:1: YAML syntax: "));
    }

    [Test]
    public void Run_UnknownStep_Exit65()
    {
        var f = Write("step.yaml", "scenario: t\nsteps:\n  - frobnicate: {}\n");
        var (code, _, err) = CliRun.Invoke("run", f);
        Assert.That(code, Is.EqualTo(65));
        Assert.That(err, Does.StartWith($"kernelsim: {f}:3:5: step 1: unknown step 'frobnicate'"));
    }

    [Test]
    public void Run_MissingFile_Exit66()
    {
        var (code, output, err) = CliRun.Invoke("run", Path.Combine(Dir, "nope.yaml"));
        Assert.That(code, Is.EqualTo(66));
        Assert.That(output, Is.Empty);
        Assert.That(err, Is.EqualTo($"kernelsim: {Path.Combine(Dir, "nope.yaml")}: no such file\n"));
    }

    [Test]
    public void Run_KernelOverride_417_CopyPanics_Exit1()
    {
        var (code, output, _) = CliRun.Invoke("run", Write("ok.yaml", CopyMc), "--kernel", "4.17");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain("setup: Linux 4.17 (E0) cpu=erms"));
        Assert.That(output, Does.Contain("did not return: panic: Fatal local machine check"));
    }

    [Test]
    public void Run_CpuOverride_None_Panics()
    {
        var (code, output, _) = CliRun.Invoke("run", Write("ok.yaml", CopyMc), "--cpu", "none");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain("cpu=none"));
    }

    [Test]
    public void Run_Json_OneResultPerScenario_WithFailures()
    {
        var f = Write("wrong.yaml", CopyMc.Replace("ret: 3200", "ret: 3136", StringComparison.Ordinal));
        var (code, output, _) = CliRun.Invoke("run", f, "--json");
        Assert.That(code, Is.EqualTo(1));
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.That(root.GetProperty("passed").GetBoolean(), Is.False);
        var s = root.GetProperty("scenarios")[0];
        Assert.That(s.GetProperty("name").GetString(), Is.EqualTo("copy"));
        Assert.That(s.GetProperty("failures").GetInt32(), Is.EqualTo(1));
        var step = s.GetProperty("steps")[2];
        Assert.That(step.GetProperty("ret").GetInt64(), Is.EqualTo(3200));
        var e = step.GetProperty("expectations")[0];
        Assert.That((e.GetProperty("key").GetString(), e.GetProperty("ok").GetBoolean(), e.GetProperty("line").GetInt32(), e.GetProperty("column").GetInt32()),
            Is.EqualTo(("ret", false, 12, 12)));
        Assert.That(e.GetProperty("failure").GetString(), Is.EqualTo("expected 3136, actual 3200"));
    }

    [Test]
    public void Run_Twice_ByteIdentical_IncludingTraces()
    {
        var files = Shipped();
        foreach (var trace in new[] { "text", "chrome", "mermaid" })
        {
            var a = CliRun.Invoke(["run", .. files, "--trace", trace]);
            var b = CliRun.Invoke(["run", .. files, "--trace", trace]);
            Assert.That(b.Out, Is.EqualTo(a.Out), trace);
            Assert.That(b.Err, Is.EqualTo(a.Err), trace);
        }
        var j1 = CliRun.Invoke(["run", .. files, "--json", "--trace", "chrome"]).Out;
        var j2 = CliRun.Invoke(["run", .. files, "--json", "--trace", "chrome"]).Out;
        Assert.That(j2, Is.EqualTo(j1));
    }

    [Test]
    public void Run_TraceText_PrintsFunctionGraphPerStep()
    {
        var (code, output, _) = CliRun.Invoke("run", Write("ok.yaml", CopyMc), "--trace", "text");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("      ftrace (function_graph):\n"));
        Assert.That(output, Does.Contain("copy_mc_enhanced_fast_string()"));
    }

    [Test]
    public void Run_BadTraceFormat_IsAUsageError()
    {
        var (code, output, err) = CliRun.Invoke("run", Write("ok.yaml", CopyMc), "--trace", "svg");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.Contain("svg"));
    }
}
