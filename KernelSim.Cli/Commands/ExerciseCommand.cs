using System.CommandLine;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios.Exercises;
using Spectre.Console;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim exercise [list|NAME] [--out FILE] [--check FILE]`: print (or write) an exercise file with blanks, or
/// grade a filled-in one. Grading exits 0 when every blank is right, 1 when one is wrong or unanswered, 66 when the
/// file cannot be read, 65 when it cannot be graded (not a scenario, steps changed).
/// </summary>
internal static class ExerciseCommand
{
    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var name = new Argument<string?>("name") { Description = "An exercise name, or list (the default) to see them all", Arity = ArgumentArity.ZeroOrOne }.NoOptions(files: false);
        var output = new Option<string?>("--out", "-o") { Description = "Write the exercise file to FILE instead of stdout", HelpName = "FILE" };
        var check = new Option<string?>("--check") { Description = "Grade a filled-in exercise file", HelpName = "FILE" };
        var reveal = new Option<bool>("--reveal") { Description = "With --check: also print what the simulator observed for each wrong answer" };
        var cmd = new Command("exercise", "Predict a walkthrough's results: an exercise file with blanks to fill in, graded by running it") { name, output, check, reveal };
        cmd.Validators.Add(r =>
        {
            if (r.GetResult(output) != null && r.GetResult(check) != null) r.AddError("--out and --check cannot be used together");
            if (r.GetResult(reveal) != null && r.GetResult(check) == null) r.AddError("--reveal needs --check");
        });
        cmd.SetAction(r =>
        {
            var n = r.GetValue(name);
            var term = terminal();
            if (n is null or "list")
            {
                List(term);
                return 0;
            }
            var err = errorTerminal();
            var e = ExerciseRegistry.Find(n);
            if (e == null)
            {
                err.Line($"kernelsim: unknown exercise '{n}' (known: {string.Join(", ", ExerciseRegistry.All.Select(x => x.Name))})");
                err.Writer.Flush();
                return ExitCodes.Usage;
            }
            return r.GetValue(check) is { } file ? Check(e, file, r.GetValue(reveal), term, err) : Write(e, r.GetValue(output), term, err);
        });
        return cmd;
    }

    private static void List(Terminal term)
    {
        term.Heading("Exercises (kernelsim exercise NAME > NAME.yaml, fill in the blanks, kernelsim exercise NAME --check NAME.yaml)");
        var t = new Table();
        t.AddColumn("name");
        t.AddColumn("from walkthrough");
        t.AddColumn("what to predict");
        foreach (var e in ExerciseRegistry.All) t.AddRow(Markup.Escape(e.Name), Markup.Escape(e.Walkthrough), Markup.Escape(e.Title));
        term.Table(t);
    }

    private static int Write(Exercise e, string? file, Terminal term, Terminal err)
    {
        var (text, blanks) = ExerciseSheet.Write(e);
        if (file == null)
        {
            term.Writer.Write(text);
            term.Writer.Flush();
            return 0;
        }
        if (OutputFiles.Write(file, text, err) is { } failed) return failed;
        term.Line($"wrote {file}: {blanks.Count} blank(s) to fill in; grade with: kernelsim exercise {e.Name} --check {file}");
        term.Writer.Flush();
        return 0;
    }

    private static int Check(Exercise e, string file, bool reveal, Terminal term, Terminal err)
    {
        if (InputFiles.Read(file, err) is not { } text) return ExitCodes.NoInput;
        var grade = ExerciseGrader.Grade(e, file, text);
        if (grade.Problem != null && grade.Blanks.Count == 0)
        {
            err.Line($"kernelsim: {grade.Problem}");
            err.Writer.Flush();
            return ExitCodes.DataError;
        }
        term.Heading($"exercise {e.Name}: {e.Title}");
        if (grade.Problem != null) term.Line(grade.Problem);
        foreach (var b in grade.Blanks)
        {
            var where = $"line {b.Blank.Line}, step {b.Blank.Step}, {b.Blank.Key}";
            switch (b.Verdict)
            {
                case BlankVerdict.Correct:
                    term.Styled($"  right      {where}: {b.Answer}", "green");
                    break;
                case BlankVerdict.Wrong:
                    term.Styled($"  wrong      {where}: {b.Answer}{(reveal ? $" ({b.Observed})" : "")}", "red");
                    break;
                default:
                    term.Styled($"  unanswered {where}", "yellow");
                    break;
            }
        }
        term.Line($"{grade.Correct} of {grade.Blanks.Count} blank(s) right{(grade.Passed ? ": every prediction holds" : "")}");
        term.Writer.Flush();
        return grade.Passed ? 0 : RunCommand.ExpectationFailed;
    }
}
