using KernelSim.Scenarios;
using KernelSim.Scenarios.Exercises;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Scenarios;

/// <summary>
/// The exercises: five sheets drawn from the walkthroughs, with their expected values blanked, and the grader
/// that runs a filled-in sheet. The answer key grades full marks; a wrong answer is caught and located; a sheet
/// with blanks left or changed steps is not graded.
/// </summary>
[TestFixture]
public class ExerciseTests
{
    private static IEnumerable<string> Names => ExerciseRegistry.All.Select(e => e.Name);

    [Test]
    public void FiveExercises_FromFourWalkthroughs()
    {
        Assert.That(Names, Is.EqualTo(new[] { "dax-read-6.12", "dax-read-4.17", "mce-copy", "user-sigbus", "copyin-5.10" }));
    }

    [TestCaseSource(nameof(Names))]
    public void AnswerKey_GradesFullMarks(string name)
    {
        var e = ExerciseRegistry.Find(name)!;
        var (key, blanks) = ExerciseSheet.Write(e, answers: true);
        var grade = ExerciseGrader.Grade(e, name + ".yaml", key);
        Assert.That(grade.Problem, Is.Null);
        Assert.That(grade.Blanks.Select(b => b.Verdict), Has.All.EqualTo(BlankVerdict.Correct), string.Join("\n", grade.Blanks));
        Assert.That(grade.Blanks, Has.Count.EqualTo(blanks.Count).And.Count.GreaterThanOrEqualTo(4));
        Assert.That(grade.Passed, Is.True);
    }

