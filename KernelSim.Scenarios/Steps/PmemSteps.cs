using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Drivers.Pmem;
using KernelSim.Mm;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// pmem steps: ndctl command lines (the ndctl program run in a process called "ndctl", <see cref="Ndctl.Run"/>: it
/// reaches the kernel through sysfs and the /dev/ndctl0 and /dev/nmemN ioctls), the disk's badblocks (/sys/block/pmemN/badblocks show and store), and latent
/// poison at a byte of a pmem disk's data area.
/// </summary>
internal static class PmemSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("ndctl", "an ndctl command line run as the ndctl program (list, inject-error, inject-smart, start-scrub, wait-scrub, clear-errors, create/destroy/enable/disable-namespace, enable/disable-region); returns its exit status", "command", ParseNdctl);
        r.Register("badblocks", "cat (or echo \"S N\" >) /sys/block/pmemN/badblocks (device, store)", "device", ParseBadblocks);
        r.Register("poison-pmem", "latent poison (EINJ) in the line at a byte of a pmem disk (device, offset: bytes from sector 0)", ParsePoisonPmem);
    }

    private static void NeedPmem(StepParseContext c)
    {
        if (!c.Symbols.HasPmem) throw c.Args.Error(c.Args.Node, $"{c.Args.What}: the machine has no pmem (add machine.pmem)");
    }

    private static string Device(StepParseContext c, string key = "device")
    {
        var node = c.Args.Get(key);
        if (node == null) return "pmem0";
        var d = YamlValues.Scalar(c.File, node, $"{c.Args.What}.{key}");
        if (d.StartsWith("/dev/", StringComparison.Ordinal)) d = d[5..];
        if (!c.Symbols.PmemDisks.Contains(d)) throw c.Args.Error(node, $"{c.Args.What}.{key}: '{d}' is not a pmem disk of this machine ({string.Join(", ", c.Symbols.PmemDisks)})");
        return d;
    }

    private static IScenarioStep ParseNdctl(StepParseContext c)
    {
        NeedPmem(c);
        var node = c.Args.Require("command");
        var cmd = YamlValues.Scalar(c.File, node, $"{c.Args.What}.command").Trim();
        if (cmd.StartsWith("ndctl ", StringComparison.Ordinal)) cmd = cmd[6..].Trim();
        var verb = cmd.Split(' ', 2)[0];
        if (!Ndctl.Commands.Contains(verb) && !verb.StartsWith('-'))
            throw c.Args.Error(node, $"{c.Args.What}.command: unknown ndctl command '{verb}' (known: {string.Join(", ", Ndctl.Commands)})");
        c.Args.Done();
        return new MachineStep($"ndctl {cmd}", run =>
        {
            var m = run.Machine;
            var p = m.Scheduler.Processes.FirstOrDefault(x => x.Alive && x.Comm == "ndctl") ?? m.Spawn("ndctl");
            var r = Ndctl.Run(p, cmd);
            var notes = new List<string>();
            foreach (var l in r.Stdout.TrimEnd('\n').Split('\n')) if (l.Length > 0) notes.Add("ndctl: " + l);
            foreach (var l in r.Stderr.TrimEnd('\n').Split('\n')) if (l.Length > 0) notes.Add("ndctl (stderr): " + l);
            return new StepResult(r.Rc, null, null, $"= {r.Rc}") { Notes = notes, Stdout = r.Stdout };
        });
    }

    private static IScenarioStep ParseBadblocks(StepParseContext c)
    {
        NeedPmem(c);
        var dev = Device(c);
        var store = c.Args.Str("store");
        c.Args.Done();
        if (store != null)
        {
            return new MachineStep($"echo \"{store}\" > /sys/block/{dev}/badblocks", run =>
            {
                var disk = run.Machine.Pmem(dev).Disk;
                var r = run.Machine.Run(() => disk.BadblocksStore(store));
                return r.Returned ? StepResult.Returned(r.Value) : StepResult.NoReturn(r.Outcome ?? run.OutcomeOf(null));
            });
        }
        return new MachineStep($"cat /sys/block/{dev}/badblocks", run =>
        {
            var lines = Lines(run.Machine.Pmem(dev).Disk.BadblocksShow());
            var text = lines.Count == 0 ? "(empty)" : string.Join(", ", lines.Select(l => $"\"{l}\""));
            return new StepResult(lines.Count, null, null, $"= {lines.Count} entr{(lines.Count == 1 ? "y" : "ies")}: {text}");
        });
    }

    /// <summary>The lines of a badblocks listing ("start length").</summary>
    public static List<string> Lines(string show) => show.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static IScenarioStep ParsePoisonPmem(StepParseContext c)
    {
        NeedPmem(c);
        var dev = Device(c);
        var offNode = c.Args.Require("offset");
        var off = YamlValues.Size(c.File, offNode, $"{c.Args.What}.offset");
        c.Args.Done();
        return new MachineStep($"poison /dev/{dev} byte {off} (0x{off:x}, sector {off >> 9})", run =>
        {
            var pmem = run.Machine.Pmem(dev);
            if (off >= (ulong)pmem.Disk.SizeBytes) return StepResult.Error($"offset {off} is beyond /dev/{dev} ({pmem.Disk.SizeBytes} bytes)");
            var pa = pmem.DataPhys(off);
            var r = run.Machine.InjectPoison(new PhysAddr(pa));
            return new StepResult(r, null, null, $"= {r} (pa 0x{pa:x}, line 0x{pa & ~63UL:x})");
        });
    }
}
