using System.Text;
using KernelSim.Scenarios.Walkthroughs;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace KernelSim.Scenarios.Exercises;

/// <summary>One blank of an exercise: a step's expect: key whose values the student fills in.</summary>
/// <param name="Step">The step's 1-based index.</param>
/// <param name="Key">The expect: key ("ret", "mce", "memory").</param>
/// <param name="Line">The line of its first blank in the exercise file.</param>
public sealed record ExerciseBlank(int Step, string Key, int Line);

/// <summary>
/// Writes an exercise file: the walkthrough's scenario document with its title and story replaced by the
/// exercise's, the narration (say:) and the text-search expectations (dmesg, trace, output: any true substring
/// would pass) removed, and every other expected value under expect: replaced by <see cref="Blank"/>. Values that
/// say where to look (at, path, offset, same-as) stay. Edits are made on the text, so comments and layout stay.
/// </summary>
public static class ExerciseSheet
{
    /// <summary>What a blanked value reads.</summary>
    public const string Blank = "___";

    private static readonly string[] Kept = ["at", "path", "offset", "same-as"];
    private static readonly string[] Removed = ["dmesg", "trace", "output"];

    /// <summary>The exercise file and its blanks (the registry names walkthroughs and scenarios that exist; a test checks).</summary>
    /// <param name="e">The exercise.</param>
    /// <param name="answers">Leave the expected values in place: the answer key (for teachers and tests).</param>
    public static (string Text, IReadOnlyList<ExerciseBlank> Blanks) Write(Exercise e, bool answers = false)
    {
        var w = WalkthroughRegistry.Find(e.Walkthrough) ?? throw new InvalidOperationException($"exercise {e.Name}: no walkthrough {e.Walkthrough}");
        var doc = Document(w.Text(), e.Scenario) ?? throw new InvalidOperationException($"exercise {e.Name}: {w.File} has no scenario {e.Scenario}");
        var edits = new List<(int From, int To, string With)>();
        var blanks = new List<ExerciseBlank>();
        var parser = new Parser(new StringReader(doc));
        parser.Consume<StreamStart>();
        parser.Consume<DocumentStart>();
        Walk(parser, doc, [], e, answers, edits, blanks);
        var sb = new StringBuilder(doc);
        foreach (var (from, to, with) in edits.OrderByDescending(x => x.From)) sb.Remove(from, to - from).Insert(from, with);
        var body = sb.ToString();
        // Blanks were recorded at their index in the document; edits before them moved them.
        var header = HeaderLines(e);
        var numbered = blanks.Select(b =>
        {
            var at = b.Line + edits.Where(x => x.From < b.Line).Sum(x => x.With.Length - (x.To - x.From));
            return b with { Line = header.Length + 1 + body.AsSpan(0, at).Count('\n') };
        }).ToList();
        return (string.Join('\n', header) + "\n" + body, numbered);
    }

    private static string[] HeaderLines(Exercise e) =>
    [
        $"# kernelsim exercise {e.Name}: {e.Title}",
        $"# From the walkthrough {e.Walkthrough} (kernelsim walkthrough {e.Walkthrough} shows the answers).",
        $"# Replace every {Blank} with what you expect the simulator to observe (the keys are described in",
        "# docs/scenarios.md: ret is a number, an errno name such as -EIO, or noreturn; errno a name such as EIO;",
        "# signal none or {signo, code, addr, lsb}; mce {count, context, severity}; badblocks \"START COUNT\" or none).",
        $"# Do not change the steps. Then grade your answers: kernelsim exercise {e.Name} --check THIS_FILE",
    ];

    /// <summary>The YAML document of <paramref name="text"/> whose scenario: is <paramref name="scenario"/>, without its leading comments.</summary>
    private static string? Document(string text, string scenario)
    {
        var docs = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n---\n");
        foreach (var d in docs)
        {
            var lines = d.Split('\n').SkipWhile(l => l.StartsWith('#') || l.Length == 0).ToList();
            if (lines.Count > 0 && lines[0].Trim() == "scenario: " + scenario) return string.Join('\n', lines).TrimEnd('\n') + "\n";
        }
        return null;
    }

