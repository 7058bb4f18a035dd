using KernelSim.Kernel;
using KernelSim.Scenarios.Yaml;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// sysfs (and any text file) from the shell: cat and echo, made of the actor's open/read/write/close system calls
/// (<see cref="UserLib"/>). They drive the libnvdimm tree the way a user without ndctl does (docs/pmem.md): seeds, claim
/// attributes, force_raw, driver bind and unbind.
/// </summary>
internal static class SysfsSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("sysfs-read", "cat a sysfs file: the bytes read, its lines as output (path)", "path", ParseRead);
        r.Register("sysfs-write", "echo a value (with its newline) into a sysfs file: the write's return, bytes or -errno (path, value)", ParseWrite);
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
            var rc = p.ReadText(path, out var text);
            if (rc < 0) return StepResult.Returned(rc);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var shown = lines.Length == 0 ? "(empty)" : string.Join(" | ", lines);
            return new StepResult(text.Length, null, null, $"= {text.Length}: {shown}") { Notes = [.. lines] };
        });
    }

    private static IScenarioStep ParseWrite(StepParseContext c)
    {
        var actor = c.Actor()!;
        var path = Path(c);
        var node = c.Args.Require("value");
        var value = YamlValues.Scalar(c.File, node, $"{c.Args.What}.value");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: echo \"{value}\" > {path}", (run, p) => run.Syscall(p, p.WriteText(path, value + "\n")));
    }
}
