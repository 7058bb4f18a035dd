using KernelSim.Cli.Rendering;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Cli.Demo;

/// <summary>
/// The default walkthrough: a machine-check-safe copy told step by step on a simulated machine. Every
/// number printed is read back from the simulator (return values, the MCE log, siginfo, page state);
/// nothing here is a hard-coded result, so the story changes with --kernel and --cpu.
/// </summary>
internal sealed class DemoWalkthrough(DemoOptions options, Terminal term)
{
    /// <summary>Size of the source buffer and of the copy.</summary>
    public const ulong CopyLen = 8192;

    /// <summary>Where the poisoned line sits in the source buffer (a 64-byte line boundary).</summary>
    public const ulong PoisonOffset = 4992;

    /// <summary>Offset of the poisoned byte in the user-mode step (inside the second page).</summary>
    public const ulong UserPoisonOffset = 0x1234;

    private readonly Dictionary<Machine, int> _dmesgSeen = [];
    private int _step;

    /// <summary>Run the walkthrough; returns the process exit code (0).</summary>
    public int Run()
    {
        term.Heading($"KernelSim demo: a machine-check-safe copy (Linux {options.Kernel}, cpu {options.Cpu.Name})");
        term.Line("Every value below is computed by the simulator.");

        var m = Boot(options.Cpu);
        var (p, ubuf) = MapUserBuffer(m);
        var src = InjectIntoKernelBuffer(m);
        CopyMcToUser(m, p, ubuf, src);
        CopyWithoutRecovery();
        UserModeLoad(m);

        term.Line();
        term.Line("Done. Try --kernel 4.17, --cpu fragile or --cpu none to see other releases and CPUs, --trace text for the call graph.");
        return 0;
    }

    // ---- steps ---------------------------------------------------------------------------------

    private Machine Boot(CpuModel cpu)
    {
        Step("Boot");
        var m = NewMachine(cpu);
        term.Line($"    {m}");
        EndStep(m);
        return m;
    }

    private (Process P, UserPtr Buf) MapUserBuffer(Machine m)
    {
        Step("A process maps a buffer");
        var p = m.Spawn("reader");
        var buf = p.MapAnonymous(CopyLen);
        var fill = p.Fill(buf, CopyLen, _ => 0xff);
        term.Line($"    {Who(p)}: mmap({CopyLen}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) = {buf}");
        term.Line($"    {Who(p)}: stores 0xff to all {fill.Done} bytes (so untouched bytes stay visible)");
        EndStep(m);
        return (p, buf);
    }

    private KernelPtr InjectIntoKernelBuffer(Machine m)
    {
        Step("EINJ: poison in a kernel source buffer");
        var src = KernelPattern(m, CopyLen);
        var pa = m.KernelMap.Pa(src)!.Value;
        var line = pa + PoisonOffset;
        var r = m.InjectPoison(line);
        term.Line($"    kmalloc({CopyLen}) = {src} (DRAM, pa {pa}), filled with the pattern (i*7+1) & 0xff");
        term.Line($"    einj: error type 0x10 (memory uncorrectable non-fatal), notrigger, pa {line}: returned {r}");
        term.Line($"    poisoned line: source bytes {PoisonOffset}..{PoisonOffset + PageDefs.CACHELINE - 1}; nothing notices until a load consumes it");
        EndStep(m);
        return src;
    }

    private void CopyMcToUser(Machine m, Process p, UserPtr ubuf, KernelPtr src)
    {
        Step($"copy_mc_to_user: {CopyLen} bytes from the poisoned kernel buffer to {Who(p)}");
        var mcBefore = m.Mce.Log.Count;
        var r = m.Run(p, "kernel", () => m.Copy.CopyMcToUser(ubuf, src, CopyLen));
        if (r.Returned)
        {
            var copied = CopyLen - r.Value;
            term.Line($"    copy_mc_to_user returned {r.Value} (bytes not copied): {copied} copied");
            var got = p.Peek(ubuf, (int)CopyLen);
            var want = new byte[CopyLen];
            m.Phys.PeekBytes(m.KernelMap.Pa(src)!.Value, want);
            term.Line($"    user buffer [0, {copied}) equals the source: {YesNo(PrefixEquals(got, want, (int)copied))}; " +
                      $"[{copied}, {CopyLen}) untouched 0xff: {YesNo(AllEqual(got, (int)copied, 0xff))}");
        }
        else
        {
            term.Line($"    copy_mc_to_user did not return: {r.Outcome}");
        }
        McLog(m, mcBefore);
        term.Line($"    signals for {Who(p)}: {Signals(p)}; process {p.State.ToString().ToLowerInvariant()}; machine {Status(m)}");
        EndStep(m);
    }

    private void CopyWithoutRecovery()
    {
        Step("The same copy without recovery: copy_mc_to_kernel on a CPU with neither ERMS nor the fragile quirk");
        var m = NewMachine(CpuModel.Plain);
        term.Line($"    boot: {m}");
        var src = KernelPattern(m, CopyLen);
        var dst = m.Kmalloc(CopyLen)!.Value;
        var line = m.KernelMap.Pa(src)!.Value + PoisonOffset;
        m.InjectPoison(line);
        term.Line($"    poison at pa {line} ({PoisonOffset} bytes into the source), copy_mc_to_kernel({dst}, {src}, {CopyLen})");
        var mcBefore = m.Mce.Log.Count;
        var r = m.Run(() => m.Copy.CopyMcToKernel(dst, src, CopyLen));
        term.Line(r.Returned
            ? $"    copy_mc_to_kernel returned {r.Value} (bytes not copied)"
            : $"    copy_mc_to_kernel did not return: {r.Outcome}");
        McLog(m, mcBefore);
        term.Line($"    machine {Status(m)}");
        EndStep(m);
    }

