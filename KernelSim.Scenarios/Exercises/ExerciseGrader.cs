using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Walkthroughs;

namespace KernelSim.Scenarios.Exercises;

/// <summary>How one blank was answered.</summary>
public enum BlankVerdict
{
    Correct,
    Wrong,
    /// <summary>Still <see cref="ExerciseSheet.Blank"/>, or its expect: key was removed.</summary>
    Unanswered,
}

/// <summary>The grade of one blank: where it is and whether the simulator agreed.</summary>
/// <param name="Blank">The blank.</param>
/// <param name="Verdict">Correct, wrong or unanswered.</param>
/// <param name="Answer">What the student expected, as the report prints it ("ret = 4160"); null when unanswered.</param>
/// <param name="Observed">What the simulator observed when the answer was wrong ("expected 8192, actual 4160"); null otherwise.</param>
public sealed record BlankGrade(ExerciseBlank Blank, BlankVerdict Verdict, string? Answer, string? Observed);

/// <summary>A graded exercise file.</summary>
/// <param name="Blanks">One grade per blank, in file order.</param>
/// <param name="Problem">Why the file could not be graded at all (not YAML, steps changed); null when graded.</param>
public sealed record ExerciseGrade(IReadOnlyList<BlankGrade> Blanks, string? Problem)
{
    public int Correct => Blanks.Count(b => b.Verdict == BlankVerdict.Correct);

    public bool Passed => Problem == null && Blanks.Count > 0 && Correct == Blanks.Count;
}

/// <summary>
/// Grades a student's exercise file: the steps must be the exercise's; blanks still <c>___</c> are unanswered;
/// then the scenario runs and each blank is correct when every expectation under its key holds.
/// </summary>
public static class ExerciseGrader
{
    public static ExerciseGrade Grade(Exercise e, string file, string text)
    {
        var (_, blanks) = ExerciseSheet.Write(e);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var open = new HashSet<int>();
        for (var i = 0; i < lines.Length; i++)
            if (!lines[i].TrimStart().StartsWith('#') && lines[i].Contains(ExerciseSheet.Blank, StringComparison.Ordinal)) open.Add(i + 1);
        if (open.Count > 0)
            return new(blanks.Select(b => new BlankGrade(b, BlankVerdict.Unanswered, null, null)).ToList(),
                $"{file}: {open.Count} line(s) still hold {ExerciseSheet.Blank} (line {string.Join(", ", open.Order())}): fill in every blank first");

        IReadOnlyList<Model.Scenario> parsed;
        try
        {
            parsed = ScenarioParser.ParseText(file, text);
        }
        catch (ScenarioException x)
        {
            return new([], x.Message);
        }
        var w = WalkthroughRegistry.Find(e.Walkthrough)!;
        var original = ScenarioParser.ParseText(w.File, w.Text()).Single(s => s.Name == e.Scenario);
        if (parsed.Count != 1) return new([], $"{file}: expected one scenario, found {parsed.Count}");
        var mine = parsed[0];
        if (mine.Steps.Count != original.Steps.Count)
            return new([], $"{file}: the exercise has {original.Steps.Count} steps, this file {mine.Steps.Count}: do not change the steps");
        for (var i = 0; i < mine.Steps.Count; i++)
        {
            if (mine.Steps[i].Step.Describe != original.Steps[i].Step.Describe)
                return new([], $"{file}: step {i + 1} is \"{mine.Steps[i].Step.Describe}\", the exercise's is \"{original.Steps[i].Step.Describe}\": do not change the steps");
        }
        if (mine.Machine.Kernel != original.Machine.Kernel || mine.Machine.Cpu.Name != original.Machine.Cpu.Name)
            return new([], $"{file}: the machine is Linux {mine.Machine.Kernel} cpu={mine.Machine.Cpu.Name}, the exercise's Linux {original.Machine.Kernel} cpu={original.Machine.Cpu.Name}: do not change it");

        var results = ScenarioRunner.Run(mine).Expectations;
        var grades = new List<BlankGrade>();
        foreach (var b in blanks)
        {
            var mineAt = results.Where(r => r.Step == b.Step && Under(r.Key, b.Key)).ToList();
            if (mineAt.Count == 0)
            {
                grades.Add(new(b, BlankVerdict.Unanswered, null, null));
                continue;
            }
            var answer = string.Join("; ", mineAt.Select(r => r.Expected));
            var failed = mineAt.Where(r => !r.Passed).ToList();
            grades.Add(failed.Count == 0
                ? new(b, BlankVerdict.Correct, answer, null)
                : new(b, BlankVerdict.Wrong, answer, string.Join("; ", failed.Select(r => r.Failure))));
        }
        return new(grades, null);
    }

    /// <summary>
    /// Whether an expectation's key ("memory[1]", "signals.app", "process.watcher") comes from the expect: key
    /// <paramref name="blank"/>; processes: {a: …} checks are keyed process.a like process:.
    /// </summary>
    private static bool Under(string key, string blank)
    {
        var cut = key.IndexOfAny(['[', '.']);
        var head = cut < 0 ? key : key[..cut];
        return head == blank || (blank == "processes" && head == "process");
    }
}
