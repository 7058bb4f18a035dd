using System.Buffers.Binary;
using System.Globalization;
using KernelSim.Fs;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Uapi;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// Page-state steps as the mm selftests' vm_util.c does them, each through the actor's system calls: one pagemap
/// entry (/proc/self/pagemap, pagemap_get_entry), one kpageflags word (/proc/kpageflags, pageflags_get), the debugfs
/// hwpoison files (unpoison_memory, corrupt-pfn), and mount -t hugetlbfs.
/// </summary>
internal static class PageSteps
{
    /// <summary>Pagemap bits (Documentation/admin-guide/mm/pagemap.rst; user space defines them itself, as vm_util.h does).</summary>
    public const int PM_SOFT_DIRTY = 55, PM_MMAP_EXCLUSIVE = 56, PM_FILE = 61, PM_SWAP = 62, PM_PRESENT = 63;

    /// <summary>Bits 0–54: the PFN of a present page; of a swap entry, bits 0–4 the type and 5–54 the offset.</summary>
    public const ulong PM_PFRAME_MASK = (1UL << 55) - 1;

    public static void Register(StepRegistry r)
    {
        r.Register("pagemap", "read the actor's /proc/self/pagemap entry of a page, decoded (at, as: name the PFN of a present page)", ParsePagemap);
        r.Register("kpageflags", "read /proc/kpageflags for a pfn, decoded (pfn: a number or a name from pagemap's as:)", ParseKpageflags);
        r.Register("unpoison-pfn", "write a pfn to /sys/kernel/debug/hwpoison/unpoison-pfn (pfn); the result is the write's", ParseUnpoison);
        r.Register("corrupt-pfn", "write a pfn to /sys/kernel/debug/hwpoison/corrupt-pfn (pfn): memory_failure(pfn, MF_SW_SIMULATED)", ParseCorrupt);
        r.Register("mount-hugetlbfs", "mount -t hugetlbfs none at a path (mount); its files take huge pages from vm.nr_hugepages", "mount", ParseMountHugetlbfs);
    }

    private static IScenarioStep ParsePagemap(StepParseContext c)
    {
        var actor = c.Actor()!;
        var at = c.UserAddr("at", actor);
        string? name = null;
        if (c.Args.Get("as") is { } asNode)
        {
            name = YamlValues.Scalar(c.File, asNode, $"{c.Args.What}.as");
            if (!AddrExpr.IsName(name)) throw c.Args.Error(asNode, $"{c.Args.What}.as: '{name}' is not a name");
        }
        c.Args.Done();
        if (name != null) c.Symbols.Pfns.Add(name);
        return new CallStep(actor, $"{actor}: pread(/proc/self/pagemap, 8, {at} / 4096 * 8){(name != null ? $" as {name}" : "")}", (run, p) =>
        {
            var loc = run.Resolve(at, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            Span<byte> b = stackalloc byte[8];
            var r = p.ReadAt("/proc/self/pagemap", (long)(loc.Addr >> 12) * 8, b);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r != 8) return StepResult.Returned(r);
            var e = BinaryPrimitives.ReadUInt64LittleEndian(b);
            if (name != null)
            {
                if (Bit(e, PM_PRESENT)) run.Pfns[name] = e & PM_PFRAME_MASK;
                else run.Pfns.Remove(name);
            }
            return new StepResult(r, null, null, $"= 8: 0x{e:x16} ({DescribePagemap(e)})") { Word = e };
        });
    }

    private static bool Bit(ulong v, int bit) => (v & (1UL << bit)) != 0;

    /// <summary>"present pfn 0x1234 exclusive soft-dirty", "swap type 27 offset 0x1234 file", "none".</summary>
    public static string DescribePagemap(ulong e)
    {
        var parts = new List<string>();
        if (Bit(e, PM_PRESENT)) parts.Add($"present pfn 0x{e & PM_PFRAME_MASK:x}");
        if (Bit(e, PM_SWAP)) parts.Add($"swap type {e & 31} offset 0x{(e & PM_PFRAME_MASK) >> 5:x}");
        if (Bit(e, PM_FILE)) parts.Add("file");
        if (Bit(e, PM_MMAP_EXCLUSIVE)) parts.Add("exclusive");
        if (Bit(e, PM_SOFT_DIRTY)) parts.Add("soft-dirty");
        return parts.Count == 0 ? "none" : string.Join(" ", parts);
    }