    [TestCaseSource(nameof(Names))]
    public void Sheet_BlanksEveryAnswer_HidesTheNarration_KeepsTheSteps(string name)
    {
        var e = ExerciseRegistry.Find(name)!;
        var (sheet, blanks) = ExerciseSheet.Write(e);
        var lines = sheet.Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(sheet, Does.Contain($"\ntitle: \"{e.Title}\"\n"));
            Assert.That(sheet, Does.Not.Contain("say:").And.Not.Contain("dmesg:").And.Not.Contain("trace:"));
            foreach (var b in blanks) Assert.That(lines[b.Line - 1], Does.Contain(ExerciseSheet.Blank), $"{b} points at a blank");
        });
        // Filled in with the answers, the sheet is the walkthrough's scenario: the same steps on the same machine.
        var (key, _) = ExerciseSheet.Write(e, answers: true);
        var mine = ScenarioParser.ParseText("key.yaml", key).Single();
        var w = KernelSim.Scenarios.Walkthroughs.WalkthroughRegistry.Find(e.Walkthrough)!;
        var original = ScenarioParser.ParseText(w.File, w.Text()).Single(s => s.Name == e.Scenario);
        Assert.That(mine.Steps.Select(s => s.Step.Describe), Is.EqualTo(original.Steps.Select(s => s.Step.Describe)));
        Assert.That(key.Split('\n').Length - lines.Length, Is.Zero, "blanking changes values, not lines");
    }

    [Test]
    public void DaxRead612_Sheet_PinsTheBlanksOfTheDaxRead()
    {
        var (sheet, blanks) = ExerciseSheet.Write(ExerciseRegistry.Find("dax-read-6.12")!);
        Assert.That(sheet, Does.Contain("""
              - pread: {fd: f, buf: buf, len: 8192, pos: 0}
                diagram: true
                expect:
                  ret: ___
                  memory:
                    - {at: buf, len: ___, same-as: data}
                    - {at: buf+4160, len: ___, untouched: ___}
                  mce: {count: ___, context: ___, severity: ___}
                  signal: ___
              - pread: {fd: f, buf: buf, len: 4096, pos: 4160}
            """.Replace("\r\n", "\n")));
        Assert.That(blanks.Where(b => b.Step == 6).Select(b => b.Key), Is.EqualTo(new[] { "ret", "memory", "mce", "signal" }));
        Assert.That(blanks, Has.Count.EqualTo(27));
    }

    [Test]
    public void WrongAnswer_IsGradedWrong_AtItsLine_TheRestRight()
    {
        var e = ExerciseRegistry.Find("dax-read-6.12")!;
        var (key, blanks) = ExerciseSheet.Write(e, answers: true);
        var ret = blanks.Single(b => b.Step == 6 && b.Key == "ret");
        var lines = key.Split('\n');
        Assert.That(lines[ret.Line - 1], Is.EqualTo("      ret: 4160"));
        lines[ret.Line - 1] = "      ret: 8192";   // the student expects the whole read
        var grade = ExerciseGrader.Grade(e, "student.yaml", string.Join('\n', lines));
        Assert.That(grade.Problem, Is.Null);
        var wrong = grade.Blanks.Single(b => b.Verdict != BlankVerdict.Correct);
        Assert.That(wrong, Is.EqualTo(new BlankGrade(ret, BlankVerdict.Wrong, "ret = 8192", "expected 8192, actual 4160")));
        Assert.That(grade.Correct, Is.EqualTo(blanks.Count - 1));
        Assert.That(grade.Passed, Is.False);
    }

    [Test]
    public void BlanksLeft_AreNotGraded_TheirLinesNamed()
    {
        var e = ExerciseRegistry.Find("mce-copy")!;
        var (sheet, blanks) = ExerciseSheet.Write(e);
        var grade = ExerciseGrader.Grade(e, "s.yaml", sheet);
        Assert.That(grade.Blanks.Select(b => b.Verdict), Has.All.EqualTo(BlankVerdict.Unanswered));
        var open = sheet.Split('\n').Count(l => !l.StartsWith('#') && l.Contains("___", StringComparison.Ordinal));
        Assert.That(grade.Problem, Does.StartWith($"s.yaml: {open} line(s) still hold ___ (line {blanks[0].Line}, "));
    }

    [Test]
    public void ChangedSteps_OrMachine_AreRefused()
    {
        var e = ExerciseRegistry.Find("mce-copy")!;
        var (key, _) = ExerciseSheet.Write(e, answers: true);
        var grade = ExerciseGrader.Grade(e, "s.yaml", key.Replace("len: 8192}", "len: 4992}", StringComparison.Ordinal));
        Assert.That(grade.Problem, Is.EqualTo("s.yaml: step 3 is \"reader: copy_mc_to_user(buf, src, 4992)\", the exercise's is \"reader: copy_mc_to_user(buf, src, 8192)\": do not change the steps"));
        grade = ExerciseGrader.Grade(e, "s.yaml", key.Replace("kernel: 6.12", "kernel: 5.10", StringComparison.Ordinal));
        Assert.That(grade.Problem, Is.EqualTo("s.yaml: the machine is Linux 5.10 cpu=erms, the exercise's Linux 6.12 cpu=erms: do not change it"));
    }

    [Test]
    public void Cli_WritesTheSheet_AndGradesIt_WithExitCodes()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"kernelsim-exercise-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, "mce-copy.yaml");
            var (code, output, err) = CliRun.Invoke("exercise", "mce-copy", "--out", file);
            Assert.That(code, Is.Zero, err);
            var blanks = ExerciseSheet.Write(ExerciseRegistry.Find("mce-copy")!).Blanks.Count;
            Assert.That(output, Is.EqualTo($"wrote {file}: {blanks} blank(s) to fill in; grade with: kernelsim exercise mce-copy --check {file}\n"));
            Assert.That(CliRun.Invoke("exercise", "mce-copy").Out, Is.EqualTo(File.ReadAllText(file)), "stdout without --out");

            (code, output, _) = CliRun.Invoke("exercise", "mce-copy", "--check", file);
            Assert.That(code, Is.EqualTo(1), "blanks left");
            Assert.That(output, Does.Contain($"0 of {blanks} blank(s) right"));

            File.WriteAllText(file, ExerciseSheet.Write(ExerciseRegistry.Find("mce-copy")!, answers: true).Text.Replace("ret: 3200", "ret: 0", StringComparison.Ordinal));
            (code, output, _) = CliRun.Invoke("exercise", "mce-copy", "--check", file, "--reveal");
            Assert.That(code, Is.EqualTo(1));
            Assert.That(output, Does.Contain("  wrong      line 29, step 3, ret: ret = 0 (expected 0, actual 3200)\n"));
            Assert.That(output, Does.EndWith($"{blanks - 1} of {blanks} blank(s) right\n"));

            File.WriteAllText(file, ExerciseSheet.Write(ExerciseRegistry.Find("mce-copy")!, answers: true).Text);
            (code, output, _) = CliRun.Invoke("exercise", "mce-copy", "--check", file);
            Assert.That(code, Is.Zero);
            Assert.That(output, Does.EndWith($"{blanks} of {blanks} blank(s) right: every prediction holds\n"));

            (code, _, err) = CliRun.Invoke("exercise", "mce-copy", "--check", Path.Combine(dir, "missing.yaml"));
            Assert.That(code, Is.EqualTo(66));
            Assert.That(err, Is.EqualTo($"kernelsim: {Path.Combine(dir, "missing.yaml")}: no such file\n"));
            (code, _, err) = CliRun.Invoke("exercise", "nope");
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.StartWith("kernelsim: unknown exercise 'nope' (known: dax-read-6.12, dax-read-4.17, mce-copy, user-sigbus, copyin-5.10)"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
