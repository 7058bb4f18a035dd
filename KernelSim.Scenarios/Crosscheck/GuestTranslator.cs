using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using KernelSim.Kernel;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Steps;
using KernelSim.Scenarios.Yaml;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Crosscheck;

/// <summary>
/// Translates a scenario into a guest program for a real Linux kernel under QEMU: system calls, user loads and
/// stores, signal dispositions, MADV_HWPOISON, the badblocks sysfs file and the namespace setup. What the emulated
/// platform cannot do (EINJ poison, machine checks, ARS, in-kernel copies, daxfs, virtio-fs) is marked "cannot run"
/// with the reason; a step that cannot run and changes the machine makes every later step "cannot run" too, since
/// the guest would no longer be in the simulator's state.
/// </summary>
public static partial class GuestTranslator
{
    /// <summary>Reasons for the steps the emulated platform cannot run.</summary>
    public static readonly IReadOnlyDictionary<string, string> Unsupported = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["poison"] = "ACPI EINJ poison: QEMU has no EINJ and TCG raises no machine checks",
        ["poison-file"] = "ACPI EINJ poison: QEMU has no EINJ and TCG raises no machine checks",
        ["poison-pmem"] = "ACPI EINJ poison: QEMU has no EINJ and TCG raises no machine checks",
        ["ndctl"] = "ndctl error injection, ARS and clear-error: QEMU's NFIT implements no ARS or injection DSMs",
        ["kmalloc"] = "a kernel buffer: the guest program runs in user space",
        ["copy"] = "an in-kernel copy routine: not callable from user space",
        ["fault-in"] = "an mm/gup.c helper: not callable from user space",
        ["restore-fpregs"] = "sigreturn's XRSTOR of a hand-made buffer: needs a forged signal frame",
        ["subpage-protect"] = "sub-page protection does not exist on x86",
        ["create-file"] = "a ramfs file set up without system calls",
        ["host-truncate"] = "virtio-fs host side: no virtiofsd in the guest setup",
        ["host-extend"] = "virtio-fs host side: no virtiofsd in the guest setup",
        ["host-write"] = "virtio-fs host side: no virtiofsd in the guest setup",
        ["stat"] = "virtio-fs: no virtiofsd in the guest setup",
        ["sleep"] = "virtio-fs attribute timeouts: no virtiofsd in the guest setup",
    };

    /// <summary>Steps that cannot run but change nothing the later steps observe on Linux.</summary>
    private static readonly Dictionary<string, string> Harmless = new(StringComparer.Ordinal)
    {
        ["run-work"] = "deferred work: on Linux it runs by itself",
    };

    private static readonly HashSet<string> OpenFlags = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT", "O_EXCL", "O_TRUNC", "O_APPEND", "O_DIRECT", "O_SYNC", "O_DSYNC", "O_NOFOLLOW", "O_CLOEXEC"];
    private static readonly HashSet<string> MmapFlags = ["MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE", "MAP_SYNC", "MAP_POPULATE", "MAP_FIXED"];
    private static readonly HashSet<string> ProtFlags = ["PROT_NONE", "PROT_READ", "PROT_WRITE", "PROT_EXEC"];
    private static readonly HashSet<string> FallocFlags = ["FALLOC_FL_KEEP_SIZE", "FALLOC_FL_PUNCH_HOLE", "FALLOC_FL_ZERO_RANGE", "FALLOC_FL_COLLAPSE_RANGE", "FALLOC_FL_INSERT_RANGE", "FALLOC_FL_UNSHARE_RANGE"];

    /// <summary>Translate a scenario read from <paramref name="fileText"/> (the text of its file).</summary>
    public static GuestProgram Translate(Scenario s, string fileText)
    {
        var raw = RawSteps(s, fileText);
        var t = new Translation(s);
        var whole = WholeScenarioReason(s);
        var plans = new List<GuestStepPlan>();
        var setup = t.Setup();
        var body = new StringBuilder();
        string? taint = null;
        foreach (var step in s.Steps)
        {
            var (name, args) = raw[step.Index - 1];
            string? reason = whole;
            string? code = null;
            if (reason == null && taint != null) reason = taint;
            if (reason == null)
            {
                if (Harmless.TryGetValue(name, out var h)) reason = h;
                else
                {
                    code = t.Step(step.Index, name, args, out reason);
                    if (code == null && taint == null) taint = $"follows step {step.Index}, which cannot run ({reason})";
                }
            }
            plans.Add(new GuestStepPlan(step.Index, name, step.Step.Describe, code == null ? reason : null));
            if (code != null) body.Append(code);
        }
        var c = new StringBuilder(GuestPrelude.Text);
        c.Append("static void ks_steps(void)\n{\n");
        c.Append(setup);
        c.Append(body);
        c.Append("}\n");
        return new GuestProgram(s.Name, c.ToString(), InitScript(s), Platform(s), plans);
    }

    /// <summary>Why none of the scenario's steps can run, or null.</summary>
    internal static string? WholeScenarioReason(Scenario s)
    {
        var m = s.Machine;
        if (s.Actors.Count > 1) return "several actors: the guest program is one process";
        if (m.Virtiofs.Count > 0) return "virtio-fs with a DAX window: no virtiofsd in the guest setup";
        if (m.Pmem is { } p)
        {
            if (p.Namespaces.Count != 1) return "more than one namespace in a region: a label-less NVDIMM has exactly one";
            var ns = p.Namespaces[0];
            if (p.RegionSize != 0 && p.RegionSize != ns.Size) return "a namespace smaller than its region: a label-less NVDIMM's namespace fills it";
            if (ns.Mode is not (KernelSim.Drivers.Pmem.NamespaceMode.Raw or KernelSim.Drivers.Pmem.NamespaceMode.Fsdax)) return $"a {ns.Mode} namespace: the crosscheck sets up raw and fsdax only";
            if (ns.Size % (2UL << 20) != 0) return "a namespace size that is not a multiple of 2 MiB";
        }
        return null;
    }

    private static GuestPlatform Platform(Scenario s)
    {
        if (s.Machine.Pmem is not { } p) return new GuestPlatform(0, false, []);
        var mods = new List<string> { "libnvdimm", "nd_btt", "nd_pmem", p.E820 ? "nd_e820" : "nfit" };
        return new GuestPlatform(p.Namespaces[0].Size, p.E820, mods);
    }

    /// <summary>The busybox /init: pseudo file systems, modules, the namespace, mounts, then the program between markers.</summary>
    internal static string InitScript(Scenario s)
    {
        var m = s.Machine;
        var sb = new StringBuilder();
        sb.Append("#!/bin/busybox sh\n/bin/busybox --install -s /bin\n");
        sb.Append("mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev\n");
        sb.Append("fail() { echo \"@@KS setup-error $*\"; echo @@KS-END; poweroff -f; }\n");
        sb.Append("waitfor() { i=0; while [ ! -e \"$1\" ]; do i=$((i+1)); [ $i -gt 200 ] && fail \"$1 did not appear\"; sleep 0.05; done; }\n");
        sb.Append("[ -f /modules.sh ] && . /modules.sh\n");
        if (m.Pmem is { } p && WholeScenarioReason(s) == null)
        {
            sb.Append("waitfor /sys/bus/nd/devices/namespace0.0\nwaitfor /dev/pmem0\n");
            if (p.Namespaces[0].Mode == KernelSim.Drivers.Pmem.NamespaceMode.Fsdax)
            {
                // ndctl create-namespace -f -e namespace0.0 -m fsdax for a label-less namespace (ndctl/lib/libndctl.c):
                // disable the raw namespace, claim it with the region's seed pfn device, enable the pfn.
                sb.Append("""
                    d=/sys/bus/nd/devices; r=$d/region0
                    echo namespace0.0 > /sys/bus/nd/drivers/nd_pmem/unbind || fail unbind
                    pfn=$(cat $r/pfn_seed)
                    echo 2b4b2fde-6c3b-4c5e-9f2a-5d1c0e7a3b11 > $d/$pfn/uuid || fail uuid
                    echo pmem > $d/$pfn/mode || fail mode
                    echo 2097152 > $d/$pfn/align || fail align
                    echo namespace0.0 > $d/$pfn/namespace || fail namespace
                    echo $pfn > /sys/bus/nd/drivers/nd_pmem/bind || fail bind
                    waitfor /dev/pmem0

                    """.Replace("\r", "", StringComparison.Ordinal));
            }
        }
        foreach (var r in m.Ramfs.Where(r => r.WriteEnd == KernelSim.Fs.WriteEndPolicy.Simple))
            sb.Append(CultureInfo.InvariantCulture, $"mkdir -p {r.Mount} && mount -t ramfs ramfs {r.Mount} || fail ramfs\n");
        sb.Append(CultureInfo.InvariantCulture, $"echo {(m.EarlyKillSysctl ? 1 : 0)} > /proc/sys/vm/memory_failure_early_kill\n");
        sb.Append("echo @@KS-BEGIN\n/ks-guest\necho @@KS-END\npoweroff -f\n");
        return sb.ToString();
    }

    /// <summary>Each step's name and argument mapping, read again from the YAML (the parsed steps are closures).</summary>
    internal static List<(string Name, YamlMap Args)> RawSteps(Scenario s, string fileText)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(fileText));
        var docs = stream.Documents.Where(d => d.RootNode is not YamlScalarNode { Value: null or "" }).ToList();
        var doc = stream.Documents[s.Document - 1];
        _ = docs;
        var top = (YamlMappingNode)doc.RootNode;
        var steps = (YamlSequenceNode)top.Children[new YamlScalarNode("steps")];
        var list = new List<(string, YamlMap)>();
        foreach (var item in steps)
        {
            var m = (YamlMappingNode)item;
            var (k, v) = m.Children.First(e => ((YamlScalarNode)e.Key).Value is not ("expect" or "say" or "diagram"));
            var name = ((YamlScalarNode)k).Value!;
            YamlMappingNode args = v switch
            {
                YamlMappingNode mm => mm,
                YamlScalarNode { Value: not (null or "") } sc when StepRegistry.Default.ScalarKey(name) is { } key => new YamlMappingNode(new YamlScalarNode(key), sc),
                _ => new YamlMappingNode(),
            };
            list.Add((name, new YamlMap(s.File, args, $"step {list.Count + 1} ({name})")));
        }
        return list;
    }

    /// <summary>Per-scenario translation state: mapping and descriptor slots, and the actor's setup.</summary>
    private sealed class Translation(Scenario s)
    {
        private readonly Dictionary<string, int> _maps = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _fds = new(StringComparer.Ordinal);
        private readonly ActorSpec? _actor = s.Actors.Count == 1 ? s.Actors[0] : null;

        public string Setup()
        {
            var sb = new StringBuilder();
            sb.Append("    ks_step = 0;\n");
            var bus = _actor?.Signals.FirstOrDefault(x => x.Signo == KernelSim.Uapi.Sig.SIGBUS).Disposition ?? SignalDisposition.Default;
            var segv = _actor?.Signals.FirstOrDefault(x => x.Signo == KernelSim.Uapi.Sig.SIGSEGV).Disposition ?? SignalDisposition.Default;
            sb.Append(CultureInfo.InvariantCulture, $"    ks_sigaction(SIGBUS, {Disp(bus)});\n    ks_sigaction(SIGSEGV, {Disp(segv)});\n");
            if (_actor?.EarlyKill is { } early)
                sb.Append(CultureInfo.InvariantCulture, $"    if (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, {(early ? "PR_MCE_KILL_EARLY" : "PR_MCE_KILL_LATE")}, 0, 0)) printf(\"@@KS setup-error prctl %d\\n\", errno);\n");
            foreach (var map in _actor?.Mappings ?? [])
                sb.Append(Mapping(map, "    if ({0}) printf(\"@@KS setup-error mapping " + map.Name + " %ld\\n\", {1});\n"));
            return sb.ToString();
        }

        private static int Disp(SignalDisposition d) => d switch { SignalDisposition.Catch => 1, SignalDisposition.Ignore => 2, _ => 0 };

        /// <summary>mmap + fill of a mapping; <paramref name="onError"/> gets the condition and the value.</summary>
        private string Mapping(MappingSpec map, string onError)
        {
            var slot = Slot(map.Name);
            var prot = ProtC(map.Prot);
            string call;
            if (map.Shm != null)
                call = $"ks_shm({slot}, \"{map.Name}\", {map.Size}UL, {prot}, {(map.Populate ? 1 : 0)})";
            else
                call = $"ks_map({slot}, \"{map.Name}\", {map.Size}UL, {prot}, {(map.Shared ? "MAP_SHARED" : "MAP_PRIVATE")} | MAP_ANONYMOUS{(map.Populate ? " | MAP_POPULATE" : "")}, -1, 0)";
            var sb = new StringBuilder();
            sb.Append(CultureInfo.InvariantCulture, $"    {{ long r = {call};\n");
            sb.Append("    " + string.Format(CultureInfo.InvariantCulture, onError, "r < 0", "r"));
            if (map.Fill.Kind != FillKind.None) sb.Append(CultureInfo.InvariantCulture, $"    else ks_fillmap({slot}, {FillArgs(map.Fill)});\n");
            sb.Append("    }\n");
            return sb.ToString();
        }

        private int Slot(string name)
        {
            if (!_maps.TryGetValue(name, out var i)) _maps[name] = i = _maps.Count;
            return i;
        }

        public string? Step(int index, string name, YamlMap a, out string? reason)
        {
            reason = null;
            if (Unsupported.TryGetValue(name, out var why))
            {
                reason = why;
                return null;
            }
            string? call = null;
            try
            {
                call = Call(name, a);
            }
            catch (CannotRun e)
            {
                reason = e.Message;
                return null;
            }
            if (call == null)
            {
                reason = $"the crosscheck has no translation for '{name}'";
                return null;
            }
            return $"    ks_begin({index});\n{call}";
        }

        private string? Call(string name, YamlMap a)
        {
            switch (name)
            {
                case "open":
                {
                    var path = Path(a.RequireStr("path"));
                    var flags = Flags(a.Str("flags") ?? "O_RDWR", OpenFlags);
                    var mode = a.Long("mode") ?? 0x1a4;
                    var slot = a.Str("as") is { } asName ? FdSlot(asName, create: true) : -1;
                    var store = slot >= 0 ? $" if (r >= 0) ks_fds[{slot}] = (int)r;" : "";
                    return $"    {{ long r = ks_sys(open(\"{path}\", {flags}, 0{Convert.ToString(mode, 8)}));{store} ks_ret(r); }}\n";
                }
                case "close":
                    return $"    ks_ret(ks_sys(close({Fd(a)})));\n";
                case "read" or "write":
                    return $"    ks_ret(ks_sys({name}({Fd(a)}, {Addr(a.RequireStr("buf"))}, {Num(a, "len")})));\n";
                case "pread" or "pwrite":
                    return $"    ks_ret(ks_sys({name}({Fd(a)}, {Addr(a.RequireStr("buf"))}, {Num(a, "len")}, {Num(a, "pos")})));\n";
                case "readv" or "writev" or "preadv" or "pwritev":
                {
                    var iov = a.List("iov") ?? [];
                    var parts = iov.Select(n =>
                    {
                        var m = YamlMap.Of(a.File, n, "iov");
                        return $"{{{Addr(m.RequireStr("at"))}, {Num(m, "len")}}}";
                    }).ToList();
                    var vec = a.Str("vec") is { } v ? $"struct iovec *vp = {Addr(v)}; memcpy(vp, vs, sizeof vs);" : "struct iovec *vp = vs;";
                    var pos = name.StartsWith('p') ? $", {Num(a, "pos")}" : "";
                    return $"    {{ struct iovec vs[] = {{{string.Join(", ", parts)}}}; {vec} ks_ret(ks_sys({name}({Fd(a)}, vp, {parts.Count}{pos}))); }}\n";
                }
                case "fallocate":
                    return $"    ks_ret(ks_sys(fallocate({Fd(a)}, {Flags(a.Str("mode") ?? "0", FallocFlags)}, {Num(a, "offset")}, {Num(a, "len")})));\n";
                case "ftruncate":
                    return $"    ks_ret(ks_sys(ftruncate({Fd(a)}, {Num(a, "size")})));\n";
                case "fsync":
                    return $"    ks_ret(ks_sys(fsync({Fd(a)})));\n";
                case "mmap":
                {
                    var spec = MmSteps.ParseMapping(a, Symbols(), "guest");
                    return Mapping(spec, "ks_ret({0} ? {1} : 0);\n").Replace("ks_ret(r < 0 ? r : 0);\n    else", "ks_ret(r < 0 ? r : 0);\n    if (r == 0)", StringComparison.Ordinal);
                }
                case "mmap-file":
                {
                    var mapName = a.RequireStr("name");
                    var slot = Slot(mapName);
                    var flags = (a.Str("flags") ?? "shared") switch
                    {
                        "shared" => "MAP_SHARED",
                        "private" => "MAP_PRIVATE",
                        var f => Flags(f, MmapFlags),
                    };
                    return $"    ks_ret(ks_map({slot}, \"{mapName}\", {Num(a, "len")}, {Prot(a.Str("prot") ?? "rw")}, {flags}, {Fd(a)}, {a.Long("offset") ?? 0}));\n";
                }
                case "munmap":
                    return $"    ks_ret(ks_sys(munmap({Addr(a.RequireStr("at"))}, {Num(a, "len")})));\n";
                case "mprotect":
                    return $"    ks_ret(ks_sys(mprotect({Addr(a.RequireStr("at"))}, {Num(a, "len")}, {Prot(a.RequireStr("prot"))})));\n";
                case "madvise":
                {
                    var adv = a.RequireStr("advice");
                    if (!Name().IsMatch(adv) || !adv.StartsWith("MADV_", StringComparison.Ordinal)) throw new CannotRun($"advice '{adv}'");
                    return $"    ks_ret(ks_sys(madvise({Addr(a.RequireStr("at"))}, {Num(a, "len")}, {adv})));\n";
                }
                case "prctl":
                {
                    var args = new[] { "option", "arg2", "arg3", "arg4", "arg5" }.Select(k => a.Str(k) is { } v ? PrctlArg(v) : "0");
                    return $"    ks_ret(ks_sys(prctl({string.Join(", ", args)})));\n";
                }
                case "sigaction":
                {
                    var sig = a.RequireStr("signal");
                    if (sig is not ("SIGBUS" or "SIGSEGV")) throw new CannotRun($"signal {sig}: the guest handles SIGBUS and SIGSEGV");
                    var disp = a.RequireStr("action") switch { "catch" => 1, "ignore" => 2, _ => 0 };
                    return $"    ks_sigaction({sig}, {disp}); ks_ret(0);\n";
                }
                case "load" or "store":
                {
                    var len = a.Size("len") ?? 1;
                    var fill = FillPattern.TryParse(a.Str("fill") ?? "0")!;
                    return $"    ks_ret(ks_access({Addr(a.RequireStr("at"))}, {len}UL, {(name == "store" ? 1 : 0)}, {FillArgs(fill)}));\n";
                }
                case "badblocks":
                {
                    var dev = a.Str("device") ?? "pmem0";
                    if (!Regex.IsMatch(dev, "^pmem[0-9]+$")) throw new CannotRun($"device {dev}");
                    var file = $"/sys/block/{dev}/badblocks";
                    if (a.Str("store") is { } st)
                    {
                        if (!Regex.IsMatch(st, "^[0-9 ]+$")) throw new CannotRun($"badblocks text '{st}'");
                        return $"    ks_ret(ks_sysfs_write(\"{file}\", \"{st}\"));\n";
                    }
                    return $"    ks_ret(ks_sysfs_lines(\"{file}\"));\n";
                }
                default:
                    return null;
            }
        }

        private ParseSymbols Symbols()
        {
            var sym = new ParseSymbols();
            sym.AddActor("guest");
            return sym;
        }

        private string Path(string path)
        {
            if (!Regex.IsMatch(path, "^/[A-Za-z0-9_./-]*$")) throw new CannotRun($"path {path}");
            foreach (var f in s.Machine.Filesystems)
                if (Under(path, f.Mount)) throw new CannotRun("a daxfs mount: no Linux twin in the guest setup (ext4 -o dax needs mkfs.ext4 in the initramfs)");
            foreach (var r in s.Machine.Ramfs)
                if (r.WriteEnd != KernelSim.Fs.WriteEndPolicy.Simple && Under(path, r.Mount)) throw new CannotRun("a ramfs with block_write_end (ext2-like): real ramfs uses simple_write_end");
            return path;
        }

        private static bool Under(string path, string mount) => path == mount || path.StartsWith(mount.TrimEnd('/') + "/", StringComparison.Ordinal);

        private int FdSlot(string name, bool create)
        {
            if (_fds.TryGetValue(name, out var i)) return i;
            if (!create) throw new CannotRun($"descriptor {name} was never opened in the guest");
            return _fds[name] = _fds.Count;
        }

        private string Fd(YamlMap a) => $"ks_fds[{FdSlot(a.RequireStr("fd"), create: false)}]";

        private string Addr(string text)
        {
            var e = AddrExpr.TryParse(text, out _) ?? throw new CannotRun($"address {text}");
            if (e.Actor != null && e.Actor != _actor?.Name) throw new CannotRun($"another actor's address {text}");
            if (e.Name == null) throw new CannotRun($"an absolute address {text}: the guest's layout differs");
            if (!_maps.TryGetValue(e.Name, out var slot)) throw new CannotRun($"{e.Name} is not a user mapping of the guest (a kernel buffer?)");
            return $"KS_AT({slot}, {e.Offset}L)";
        }

        private static string Num(YamlMap a, string key) => (a.Size(key) ?? 0).ToString(CultureInfo.InvariantCulture) + "UL";

        private static string FillArgs(FillPattern f) => f.Kind switch
        {
            FillKind.Byte => $"1, {f.A}UL, 0UL",
            FillKind.Linear => $"2, {f.A}UL, {f.B}UL",
            FillKind.Xor => $"3, {f.A}UL, 0UL",
            _ => "1, 0UL, 0UL",
        };

        private static string ProtC(int prot)
        {
            if (prot == 0) return "PROT_NONE";
            var parts = new List<string>();
            if ((prot & 1) != 0) parts.Add("PROT_READ");
            if ((prot & 2) != 0) parts.Add("PROT_WRITE");
            if ((prot & 4) != 0) parts.Add("PROT_EXEC");
            return string.Join(" | ", parts);
        }

        private static string Prot(string text) => text switch
        {
            "r" => "PROT_READ",
            "rw" => "PROT_READ | PROT_WRITE",
            "rwx" => "PROT_READ | PROT_WRITE | PROT_EXEC",
            "none" => "PROT_NONE",
            _ => Flags(text, ProtFlags),
        };

        /// <summary>"O_RDWR|O_CREAT" as C, each name checked against the known set (nothing else reaches the compiler).</summary>
        private static string Flags(string text, HashSet<string> known)
        {
            var parts = text.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (var p in parts)
                if (!known.Contains(p) && !YamlValues.TryParseUnsigned(p, out _)) throw new CannotRun($"flag {p}");
            return parts.Length == 0 ? "0" : string.Join(" | ", parts);
        }

        private static string PrctlArg(string v) =>
            YamlValues.TryParseUnsigned(v, out var n) ? n.ToString(CultureInfo.InvariantCulture) + "UL"
            : Name().IsMatch(v) && v.StartsWith("PR_", StringComparison.Ordinal) ? v : throw new CannotRun($"prctl argument {v}");
    }

    /// <summary>Thrown inside the translation of one step: it cannot run, and why.</summary>
    private sealed class CannotRun(string why) : Exception(why);

    [GeneratedRegex("^[A-Z][A-Z0-9_]*$")]
    private static partial Regex Name();
}
