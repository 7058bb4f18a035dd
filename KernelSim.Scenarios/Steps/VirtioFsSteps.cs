using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Drivers.Virtiofs;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// The other party on a virtio-fs host (HostShare): it truncates, extends or writes a shared file behind the
/// guest's back (VF12), and stat(2) from the guest, which refreshes the cached attributes.
/// </summary>
internal static class VirtioFsSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("host-truncate", "another host party truncates a shared file (share, file, size)", c => ParseHost(c, "truncate"));
        r.Register("host-extend", "another host party extends a shared file (share, file, size)", c => ParseHost(c, "extend"));
        r.Register("host-write", "another host party writes a shared file (share, file, offset, len, fill)", c => ParseHost(c, "write"));
        r.Register("stat", "stat(2) of a virtio-fs path: GETATTR when the attributes timed out (path)", "path", ParseStat);
        r.Register("sleep", "let time pass on the virtio-fs clocks, so cached attributes and dentries time out (seconds)", "seconds", ParseSleep);
    }

    private static string Share(StepParseContext c)
    {
        var node = c.Args.Get("share");
        if (node != null)
        {
            var s = YamlValues.Scalar(c.File, node, $"{c.Args.What}.share");
            if (!c.Symbols.Shares.Contains(s)) throw c.Args.Error(node, $"{c.Args.What}.share: no virtio-fs share '{s}' (shares: {string.Join(", ", c.Symbols.Shares.DefaultIfEmpty("none"))})");
            return s;
        }
        return c.Symbols.Shares.Count switch
        {
            1 => c.Symbols.Shares[0],
            0 => throw c.Args.Error(c.Args.Node, $"{c.Args.What}: the machine has no virtio-fs share (add machine.virtiofs)"),
            _ => throw c.Args.Error(c.Args.Node, $"{c.Args.What}: which share? add share: (one of {string.Join(", ", c.Symbols.Shares)})"),
        };
    }

    private static IScenarioStep ParseHost(StepParseContext c, string op)
    {
        var share = Share(c);
        var file = c.Args.RequireStr("file");
        long size = 0, offset = 0;
        var len = 0UL;
        FillPattern fill = FillPattern.TryParse("0")!;
        if (op == "write")
        {
            offset = FsSteps.Num(c, "offset") ?? 0;
            len = c.Size("len");
            if (len > 1UL << 26 || offset < 0) throw c.Args.Error(c.Args.Node, $"{c.Args.What}: offset ≥ 0 and len ≤ 64M");
            fill = c.Fill("fill", fill);
        }
        else
        {
            size = FsSteps.Num(c, "size") ?? throw c.Args.Error(c.Args.Node, $"{c.Args.What}: missing required key 'size'");
            if (size < 0) throw c.Args.Error(c.Args.Get("size")!, $"{c.Args.What}.size: must not be negative");
        }
        c.Args.Done();
        var describe = op == "write" ? $"host: write {file} [{offset}, +{len}) fill {fill}" : $"host: {(op == "truncate" ? "truncate" : "extend")} {file} to {size}";
        return new MachineStep(describe, run =>
        {
            if (!run.Shares.TryGetValue(share, out var s)) return StepResult.Error($"share {share} was not set up");
            var ok = op switch
            {
                "truncate" => s.Host.Truncate(file, size),
                "extend" => s.Host.Extend(file, size),
                _ => s.Host.Write(file, offset, fill.Bytes(0, (int)len)),
            };
            if (!ok) return StepResult.Error($"the host has no file {file}");
            var hf = s.Host[file]!;
            return new StepResult(hf.Size, null, null, $"= host size {hf.Size}");
        });
    }

    private static IScenarioStep ParseSleep(StepParseContext c)
    {
        var node = c.Args.Require("seconds");
        var text = YamlValues.Scalar(c.File, node, $"{c.Args.What}.seconds");
        if (!double.TryParse(text.TrimEnd('s'), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var secs) || secs < 0 || secs > 86400)
            throw c.Args.Error(node, $"{c.Args.What}.seconds: '{text}' is not a duration in seconds (0 .. 86400, e.g. 1.5 or 2s)");
        c.Args.Done();
        return new MachineStep($"sleep {text}", run =>
        {
            run.Machine.Clock.Advance(TimeSpan.FromSeconds(secs)); // one machine clock for every share
            return StepResult.Returned(0);
        });
    }

    private static IScenarioStep ParseStat(StepParseContext c)
    {
        var actor = c.Actor()!;
        var share = Share(c);
        var path = c.Args.RequireStr("path");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: stat({path})", (run, p) =>
        {
            if (!run.Shares.TryGetValue(share, out var s)) return StepResult.Error($"share {share} was not set up");
            return run.Syscall(p, s.Stat(p, path));
        });
    }
}
