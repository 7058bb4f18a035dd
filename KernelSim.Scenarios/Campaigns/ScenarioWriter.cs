using System.Globalization;
using KernelSim.Uapi;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// Writes a (shrunk) plan as a scenario file (docs/scenarios.md) whose expectations are what the campaign
/// observed: each operation's return value (or no return) and its signal. Every workload but hostile: ramfs,
/// mmap, /dev/pmem0 buffered and O_DIRECT (machine.pmem, poison-pmem, ndctl inject-error), fsdax
/// (machine.filesystems, poison-file), virtio-fs (machine.virtiofs, host-truncate), sector (a sector-mode
/// namespace, O_DIRECT on /dev/pmem0s; poison at the physical line of the data block the LBA mapped to when the
/// campaign injected it; a badblock as that poison plus ndctl start-scrub) and devdax (a devdax
/// namespace of the seed's alignment, loads and stores through a MAP_SHARED mapping of /dev/dax0.0; a SIGBUS is
/// pinned with its si_addr and si_addr_lsb). The media and host file contents are not the campaign's byte
/// patterns; the expectations do not depend on them. The text is built as YAML nodes and written by YamlDotNet's
/// emitter, so any campaign name or path stays valid YAML.
/// </summary>
public static class ScenarioWriter
{
    /// <summary>The pmem namespace every pmem workload uses (SeedRunner: one fsdax namespace).</summary>
    private const string Namespace = "namespace0.0";

    /// <summary>The name the devdax scenario gives its mapping of /dev/dax0.0 (the campaign's calls name it buf).</summary>
    private const string DaxMap = "dax";

    public static bool CanWrite(WorkloadKind w) => w is not WorkloadKind.Hostile;

