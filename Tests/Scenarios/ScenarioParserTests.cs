using KernelSim.Scenarios;
using KernelSim.Scenarios.Steps;

namespace KernelSim.Tests.Scenarios;

/// <summary>Scenario files with mistakes: every error names the file, line and column of the culprit.</summary>
public class ScenarioParserTests
{
    private const string Header = "scenario: t\nactors:\n  - name: a\n    mappings:\n      - {name: buf, size: 4K, fill: index}\nsteps:\n";

    private static ScenarioException Fail(string text) =>
        Assert.Throws<ScenarioException>(() => ScenarioParser.ParseText("t.yaml", text))!;

    [Test]
    public void UnknownTopLevelKey_ErrorAtItsLineAndColumn()
    {
        var e = Fail("scenario: t\nstepz: []\nsteps: []\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((2, 1)));
        Assert.That(e.Message, Does.StartWith("t.yaml:2:1: scenario file: unknown key 'stepz' (expected one of: scenario, title, story, machine, actors, steps)"));
    }

    [Test]
    public void UnknownStep_ErrorAtTheStepKey_ListsKnownSteps()
    {
        var e = Fail(Header + "  - lode: {at: buf}\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((7, 5)));
        Assert.That(e.Reason, Does.StartWith("step 1: unknown step 'lode' (steps: mmap, munmap"));
    }

    [Test]
    public void UnknownStepArgument_ErrorAtTheKey()
    {
        var e = Fail(Header + "  - load:\n      at: buf\n      lenght: 4\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((9, 7)));
        Assert.That(e.Reason, Is.EqualTo("step 1 (load): unknown key 'lenght' (expected one of: actor, at, len)"));
    }

    [Test]
    public void UnknownMappingName_ErrorAtTheAddress()
    {
        var e = Fail(Header + "  - load: {at: bfu+0x10}\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((7, 16)));
        Assert.That(e.Reason, Is.EqualTo("step 1 (load).at: no mapping named 'bfu' for actor a (known: buf)"));
    }

    [Test]
    public void UnknownExpectationKey_ErrorAtTheKey()
    {
        var e = Fail(Header + "  - load: {at: buf}\n    expect: {rett: 1}\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((8, 14)));
        Assert.That(e.Reason, Does.StartWith("step 1 expect: unknown key 'rett'"));
    }

    [Test]
    public void BadErrnoName_ErrorAtTheValue()
    {
        var e = Fail(Header + "  - load: {at: buf}\n    expect:\n      ret: -EFOO\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((9, 12)));
        Assert.That(e.Reason, Is.EqualTo("expect.ret: '-EFOO' is not a number, an errno name (-EFAULT) or noreturn"));
    }

    [Test]
    public void YamlSyntaxError_ReportsLineAndColumn()
    {
        var e = Fail("scenario: t\nsteps:\n  - load: {at: buf\n");
        Assert.That(e.Line, Is.EqualTo(4));
        Assert.That(e.Reason, Does.StartWith("YAML syntax: "));
        Assert.That(e.Reason, Does.Not.Contain("(Line:"));
    }

    [Test]
    public void BadKernelVersion_ErrorAtTheValue()
    {
        var e = Fail("scenario: t\nmachine: {kernel: 9.x}\nsteps: []\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((2, 19)));
        Assert.That(e.Reason, Does.StartWith("machine.kernel: '9.x' is not a kernel release"));
    }

    [Test]
    public void StepWithoutActor_WhenSeveralActors_AsksWhich()
    {
        var e = Fail("scenario: t\nactors:\n  - {name: a}\n  - {name: b}\nsteps:\n  - load: {at: 0x1000}\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((6, 11)));
        Assert.That(e.Reason, Is.EqualTo("step 1 (load): which actor? add actor: (one of a, b)"));
    }

    [Test]
    public void TwoSteps_InOneItem_AreAnError()
    {
        var e = Fail(Header + "  - load: {at: buf}\n    store: {at: buf}\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((8, 5)));
        Assert.That(e.Reason, Does.StartWith("step 1: two steps in one item ('load' and 'store')"));
    }

    [Test]
    public void MultipleDocuments_AreSeparateScenarios()
    {
        var list = ScenarioParser.ParseText("t.yaml", "scenario: one\nsteps: []\n---\nscenario: two\nmachine: {kernel: 5.10, cpu: fragile}\nsteps: []\n---\n");
        Assert.That(list.Select(s => (s.Name, s.Document, s.Machine.Kernel.ToString(), s.Machine.Cpu.Name)),
            Is.EqualTo(new[] { ("one", 1, "6.12", "erms"), ("two", 2, "5.10", "fragile") }));
    }

    [Test]
    public void Registry_NewStep_PlugsInWithoutParserChanges()
    {
        var registry = new StepRegistry();
        MmSteps.Register(registry);
        registry.Register("nop", "does nothing", c =>
        {
            var n = c.Args.Long("n") ?? 0;
            c.Args.Done();
            return new MachineStep($"nop {n}", _ => StepResult.Returned(n));
        });
        var s = ScenarioParser.ParseText("t.yaml", "scenario: t\nsteps:\n  - nop: {n: 7}\n    expect: {ret: 7}\n", registry).Single();
        var r = KernelSim.Scenarios.Runtime.ScenarioRunner.Run(s);
        Assert.That(r.Passed, Is.True);
        Assert.That(r.Steps.Single().Result.Ret, Is.EqualTo(7));
        var e = Assert.Throws<ScenarioException>(() => ScenarioParser.ParseText("t.yaml", "scenario: t\nsteps:\n  - nop: {m: 7}\n", registry))!;
        Assert.That(e.Message, Is.EqualTo("t.yaml:3:11: step 1 (nop): unknown key 'm' (expected one of: n)"));
    }
}
