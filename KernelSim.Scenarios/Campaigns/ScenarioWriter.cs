using System.Globalization;
using System.Text;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// Writes a (shrunk) plan as a scenario file (docs/scenarios.md) whose expectations are what the campaign
/// observed: each operation's return value (or no return) and its signal. Every workload but hostile: ramfs,
/// mmap, /dev/pmem0 buffered and O_DIRECT (machine.pmem, poison-pmem, ndctl inject-error), fsdax
/// (machine.filesystems, poison-file) and virtio-fs (machine.virtiofs, host-truncate). The media and host
/// file contents are not the campaign's byte patterns; the expectations do not depend on them.
/// </summary>
public static class ScenarioWriter
{
    /// <summary>The pmem namespace every pmem workload uses (SeedRunner: one fsdax namespace).</summary>
    private const string Namespace = "namespace0.0";

    public static bool CanWrite(WorkloadKind w) => w != WorkloadKind.Hostile;

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
        var w = plan.Workload;
        if (plan.WorkManual) sb.Append("  work: manual\n");
        if (w == WorkloadKind.RamfsRw) sb.Append("  ramfs: {mount: /mnt/ramfs}\n");
        if (CampaignSpec.IsPmem(w)) sb.Append(ci, $"  pmem: {{bus: nfit, namespaces: [{{size: {spec.PmemSize >> 20}M, mode: fsdax}}]}}\n");
        if (w == WorkloadKind.Fsdax) sb.Append("  filesystems: [{device: pmem0, mount: /mnt/pmem, dax: always}]\n");
        // Before 5.4 there is no virtio-fs (SeedRunner's open fails at setup): the scenario has no share either,
        // since a share that cannot mount is a setup failure of the scenario; the open fails the same way.
        var setupFailed = run.Records.Count > 0 && run.Records[0].Call.StartsWith("setup:", StringComparison.Ordinal);
        if (w == WorkloadKind.Virtiofs && !setupFailed)
            sb.Append(ci, $"  virtiofs:\n    - {{tag: myfs, mount: /mnt/virtiofs, window: 1G, dax: always, policy: upstream-async-livelock, files: [{{name: data, size: {CampaignPlan.Region / 1024}K, node: 5}}]}}\n");
        sb.Append("actors:\n  - name: app\n    signals: {SIGBUS: catch, SIGSEGV: catch}\n    mappings:\n");
        sb.Append(ci, $"      - {{name: buf, size: {CampaignPlan.BufSize / 1024}K, prot: rw, type: {(plan.Workload == WorkloadKind.MmapShared ? "shared" : "private")}, fill: \"i*7+3\"}}\n");
        sb.Append("steps:\n");
        if (setupFailed)
        {
            // The release has no such filesystem (virtio-fs is 5.4+): the open fails and no operation runs.
            sb.Append(ci, $"  - open: {{path: {FilePath(w)}, flags: {OpenFlags(w)}, as: f}}\n    expect:\n").Append(Expect(run.Records[0]));
            return sb.ToString();
        }
        if (w == WorkloadKind.RamfsRw)
            sb.Append(ci, $"  - create-file: {{path: /mnt/ramfs/data, size: {CampaignPlan.Region / 1024}K, fill: \"i^0x33\"}}\n");
        if (CampaignSpec.IsFile(w))
            sb.Append(ci, $"  - open: {{path: {FilePath(w)}, flags: {OpenFlags(w)}, as: f}}\n    expect: {{signal: none}}\n");
        if (w == WorkloadKind.Fsdax)
        {
            // SeedRunner writes the file's 64 KiB through the filesystem from the user buffer before the plan starts.
            sb.Append(ci, $"  - pwrite: {{fd: f, buf: buf, len: {CampaignPlan.Region}, pos: 0}}\n    expect: {{ret: {CampaignPlan.Region}}}\n");
        }
        var stepsStart = sb.Length;
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
                        case StepKind.PoisonDevice or StepKind.StormDevice when w == WorkloadKind.Fsdax:
                            sb.Append(ci, $"  - poison-file: {{path: /mnt/pmem/data, offset: 0x{off:x}}}\n");
                            break;
                        case StepKind.PoisonDevice or StepKind.StormDevice:
                            sb.Append(ci, $"  - poison-pmem: {{device: pmem0, offset: 0x{off:x}}}\n");
                            break;
                        case StepKind.Badblocks:
                            // off is the block SeedRunner gave ndctl (the file's sector on fsdax).
                            sb.Append(ci, $"  - ndctl: inject-error {Namespace} --block={off} --count={s.Len}\n");
                            break;
                        case StepKind.HostTruncate:
                            sb.Append(ci, $"  - host-truncate: {{file: data, size: {off}}}\n");
                            break;
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
        if (sb.Length == stepsStart && !CampaignSpec.IsFile(w))
        {
            // The plan shrank to nothing (its worst outcome needs no step): one harmless load, as the format needs a step.
            sb.Append("  - load: {at: buf, len: 1}\n    expect:\n      ret: 1\n      signal: none\n");
        }
        return sb.ToString();
    }

    private static string FilePath(WorkloadKind w) => w switch
    {
        WorkloadKind.RamfsRw => "/mnt/ramfs/data",
        WorkloadKind.PmemBuffered or WorkloadKind.PmemDirect => "/dev/pmem0",
        WorkloadKind.Fsdax => "/mnt/pmem/data",
        _ => "/mnt/virtiofs/data",
    };

    private static string OpenFlags(WorkloadKind w) => w switch
    {
        WorkloadKind.PmemDirect => "O_RDWR|O_DIRECT",
        WorkloadKind.Fsdax => "O_RDWR|O_CREAT",
        _ => "O_RDWR",
    };

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
            StepKind.Fsync => "fsync: f",
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
            Outcome.Panic or Outcome.VmStop or Outcome.Livelock or Outcome.Oops or Outcome.SilentCorruption or Outcome.Leak or Outcome.SimBug => null,
            _ => "none",
        };
        if (sig != null) sb.Append("      signal: ").Append(sig).Append('\n');
        if (rec.Outcome == Outcome.Panic) sb.Append("      machine: ").Append(rec.Detail.StartsWith("shutdown", StringComparison.Ordinal) ? "shutdown" : "panicked").Append('\n');
        if (rec.Outcome == Outcome.Livelock) sb.Append("      process: livelocked\n");
        if (rec.Outcome == Outcome.Oops) sb.Append("      process: oopsed\n");
        return sb.ToString();
    }
}