    /// <summary>
    /// The scenario's name: "CAMPAIGN-seed-N", with every character a scenario name cannot hold (letters, digits,
    /// '-', '_', '.'; a letter first) replaced by '-' ("it's odd" → "it-s-odd-seed-46"). The title keeps the
    /// campaign's real name.
    /// </summary>
    public static string ScenarioName(CampaignSpec spec, ulong seed)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var c in spec.Name)
        {
            var ok = char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-';
            if (ok) sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
        }
        var slug = sb.ToString().Trim('-');
        if (slug.Length == 0 || !char.IsAsciiLetter(slug[0])) slug = "campaign-" + slug;
        return string.Create(CultureInfo.InvariantCulture, $"{slug.TrimEnd('-')}-seed-{seed}");
    }

    public static string Write(CampaignSpec spec, Shrinker.Result r, string name)
    {
        var plan = r.Shrunk;
        var run = r.Run;
        var ci = CultureInfo.InvariantCulture;
        var comments = new[]
        {
            $"Shrunk by `kernelsim shrink {plan.Seed} --campaign {spec.File}{(r.Target.Worst ? "" : $" --target {r.Target}")}` from {r.Original.Steps.Count} to {plan.Steps.Count} steps.",
            $"Original plan: {r.Original.Describe()}",
        };
        var top = new YamlMappingNode
        {
            { "scenario", name },
            { "title", $"campaign {spec.Name}, seed {plan.Seed} on Linux {r.Profile}: {r.Target}" },
        };
        var machine = new YamlMappingNode
        {
            { "kernel", new YamlScalarNode(r.Profile.ToString()) { Style = ScalarStyle.DoubleQuoted } },
            { "cpu", spec.Cpu.Name },
            { "dram", string.Create(ci, $"{spec.Dram >> 20}M") },
            { "seed", Num(plan.Seed) },
        };
        top.Add("machine", machine);
        var w = plan.Workload;
        if (plan.WorkManual) machine.Add("work", "manual");
        if (w == WorkloadKind.RamfsRw) machine.Add("ramfs", Flow(("mount", "/mnt/ramfs")));
        if (CampaignSpec.IsPmem(w))
            machine.Add("pmem", Flow(("bus", "nfit"), ("namespaces", FlowSeq(Flow(("size", string.Create(ci, $"{spec.PmemSize >> 20}M")), ("mode", "fsdax"))))));
        var align = w == WorkloadKind.Devdax ? DevdaxWorkload.AlignOf(spec, plan.Seed) : 0;
        if (w == WorkloadKind.Sector)
            machine.Add("pmem", Flow(("bus", "nfit"), ("namespaces", FlowSeq(Flow(("size", Size(SectorWorkload.NamespaceSize(spec))), ("mode", "sector"))))));
        if (w == WorkloadKind.Devdax)
            machine.Add("pmem", Flow(("bus", "nfit"), ("namespaces", FlowSeq(Flow(("size", Size(DevdaxWorkload.NamespaceSize(spec, align))), ("mode", "devdax"), ("align", Size(align)))))));
        if (w == WorkloadKind.Fsdax) machine.Add("filesystems", FlowSeq(Flow(("device", "pmem0"), ("mount", "/mnt/pmem"), ("dax", "always"))));
        // Before 5.4 there is no virtio-fs (SeedRunner's open fails at setup): the scenario has no share either,
        // since a share that cannot mount is a setup failure of the scenario; the open fails the same way.
        var setupFailed = run.Records.Count > 0 && run.Records[0].Call.StartsWith("setup:", StringComparison.Ordinal);
        if (w == WorkloadKind.Virtiofs && !setupFailed)
            machine.Add("virtiofs", new YamlSequenceNode(Flow(("tag", "myfs"), ("mount", "/mnt/virtiofs"), ("window", "1G"), ("dax", "always"), ("policy", "upstream-async-livelock"),
                ("files", FlowSeq(Flow(("name", "data"), ("size", string.Create(ci, $"{CampaignPlan.Region / 1024}K")), ("node", "5")))))));
        top.Add("actors", new YamlSequenceNode(new YamlMappingNode
        {
            { "name", "app" },
            { "signals", Flow(("SIGBUS", "catch"), ("SIGSEGV", "catch")) },
            { "mappings", new YamlSequenceNode(Flow(("name", "buf"), ("size", string.Create(ci, $"{CampaignPlan.BufSize / 1024}K")), ("prot", "rw"),
                ("type", plan.Workload is WorkloadKind.MmapShared or WorkloadKind.Devdax ? "shared" : "private"), ("fill", new YamlScalarNode("i*7+3") { Style = ScalarStyle.DoubleQuoted }))) },
        }));
        var steps = new YamlSequenceNode();
        top.Add("steps", steps);
        if (setupFailed && w == WorkloadKind.Devdax && run.Records[0].Call.StartsWith("setup: mmap", StringComparison.Ordinal))
        {
            // The device opened but its mapping failed: no operation runs.
            steps.Add(new YamlMappingNode { { "open", Flow(("path", FilePath(w)), ("flags", OpenFlags(w)), ("as", "f")) }, { "expect", Flow(("signal", "none")) } });
            steps.Add(new YamlMappingNode { { "mmap-file", DaxMmap(align) }, { "expect", Expect(run.Records[0]) } });
            return Emit(comments, top);
        }
        if (setupFailed)
        {
            // The release has no such filesystem (virtio-fs is 5.4+): the open fails and no operation runs.
            steps.Add(new YamlMappingNode { { "open", Flow(("path", FilePath(w)), ("flags", OpenFlags(w)), ("as", "f")) }, { "expect", Expect(run.Records[0]) } });
            return Emit(comments, top);
        }
        if (w == WorkloadKind.RamfsRw)
            steps.Add(Block(("create-file", Flow(("path", "/mnt/ramfs/data"), ("size", string.Create(ci, $"{CampaignPlan.Region / 1024}K")), ("fill", new YamlScalarNode("i^0x33") { Style = ScalarStyle.DoubleQuoted })))));
        if (CampaignSpec.IsFile(w) || w is WorkloadKind.Sector or WorkloadKind.Devdax)
            steps.Add(new YamlMappingNode { { "open", Flow(("path", FilePath(w)), ("flags", OpenFlags(w)), ("as", "f")) }, { "expect", Flow(("signal", "none")) } });
        // SeedRunner's devdax workload maps the device's first alignment unit, shared, right after the open.
        if (w == WorkloadKind.Devdax) steps.Add(new YamlMappingNode { { "mmap-file", DaxMmap(align) } });
        var daxStart = w == WorkloadKind.Devdax ? DevdaxWorkload.DeviceStart(run.Machine) : 0;
        var compoundHead = run.Machine.Profile.DevDaxCompoundHead;
        List<ulong> poisoned = []; // devdax: the device offsets poisoned so far (nothing clears them)
        if (w == WorkloadKind.Fsdax)
        {
            // SeedRunner writes the file's 64 KiB through the filesystem from the user buffer before the plan starts.
            steps.Add(new YamlMappingNode { { "pwrite", Flow(("fd", "f"), ("buf", "buf"), ("len", Num(CampaignPlan.Region)), ("pos", "0")) }, { "expect", Flow(("ret", Num(CampaignPlan.Region))) } });
        }
        var stepsStart = steps.Children.Count;
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
                    if (w == WorkloadKind.Devdax && s.Kind == StepKind.PoisonDevice) poisoned.Add(off);
                    if (w == WorkloadKind.Sector && s.Kind == StepKind.Badblocks)
                    {
                        // ndctl inject-error refuses a BTT namespace: the block's first line is poisoned and a scrub finds it.
                        steps.Add(new YamlMappingNode
                        {
                            { "poison", Flow(("pa", string.Create(ci, $"0x{off:x}"))) },
                            { "say", string.Create(ci, $"badblocks: the data block LBA {s.Off} maps to now, found by the scrub below") },
                            { "expect", Flow(("ret", "0")) },
                        });
                        steps.Add(new YamlMappingNode { { "ndctl", "start-scrub" }, { "expect", Flow(("ret", "0")) } });
                    }
                    else if (Fault(s, w, off, daxStart) is { } f) steps.Add(f);
                }
                continue;
            }
            var (op, args) = Step(s, w == WorkloadKind.Devdax ? DaxMap : "buf");
            YamlNode? signal = null;
            if (w == WorkloadKind.Devdax && rec.Outcome == Outcome.SigbusAr && FirstPoisoned(poisoned, s) is { } line)
            {
                // The SIGBUS names the page (or the compound head) of the first poisoned line the load reached.
                var addr = string.Create(ci, $"{DaxMap}+0x{DevdaxWorkload.SiAddrOffset(compoundHead, align, line):x}");
                signal = Flow(("signo", "SIGBUS"), ("code", "BUS_MCEERR_AR"), ("addr", addr), ("lsb", Num((long)DevdaxWorkload.SiAddrLsb(align))));
            }
            // A livelocked load or store: the campaign records the bytes it moved, but the scenario's ret check does not
            // take both a count and "did not return", so only the process state is pinned.
            var noReturn = rec.Outcome == Outcome.Livelock && s.Kind is StepKind.Load or StepKind.Store;
            steps.Add(new YamlMappingNode { { op, args }, { "expect", Expect(rec, signal, noReturn) } });
        }
        if (steps.Children.Count == stepsStart && !CampaignSpec.IsFile(w))
        {
            // The plan shrank to nothing (its outcome needs no step): one harmless load, as the format needs a step.
            steps.Add(new YamlMappingNode { { "load", Flow(("at", "buf"), ("len", "1")) }, { "expect", new YamlMappingNode { { "ret", "1" }, { "signal", "none" } } } });
        }
        return Emit(comments, top);
    }

    /// <summary>The first poisoned line (device offset) a devdax load of step <paramref name="s"/> reaches.</summary>
    private static ulong? FirstPoisoned(List<ulong> poisoned, PlanStep s)
    {
        ulong? first = null;
        foreach (var p in poisoned)
        {
            var line = p & ~63UL;
            if (line + 64 > s.Off && line < s.Off + s.Len && (first == null || line < first)) first = line;
        }
        return first;
    }

    /// <summary>mmap of /dev/dax0.0 as SeedRunner's devdax workload does it: its first alignment unit, shared.</summary>
    private static YamlMappingNode DaxMmap(ulong align) =>
        Flow(("fd", "f"), ("name", DaxMap), ("len", Size(DevdaxWorkload.MapLength(align))), ("prot", "rw"), ("flags", "shared"));

    private static YamlMappingNode? Fault(PlanStep s, WorkloadKind w, ulong off, ulong daxStart)
    {
        var ci = CultureInfo.InvariantCulture;
        var at = string.Create(ci, $"buf+0x{off:x}");
        var hex = string.Create(ci, $"0x{off:x}");
        var ok = Flow(("ret", "0"));
        return s.Kind switch
        {
            // off is the physical address of the poisoned byte: the block the LBA mapped to when injected.
            StepKind.PoisonDevice when w == WorkloadKind.Sector => new YamlMappingNode
            {
                { "poison", Flow(("pa", hex)) },
                { "say", string.Create(ci, $"poison-line: byte {s.Off % 512} of the data block LBA {s.Off / 512} maps to now") },
                { "expect", ok },
            },
            StepKind.PoisonDevice when w == WorkloadKind.Devdax => new YamlMappingNode
            {
                { "poison", Flow(("pa", string.Create(ci, $"0x{daxStart + off:x}"))) },
                { "say", string.Create(ci, $"poison-line: /dev/dax0.0 byte 0x{off:x}") },
                { "expect", ok },
            },
            StepKind.PoisonDevice or StepKind.StormDevice when w == WorkloadKind.Fsdax => Block(("poison-file", Flow(("path", "/mnt/pmem/data"), ("offset", hex)))),
            StepKind.PoisonDevice or StepKind.StormDevice => Block(("poison-pmem", Flow(("device", "pmem0"), ("offset", hex)))),
            // off is the block SeedRunner gave ndctl (the file's sector on fsdax).
            StepKind.Badblocks => Block(("ndctl", string.Create(ci, $"inject-error {Namespace} --block={off} --count={s.Len}"))),
            StepKind.HostTruncate => Block(("host-truncate", Flow(("file", "data"), ("size", Num(off))))),
            StepKind.PoisonBuffer or StepKind.StormBuffer => Block(("poison", Flow(("at", at)))),
            StepKind.UnmapPage => Block(("munmap", Flow(("at", at), ("len", "4096")))),
            StepKind.ReadonlyPage => Block(("mprotect", Flow(("at", at), ("len", "4096"), ("prot", "r")))),
            StepKind.SubpageHole => Block(("subpage-protect", Flow(("at", at), ("len", Num(s.Len)), ("access", "deny")))),
            _ => null,
        };
    }

    /// <summary>The scenario text, written by YamlDotNet's emitter (quoting decided by the emitter, never by hand).</summary>
    private static string Emit(IEnumerable<string> comments, YamlMappingNode top)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var e = new Emitter(sw, new EmitterSettings().WithBestWidth(int.MaxValue).WithIndentedSequences().WithNewLine("\n"));
        e.Emit(new StreamStart());
        e.Emit(new DocumentStart(null, null, true));
        // A comment is one line: a newline in a path or plan text would end it.
        foreach (var c in comments) e.Emit(new Comment(c.Replace('\n', ' ').Replace('\r', ' '), false));
        EmitNode(e, top);
        e.Emit(new DocumentEnd(true));
        e.Emit(new StreamEnd());
        return sw.ToString();
    }

    private static void EmitNode(IEmitter e, YamlNode n)
    {
        switch (n)
        {
            case YamlScalarNode s:
                e.Emit(new Scalar(AnchorName.Empty, TagName.Empty, s.Value ?? "", s.Style, true, true));
                break;
            case YamlSequenceNode q:
                e.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, true, q.Style));
                foreach (var c in q.Children) EmitNode(e, c);
                e.Emit(new SequenceEnd());
                break;
            case YamlMappingNode m:
                e.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, m.Style));
                foreach (var (k, v) in m.Children)
                {
                    EmitNode(e, k);
                    EmitNode(e, v);
                }
                e.Emit(new MappingEnd());
                break;
        }
    }

    private static YamlMappingNode Flow(params (string Key, YamlNode Value)[] pairs)
    {
        var m = new YamlMappingNode { Style = MappingStyle.Flow };
        foreach (var (k, v) in pairs) m.Add(k, v);
        return m;
    }

    private static YamlMappingNode Block(params (string Key, YamlNode Value)[] pairs)
    {
        var m = Flow(pairs);
        m.Style = MappingStyle.Block;
        return m;
    }

    private static YamlSequenceNode FlowSeq(params YamlNode[] items) => new(items) { Style = SequenceStyle.Flow };

    private static YamlScalarNode Num(ulong v) => new(v.ToString(CultureInfo.InvariantCulture));

    private static YamlScalarNode Num(long v) => new(v.ToString(CultureInfo.InvariantCulture));

    /// <summary>A size as the scenario format writes it: "1G", "2M", "4K" or bytes.</summary>
    private static YamlScalarNode Size(ulong v)
    {
        var ci = CultureInfo.InvariantCulture;
        return new(v % (1UL << 30) == 0 ? string.Create(ci, $"{v >> 30}G") : v % (1UL << 20) == 0 ? string.Create(ci, $"{v >> 20}M")
            : v % 1024 == 0 ? string.Create(ci, $"{v >> 10}K") : v.ToString(ci));
    }

    private static string FilePath(WorkloadKind w) => w switch
    {
        WorkloadKind.RamfsRw => "/mnt/ramfs/data",
        WorkloadKind.PmemBuffered or WorkloadKind.PmemDirect => "/dev/pmem0",
        WorkloadKind.Fsdax => "/mnt/pmem/data",
        WorkloadKind.Sector => "/dev/pmem0s",
        WorkloadKind.Devdax => "/dev/dax0.0",
        _ => "/mnt/virtiofs/data",
    };

    private static string OpenFlags(WorkloadKind w) => w switch
    {
        WorkloadKind.PmemDirect or WorkloadKind.Sector => "O_RDWR|O_DIRECT",
        WorkloadKind.Fsdax => "O_RDWR|O_CREAT",
        _ => "O_RDWR",
    };

    /// <summary>An operation step; <paramref name="buf"/> names what the plan's buf+ offsets are in (devdax: the device mapping).</summary>
    private static (string Op, YamlMappingNode Args) Step(PlanStep s, string buf)
    {
        var ci = CultureInfo.InvariantCulture;
        YamlScalarNode At(ulong off) => new(string.Create(ci, $"{buf}+0x{off:x}"));
        YamlSequenceNode Iov()
        {
            var list = new YamlSequenceNode { Style = SequenceStyle.Flow };
            for (var k = 0; k + 1 < s.Segs!.Length; k += 2) list.Add(Flow(("at", At(s.Segs[k])), ("len", Num(s.Segs[k + 1]))));
            return list;
        }
        var f = new YamlScalarNode("f");
        return s.Kind switch
        {
            StepKind.Read => ("read", Flow(("fd", f), ("buf", At(s.Off)), ("len", Num(s.Len)))),
            StepKind.Write => ("write", Flow(("fd", f), ("buf", At(s.Off)), ("len", Num(s.Len)))),
            StepKind.Pread => ("pread", Flow(("fd", f), ("buf", At(s.Off)), ("len", Num(s.Len)), ("pos", Num(s.Pos)))),
            StepKind.Pwrite => ("pwrite", Flow(("fd", f), ("buf", At(s.Off)), ("len", Num(s.Len)), ("pos", Num(s.Pos)))),
            StepKind.Readv => ("readv", Flow(("fd", f), ("iov", Iov()))),
            StepKind.Writev => ("writev", Flow(("fd", f), ("iov", Iov()))),
            StepKind.Preadv => ("preadv", Flow(("fd", f), ("iov", Iov()), ("pos", Num(s.Pos)))),
            StepKind.Pwritev => ("pwritev", Flow(("fd", f), ("iov", Iov()), ("pos", Num(s.Pos)))),
            StepKind.Load => ("load", Flow(("at", At(s.Off)), ("len", Num(s.Len)))),
            StepKind.Store => ("store", Flow(("at", At(s.Off)), ("len", Num(s.Len)), ("fill", string.Create(ci, $"0x{s.Fill:x2}")))),
            _ => throw new InvalidOperationException($"{s.Kind} cannot be written as a scenario step"),
        };
    }

    /// <summary>The expect: block of a record; <paramref name="signal"/> replaces the signal written from its outcome; <paramref name="noReturn"/> leaves the return value out.</summary>
    private static YamlMappingNode Expect(OpRecord rec, YamlNode? signal = null, bool noReturn = false)
    {
        var m = new YamlMappingNode();
        if (!noReturn)
        {
            if (rec.Ret is not { } ret) m.Add("ret", "noreturn");
            else if (ret < 0) m.Add("errno", Errno.Name(ret));
            else m.Add("ret", Num(ret));
        }
        YamlNode? sig = rec.Outcome switch
        {
            Outcome.SigbusAr => Flow(("signo", "SIGBUS"), ("code", "BUS_MCEERR_AR")),
            Outcome.SigbusAo => Flow(("signo", "SIGBUS"), ("code", "BUS_MCEERR_AO")),
            Outcome.SigbusAdrerr => Flow(("signo", "SIGBUS"), ("code", "BUS_ADRERR")),
            Outcome.SigsegvMaperr => Flow(("signo", "SIGSEGV"), ("code", "SEGV_MAPERR")),
            Outcome.SigsegvAccerr => Flow(("signo", "SIGSEGV"), ("code", "SEGV_ACCERR")),
            Outcome.Panic or Outcome.VmStop or Outcome.Livelock or Outcome.Oops or Outcome.SilentCorruption or Outcome.Leak or Outcome.SimBug => null,
            _ => new YamlScalarNode("none"),
        };
        sig = signal ?? sig;
        if (sig != null) m.Add("signal", sig);
        if (rec.Outcome == Outcome.Panic) m.Add("machine", rec.Detail.StartsWith("shutdown", StringComparison.Ordinal) ? "shutdown" : "panicked");
        if (rec.Outcome == Outcome.Livelock) m.Add("process", "livelocked");
        if (rec.Outcome == Outcome.Oops) m.Add("process", "oopsed");
        return m;
    }
}