    /// <summary>Walk one node; <paramref name="path"/> holds the mapping keys and sequence indexes above it.</summary>
    private static void Walk(IParser p, string text, List<string> path, Exercise e, bool answers, List<(int, int, string)> edits, List<ExerciseBlank> blanks)
    {
        if (p.TryConsume<Scalar>(out var scalar))
        {
            // steps[i].expect.KEY...: blank the value unless its own key says where to look.
            if (path.Count >= 4 && path[0] == "steps" && path[2] == "expect" && !Kept.Contains(path[^1]))
            {
                if (!answers) edits.Add(((int)scalar.Start.Index, (int)scalar.End.Index, Blank));
                var step = int.Parse(path[1], System.Globalization.CultureInfo.InvariantCulture) + 1;
                // Line holds the document index until Write numbers the lines.
                if (!blanks.Any(b => b.Step == step && b.Key == path[3])) blanks.Add(new ExerciseBlank(step, path[3], (int)scalar.Start.Index));
            }
            return;
        }
        if (p.TryConsume<SequenceStart>(out _))
        {
            for (var i = 0; !p.TryConsume<SequenceEnd>(out _); i++) Walk(p, text, [.. path, i.ToString(System.Globalization.CultureInfo.InvariantCulture)], e, answers, edits, blanks);
            return;
        }
        p.Consume<MappingStart>();
        while (!p.TryConsume<MappingEnd>(out _))
        {
            var key = p.Consume<Scalar>();
            var valueStart = p.Current!;
            var top = path.Count == 0;
            var inStep = path.Count == 2 && path[0] == "steps";
            var inExpect = path.Count == 3 && path[0] == "steps" && path[2] == "expect";
            if ((top && key.Value is "title" or "story") || (inStep && key.Value == "say") || (inExpect && Removed.Contains(key.Value)))
            {
                var (valueEnd, isScalar) = Skip(p);
                var replacement = !top ? null : key.Value == "title" ? Quote(e.Title) : "|\n" + Indent(e.Story);
                Replace(text, key, (int)valueStart.Start.Index, valueEnd, isScalar, replacement, edits);
                continue;
            }
            Walk(p, text, [.. path, key.Value], e, answers, edits, blanks);
        }
    }

    /// <summary>Skip a node; the end index of its text and whether it was a scalar.</summary>
    private static (int End, bool Scalar) Skip(IParser p)
    {
        var depth = 0;
        var scalar = p.Current is Scalar;
        do
        {
            var ev = p.Current!;
            if (ev is MappingStart or SequenceStart) depth++;
            else if (ev is MappingEnd or SequenceEnd) depth--;
            p.MoveNext();
            if (depth == 0) return ((int)ev.End.Index, scalar);
        }
        while (true);
    }

    /// <summary>
    /// Replace a mapping entry's value with <paramref name="with"/>, or remove the entry (null): whole lines when the key
    /// starts its line (block style), else just the value becomes a blank.
    /// </summary>
    private static void Replace(string text, Scalar key, int valueStart, int valueEnd, bool isScalar, string? with, List<(int, int, string)> edits)
    {
        var keyAt = (int)key.Start.Index;
        var lineStart = text.LastIndexOf('\n', Math.Max(0, keyAt - 1)) + 1;
        var ownLine = text[lineStart..keyAt].Trim().Length == 0;
        if (with != null && isScalar)
        {
            var end = valueEnd;
            if (with.EndsWith('\n') is false && end > 0 && text[end - 1] == '\n') with += "\n";
            edits.Add((valueStart, end, with));
            return;
        }
        if (!ownLine)
        {
            edits.Add((valueStart, valueEnd, Blank));
            return;
        }
        var to = valueEnd;
        if (to == 0 || text[to - 1] != '\n')
        {
            var nl = text.IndexOf('\n', to);
            to = nl < 0 ? text.Length : nl + 1;
        }
        edits.Add((lineStart, to, ""));
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string Indent(string story) =>
        string.Concat(story.TrimEnd().Split('\n').Select(l => "  " + l.Trim() + "\n"));
}