    /// <summary>A pfn argument: a number, or a name recorded by a pagemap step; resolved at run time.</summary>
    public static Func<ScenarioRun, (ulong Pfn, string? Error)> Pfn(StepParseContext c, YamlNode node, string what, out string text)
    {
        text = YamlValues.Scalar(c.File, node, what);
        if (YamlValues.TryParseLong(text, out var v) && v >= 0) return _ => ((ulong)v, null);
        var name = text;
        if (!c.Symbols.Pfns.Contains(name))
            throw c.Args.Error(node, $"{what}: '{name}' is not a number or a pfn recorded by a pagemap step (pagemap: {{at: …, as: {name}}})");
        return run => run.Pfns.TryGetValue(name, out var pfn) ? (pfn, null) : (0, $"pfn '{name}' was not recorded (its pagemap step found no present page)");
    }

    private static IScenarioStep ParseKpageflags(StepParseContext c)
    {
        var actor = c.Actor()!;
        var pfn = Pfn(c, c.Args.Require("pfn"), $"{c.Args.What}.pfn", out var text);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: pread(/proc/kpageflags, 8, {text} * 8)", (run, p) =>
        {
            var (v, err) = pfn(run);
            if (err != null) return StepResult.Error(err);
            Span<byte> b = stackalloc byte[8];
            var r = p.ReadAt("/proc/kpageflags", (long)v * 8, b);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r != 8) return StepResult.Returned(r);
            var f = BinaryPrimitives.ReadUInt64LittleEndian(b);
            return new StepResult(r, null, null, $"= 8: pfn 0x{v:x} flags 0x{f:x} ({DescribeKpf(f)})") { Word = f };
        });
    }

    /// <summary>The kpageflags names the expectation knows, with their bits (include/uapi/linux/kernel-page-flags.h).</summary>
    public static readonly (string Name, int Bit)[] KpfNames =
    [
        ("uptodate", Kpf.KPF_UPTODATE), ("dirty", Kpf.KPF_DIRTY), ("mmap", Kpf.KPF_MMAP), ("anon", Kpf.KPF_ANON),
        ("swapbacked", Kpf.KPF_SWAPBACKED), ("compound-head", Kpf.KPF_COMPOUND_HEAD), ("compound-tail", Kpf.KPF_COMPOUND_TAIL),
        ("huge", Kpf.KPF_HUGE), ("hwpoison", Kpf.KPF_HWPOISON), ("nopage", Kpf.KPF_NOPAGE), ("reserved", Kpf.KPF_RESERVED),
    ];

    /// <summary>"UPTODATE|MMAP|ANON", or "none".</summary>
    public static string DescribeKpf(ulong f)
    {
        var set = KpfNames.Where(k => Bit(f, k.Bit)).Select(k => k.Name.ToUpperInvariant().Replace('-', '_')).ToList();
        return set.Count == 0 ? "none" : string.Join("|", set);
    }

    private static IScenarioStep ParseUnpoison(StepParseContext c) => DebugfsWrite(c, "unpoison-pfn");

    private static IScenarioStep ParseCorrupt(StepParseContext c) => DebugfsWrite(c, "corrupt-pfn");

    /// <summary>vm_util.c unpoison_memory: the pfn in decimal, one write(2) to /sys/kernel/debug/hwpoison/FILE.</summary>
    private static IScenarioStep DebugfsWrite(StepParseContext c, string file)
    {
        var actor = c.Actor()!;
        var pfn = Pfn(c, c.Args.Require("pfn"), $"{c.Args.What}.pfn", out var text);
        c.Args.Done();
        var path = "/sys/kernel/debug/hwpoison/" + file;
        return new CallStep(actor, $"{actor}: echo -n {text} > {path}", (run, p) =>
        {
            var (v, err) = pfn(run);
            if (err != null) return StepResult.Error(err);
            var r = p.WriteText(path, v.ToString(CultureInfo.InvariantCulture));
            return r == Machine.NoReturn ? StepResult.NoReturn(run.OutcomeOf(p)) : StepResult.Returned(r) with { Text = $"= {Errno.Describe(r)} (pfn 0x{v:x})" };
        });
    }

    private static IScenarioStep ParseMountHugetlbfs(StepParseContext c)
    {
        var mount = c.Args.RequireStr("mount");
        if (!mount.StartsWith('/')) throw c.Args.Error(c.Args.Node, $"{c.Args.What}.mount: '{mount}' is not an absolute path");
        c.Args.Done();
        return new MachineStep($"mount -t hugetlbfs none {mount}", run =>
        {
            if (run.Machine.Vfs.Mounts.Any(m => m.MountPoint == mount.TrimEnd('/'))) return StepResult.Error($"{mount} is already a mount point");
            HugetlbFs.Mount(run.Machine, mount);
            return StepResult.Returned(0);
        });
    }
}
