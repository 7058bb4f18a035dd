using System.Globalization;
using System.Text;
using KernelSim.Uapi;

namespace KernelSim.Cli.Campaigns;

/// <summary>
/// Writes a (shrunk) plan as a scenario file (docs/scenarios.md) whose expectations are what the campaign
/// observed: each operation's return value (or no return) and its signal. ramfs and mmap workloads only:
/// the scenario format has no machine.pmem yet.
/// </summary>
internal static class ScenarioWriter
{
    public static bool CanWrite(WorkloadKind w) => w is WorkloadKind.RamfsRw or WorkloadKind.MmapPrivate or WorkloadKind.MmapShared;

    public static string Write(CampaignSpec spec, Shrinker.Result r, string name)
    {
        var plan = r.Shrunk;
        var run = r.Run;
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ci, $"# Shrunk by `kernelsim shrink {plan.Seed} --campaign {spec.File}` from {r.Original.Steps.Count} to {plan.Steps.Count} steps.\n");
        sb.Append(ci, $"# Original plan: {r.Original.Describe()}\n");
        sb.Append(ci, $"scenario: {name}\n");
        sb.Append(ci, $"title: \"campaign {spec.Name}, seed {plan.Seed} on Linux {r.Profile}: worst outcome {Outcomes.Name(r.Target)}\"\n");
        sb.Append("machine:\n");
        sb.Append(ci, $"  kernel: \"{r.Profile}\"\n");
        sb.Append(ci, $"  cpu: {spec.Cpu.Name}\n");
        sb.Append(ci, $"  dram: {spec.Dram >> 20}M\n");
        sb.Append(ci, $"  seed: {plan.Seed}\n");
        if (plan.Workload == WorkloadKind.RamfsRw) sb.Append("  ramfs: {mount: /mnt/ramfs}\n");
        sb.Append("actors:\n  - name: app\n    signals: {SIGBUS: catch, SIGSEGV: catch}\n    mappings:\n");
        sb.Append(ci, $"      - {{name: buf, size: {CampaignPlan.BufSize / 1024}K, prot: rw, type: {(plan.Workload == WorkloadKind.MmapShared ? "shared" : "private")}, fill: \"i*7+3\"}}\n");
        sb.Append("steps:\n");
        if (plan.Workload == WorkloadKind.RamfsRw)
        {
            sb.Append(ci, $"  - create-file: {{path: /mnt/ramfs/data, size: {CampaignPlan.Region / 1024}K, fill: \"i^0x33\"}}\n");
            sb.Append("  - open: {path: /mnt/ramfs/data, flags: O_RDWR, as: f}\n    expect: {signal: none}\n");
        }
        var records = new Dictionary<int, OpRecord>();
        foreach (var rec in run.Records) records[rec.Step] = rec;
        for (var i = 0; i < plan.Steps.Count; i++)
        {
            var s = plan.Steps[i];
            if (!records.TryGetValue(i, out var rec)) break; // the machine or the process died before this step
            if (s.IsFault)
            {
                foreach (var off in run.Applied.GetValueOrDefault(i) ?? [])
                {
                    switch (s.Kind)
                    {
                        case StepKind.PoisonBuffer or StepKind.StormBuffer:
                            sb.Append(ci, $"  - poison: {{at: buf+0x{off:x}}}\n");
                            break;
                        case StepKind.UnmapPage:
                            sb.Append(ci, $"  - munmap: {{at: buf+0x{off:x}, len: 4096}}\n");
                            break;
                        case StepKind.ReadonlyPage:
                            sb.Append(ci, $"  - mprotect: {{at: buf+0x{off:x}, len: 4096, prot: r}}\n");
                            break;
                        case StepKind.SubpageHole:
                            sb.Append(ci, $"  - subpage-protect: {{at: buf+0x{off:x}, len: {s.Len}, access: deny}}\n");
                            break;
                    }
                }
                continue;
            }
            sb.Append("  - ").Append(Step(s)).Append('\n');
            sb.Append("    expect:\n").Append(Expect(rec));
        }
        return sb.ToString();
    }

    private static string Step(PlanStep s)
    {
        var ci = CultureInfo.InvariantCulture;
        string Iov()
        {
            var parts = new List<string>();
            for (var k = 0; k + 1 < s.Segs!.Length; k += 2) parts.Add(string.Create(ci, $"{{at: buf+0x{s.Segs[k]:x}, len: {s.Segs[k + 1]}}}"));
            return "[" + string.Join(", ", parts) + "]";
        }
        return s.Kind switch
        {
            StepKind.Read => string.Create(ci, $"read: {{fd: f, buf: buf+0x{s.Off:x}, len: {s.Len}}}"),
            StepKind.Write => string.Create(ci, $"write: {{fd: f, buf: buf+0x{s.Off:x}, len: {s.Len}}}"),
            StepKind.Pread => string.Create(ci, $"pread: {{fd: f, buf: buf+0x{s.Off:x}, len: {s.Len}, pos: {s.Pos}}}"),
            StepKind.Pwrite => string.Create(ci, $"pwrite: {{fd: f, buf: buf+0x{s.Off:x}, len: {s.Len}, pos: {s.Pos}}}"),
            StepKind.Readv => $"readv: {{fd: f, iov: {Iov()}}}",
            StepKind.Writev => $"writev: {{fd: f, iov: {Iov()}}}",
            StepKind.Preadv => string.Create(ci, $"preadv: {{fd: f, iov: {Iov()}, pos: {s.Pos}}}"),
            StepKind.Pwritev => string.Create(ci, $"pwritev: {{fd: f, iov: {Iov()}, pos: {s.Pos}}}"),
            StepKind.Load => string.Create(ci, $"load: {{at: buf+0x{s.Off:x}, len: {s.Len}}}"),
            StepKind.Store => string.Create(ci, $"store: {{at: buf+0x{s.Off:x}, len: {s.Len}, fill: 0x{s.Fill:x2}}}"),
            _ => throw new InvalidOperationException($"{s.Kind} cannot be written as a scenario step"),
        };
    }

    private static string Expect(OpRecord rec)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        if (rec.Ret is not { } ret) sb.Append("      ret: noreturn\n");
        else if (ret < 0) sb.Append(ci, $"      errno: {Errno.Name(ret)}\n");
        else sb.Append(ci, $"      ret: {ret}\n");
        var sig = rec.Outcome switch
        {
            Outcome.SigbusAr => "{signo: SIGBUS, code: BUS_MCEERR_AR}",
            Outcome.SigbusAo => "{signo: SIGBUS, code: BUS_MCEERR_AO}",
            Outcome.SigbusAdrerr => "{signo: SIGBUS, code: BUS_ADRERR}",
            Outcome.SigsegvMaperr => "{signo: SIGSEGV, code: SEGV_MAPERR}",
            Outcome.SigsegvAccerr => "{signo: SIGSEGV, code: SEGV_ACCERR}",
            Outcome.Panic or Outcome.VmStop or Outcome.Livelock or Outcome.Oops or Outcome.SilentCorruption or Outcome.SimBug => null,
            _ => "none",
        };
        if (sig != null) sb.Append("      signal: ").Append(sig).Append('\n');
        if (rec.Outcome == Outcome.Panic) sb.Append("      machine: ").Append(rec.Detail.StartsWith("shutdown", StringComparison.Ordinal) ? "shutdown" : "panicked").Append('\n');
        if (rec.Outcome == Outcome.Livelock) sb.Append("      process: livelocked\n");
        if (rec.Outcome == Outcome.Oops) sb.Append("      process: oopsed\n");
        return sb.ToString();
    }
}
