using KernelSim.Scenarios;
using KernelSim.Scenarios.Runtime;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Docs;

/// <summary>The YAML scenario tests shown in docs/api.md (the doc quotes this file verbatim).</summary>
public class ScenarioFileExampleTests
{
    [Test]
    public void ShippedScenarioFile_EveryExpectationHolds()
    {
        // One call parses scenarios/mce-copy.yaml (three YAML documents) and runs each on its own machine.
        var results = ScenarioFile.Run(RepoFiles.Path("scenarios/mce-copy.yaml"));

        Assert.That(results.Select(r => r.Scenario.Name), Is.EqualTo(new[] { "mce-copy", "mce-copy-no-recovery", "mce-copy-user-load" }));
        Assert.That(results.SelectMany(r => r.Expectations).Where(e => !e.Passed), Is.Empty);
        Assert.That(results.Select(r => r.Passed), Is.All.True);

        // The first scenario's expectations, in file order: step, what is expected, whether it held.
        Assert.That(results[0].Expectations.Select(e => (e.Step, e.Expected, e.Passed)), Is.EqualTo(new[]
        {
            (2, "ret = 0", true),
            (2, "machine running", true),
            (3, "ret = 3200", true),
            (3, "memory [buf, +4992) is the fill of src", true),
            (3, "memory [buf+4992, +3200) is untouched (its own fill)", true),
            (3, "machine checks: 1 new, context IN_KERNEL_RECOV, severity AR", true),
            (3, "no signal", true),
            (3, "machine running", true),
            (3, "dmesg contains \"Uncorrected hardware memory error in kernel at\"", true),
            (3, "trace contains \"copy_mc_enhanced_fast_string\"", true),
        }));
        Assert.That(results[0].Expectations.Select(e => e.Actual), Is.All.Null, "no failure, nothing to report");
    }

    [Test]
    public void InlineScenario_AWrongExpectation_FailsWithExpectedAndActual()
    {
        const string yaml = """
            scenario: short-copy
            machine: {kernel: 6.12, cpu: erms}
            actors:
              - name: reader
                mappings:
                  - {name: buf, size: 8K, prot: rw, fill: 0xff}
            steps:
              - kmalloc: {name: src, size: 8K, fill: "i*7+1"}
              - poison: {at: src+4992}
              - copy: {actor: reader, routine: copy_mc_to_user, to: buf, from: src, len: 8192}
                expect:
                  ret: 8192   # wrong on purpose: the copy stops at the poisoned line
                  signal: none
            """;

        var result = ScenarioFile.RunText(yaml, "short-copy.yaml").Single();

        Assert.That(result.Passed, Is.False);
        ExpectationResult ret = result.Expectations[0], signal = result.Expectations[1];
        Assert.That((ret.Step, ret.Key, ret.Expected, ret.Passed), Is.EqualTo((3, "ret", "ret = 8192", false)));
        Assert.That(ret.Failure, Is.EqualTo("expected 8192, actual 3200"));
        Assert.That(ret.Actual, Is.EqualTo("3200"), "bytes not copied");
        Assert.That(ret.Location, Is.EqualTo("short-copy.yaml:12:12"));
        Assert.That(ret.ToString(), Is.EqualTo(
            "short-copy.yaml:12:12: step 3 (reader: copy_mc_to_user(buf, src, 8192)): ret = 8192: FAIL expected 8192, actual 3200"));
        Assert.That((signal.Expected, signal.Passed, signal.Actual), Is.EqualTo(("no signal", true, (string?)null)));
    }

    [Test]
    public void BadInput_IsOneScenarioExceptionNamingWhere()
    {
        var missing = Assert.Throws<ScenarioException>(() => ScenarioFile.Run("no-such-dir/missing.yaml"));
        Assert.That(missing!.Message, Is.EqualTo("no-such-dir/missing.yaml: no such file"));

        var typo = Assert.Throws<ScenarioException>(() => ScenarioFile.RunText("scenario: x\nsteps:\n  - kmallok: {size: 8K}\n", "typo.yaml"));
        Assert.That((typo!.File, typo.Line, typo.Column), Is.EqualTo(("typo.yaml", 3, 5)));
        Assert.That(typo.Message, Does.StartWith("typo.yaml:3:5: step 1: unknown step 'kmallok' (steps: mmap, munmap,"));

        var syntax = Assert.Throws<ScenarioException>(() => ScenarioFile.RunText("scenario: x\nsteps: [\n", "broken.yaml"));
        Assert.That(syntax!.Message, Does.StartWith("broken.yaml:3:1: YAML syntax: "));
    }
}