    private void UserModeLoad(Machine previous)
    {
        Step("User space loads a poisoned line");
        var m = previous;
        if (!previous.State.Alive)
        {
            m = NewMachine(options.Cpu);
            term.Line($"    the first machine {Status(previous)}; booted a fresh one: {m}");
        }
        var p = m.Spawn("victim");
        var len = 4 * PageDefs.PAGE_SIZE;
        var buf = p.MapAnonymous(len);
        p.Fill(buf, len, i => (byte)i);
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var target = buf + UserPoisonOffset;
        var pfn = p.Mm.PfnAt(target.Value)!.Value;
        var pa = new PhysAddr((pfn << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(target.Value));
        m.InjectPoison(pa);
        term.Line($"    {Who(p)}: mmap({len}) = {buf}, filled, SIGBUS handler installed; poison at pa {pa} (line {new PhysAddr(pa.Value & ~(PageDefs.CACHELINE - 1))}) behind va {target}");
        Flush(m);

        var mcBefore = m.Mce.Log.Count;
        var first = p.LoadByte(target, out _);
        term.Line($"    first load at {target}: {Result(first)}");
        if (first.Signal is { } s1)
            term.Line($"      si_addr page-aligned: {YesNo((s1.Addr & (PageDefs.PAGE_SIZE - 1)) == 0)}; si_addr_lsb {s1.AddrLsb} = a {1UL << s1.AddrLsb}-byte page");
        McLog(m, mcBefore);
        term.Line($"      page after memory_failure: hwpoison entry in the page table: {YesNo(p.Mm.IsHwPoisonEntry(target.Value))}; " +
                  $"PG_hwpoison: {YesNo(m.Phys.Frame(pfn).IsHwPoison)}; out of the direct map: {YesNo(m.KernelMap.IsNospec(pfn))}");
        Flush(m);

        mcBefore = m.Mce.Log.Count;
        var second = p.LoadByte(target, out _);
        term.Line($"    second load at {target}: {Result(second)}");
        if (second.Signal is { } s2)
            term.Line($"      si_addr is the exact address: {YesNo(s2.Addr == target.Value)}; new machine checks: {m.Mce.Log.Count - mcBefore} (a #PF on the hwpoison entry)");
        term.Line($"    {Who(p)} is {p.State.ToString().ToLowerInvariant()}; machine {Status(m)}");
        EndStep(m);
    }

    // ---- helpers -------------------------------------------------------------------------------

    private Machine NewMachine(CpuModel cpu)
    {
        var m = new MachineBuilder().WithKernel(options.Kernel).WithCpu(cpu).WithTrace(options.Trace).Build();
        _dmesgSeen[m] = 0;
        return m;
    }

    private static KernelPtr KernelPattern(Machine m, ulong len)
    {
        var p = m.Kmalloc(len) ?? throw new InvalidOperationException("kmalloc failed on a fresh machine");
        var data = new byte[len];
        for (ulong i = 0; i < len; i++) data[i] = (byte)(i * 7 + 1);
        m.Phys.PokeBytes(m.KernelMap.Pa(p)!.Value, data);
        return p;
    }

    private void Step(string title)
    {
        term.Line();
        term.Heading($"[{++_step}] {title}");
    }

    /// <summary>New dmesg lines, then (with --trace text) the trace of the step; both are reset for the next step.</summary>
    private void EndStep(Machine m)
    {
        Flush(m);
        if (!options.Trace) return;
        var text = m.TraceText();
        m.Tracer.Clear();
        if (text.Length == 0) return;
        term.Line("    ftrace (function_graph):");
        term.Block(text, "    ");
    }

    private void Flush(Machine m)
    {
        var log = m.State.Dmesg;
        var seen = _dmesgSeen.GetValueOrDefault(m);
        for (; seen < log.Count; seen++) term.Line($"    dmesg: {log[seen]}");
        _dmesgSeen[m] = seen;
    }

    private void McLog(Machine m, int before)
    {
        var log = m.Mce.Log;
        if (log.Count == before) term.Line("    machine checks: none");
        for (var i = before; i < log.Count; i++)
        {
            var r = log[i];
            term.Line($"    machine check #{r.Seq}: pa {r.Addr} lsb {r.AddrLsb}, context {r.Context}, severity {r.Severity} ({r.Message})");
        }
    }

    private static string Who(Process p) => $"{p.Comm}[{p.Pid}]";

    private static string Status(Machine m) => m.State.Status.ToString().ToLowerInvariant();

    private static string YesNo(bool b) => b ? "yes" : "no";

    private static string Signals(Process p)
    {
        var parts = new List<string>();
        foreach (var s in p.AllSignals) parts.Add(s.ToString());
        foreach (var s in p.SignalsPending) parts.Add(s + " (pending)");
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    private static string Result(UserAccessResult r)
    {
        if (r.Outcome != null) return r.Outcome;
        return r.Signal is { } s ? s.ToString() : $"{r.Done} byte(s) loaded, no signal";
    }

    private static bool PrefixEquals(byte?[] got, byte[] want, int n)
    {
        for (var i = 0; i < n; i++) if (got[i] != want[i]) return false;
        return true;
    }

    private static bool AllEqual(byte?[] got, int from, byte value)
    {
        for (var i = from; i < got.Length; i++) if (got[i] != value) return false;
        return true;
    }
}
