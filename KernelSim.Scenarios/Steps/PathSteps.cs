using System.Text;
using System.Text.RegularExpressions;
using KernelSim.Kernel;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// Generic file steps by path, each made only of the actor's system calls (<see cref="UserLib"/>), so every
/// kernel rule applies (permissions, −EACCES, −ENOENT, −EINVAL from a sysctl, short counts): cat (read-file),
/// echo (write-file), ls (list-dir) and readlink. They reach /proc, /sys, /sys/kernel/debug and any mounted file.
/// </summary>
internal static partial class PathSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("read-file", "cat: read a whole file with open/read/close (path); the result is the byte count, the text goes to text:, fields: and output:", "path", ParseRead);
        r.Register("write-file", "echo -n TEXT > path: open O_WRONLY, one write(2), close (path, text; ${name} is a pfn a pagemap step recorded, as 0x…)", ParseWrite);
        r.Register("list-dir", "ls: the names getdents64(2) returns, without . and .. (path); the result is their number", "path", ParseList);
        r.Register("readlink", "readlink(2) (path); the result is the target's length, the target goes to text:", "path", ParseReadlink);
    }

    private static string Path(StepParseContext c)
    {
        var node = c.Args.Require("path");
        var path = YamlValues.Scalar(c.File, node, $"{c.Args.What}.path");
        if (!path.StartsWith('/')) throw c.Args.Error(node, $"{c.Args.What}.path: '{path}' is not an absolute path");
        return path;
    }

    private static IScenarioStep ParseRead(StepParseContext c)
    {
        var actor = c.Actor()!;
        var path = Path(c);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: cat {path}", (run, p) =>
        {
            var r = p.ReadAll(path, out var bytes);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r < 0) return StepResult.Returned(r);
            var text = Encoding.Latin1.GetString(bytes);
            return new StepResult(bytes.Length, null, null, $"= {bytes.Length} bytes") { Content = text, Notes = Lines(text) };
        });
    }

    [GeneratedRegex(@"\$\{([A-Za-z0-9_-]+)\}")]
    private static partial Regex PfnRef();

    private static IScenarioStep ParseWrite(StepParseContext c)
    {
        var actor = c.Actor()!;
        var path = Path(c);
        var textNode = c.Args.Require("text");
        var text = YamlValues.Scalar(c.File, textNode, $"{c.Args.What}.text");
        foreach (Match m in PfnRef().Matches(text))
            if (!c.Symbols.Pfns.Contains(m.Groups[1].Value))
                throw c.Args.Error(textNode, $"{c.Args.What}.text: no pfn named '{m.Groups[1].Value}' (record one first: pagemap: {{at: …, as: {m.Groups[1].Value}}})");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: echo -n \"{Escape(text)}\" > {path}", (run, p) =>
        {
            string? missing = null;
            var expanded = PfnRef().Replace(text, m =>
            {
                if (run.Pfns.TryGetValue(m.Groups[1].Value, out var pfn)) return $"0x{pfn:x}";
                missing = m.Groups[1].Value;
                return m.Value;
            });
            if (missing != null) return StepResult.Error($"pfn '{missing}' was not recorded (its pagemap step found no present page)");
            var r = p.WriteText(path, expanded);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            return expanded == text ? StepResult.Returned(r) : StepResult.Returned(r) with { Text = $"= {Errno.Describe(r)} (wrote \"{Escape(expanded)}\")" };
        });
    }

    private static IScenarioStep ParseList(StepParseContext c)
    {
        var actor = c.Actor()!;
        var path = Path(c);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: ls {path}", (run, p) =>
        {
            var r = p.ListDir(path, out var names);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r < 0) return StepResult.Returned(r);
            var text = string.Concat(names.Select(n => n + "\n"));
            return new StepResult(names.Count, null, null, $"= {names.Count} entr{(names.Count == 1 ? "y" : "ies")}") { Content = text, Notes = names };
        });
    }

    private static IScenarioStep ParseReadlink(StepParseContext c)
    {
        var actor = c.Actor()!;
        var path = Path(c);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: readlink {path}", (run, p) =>
        {
            var r = p.ReadLink(path, out var target);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r < 0) return StepResult.Returned(r);
            var n = Encoding.UTF8.GetByteCount(target);
            return new StepResult(n, null, null, $"= {n}: {target}") { Content = target, Notes = [target] };
        });
    }

    /// <summary>The lines of a text without the empty one after a final newline.</summary>
    private static List<string> Lines(string text)
    {
        var l = text.Split('\n').ToList();
        if (l.Count > 0 && l[^1].Length == 0) l.RemoveAt(l.Count - 1);
        return l;
    }

    /// <summary>A text as a shell would show it inside double quotes, newlines as \n.</summary>
    public static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
