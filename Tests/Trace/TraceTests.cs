using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Trace;

/// <summary>The tracer: function_graph text, events, determinism, and nothing recorded when off.</summary>
public class TraceTests
{
    private static string RunScenario()
    {
        var m = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.Fragile).WithTrace().Build();
        var p = m.Spawn("reader");
        var u = p.MapAnonymous(8192);
        var src = Sim.KernelBuffer(m, 8192);
        m.InjectPoison(Sim.Pa(m, src) + 4992);
        m.Run(p, "sys_pread64", () => m.Copy.CopyMcToUser(u, src, 8192));
        return m.TraceText();
    }

    [Test]
    public void CopyMcToUser_Fragile_TraceShowsFramesTrapAndFixup()
    {
        var text = RunScenario();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[" 0)               |  ".Length..]).ToArray();
        Assert.That(lines, Does.Contain("sys_pread64() {"));
        Assert.That(lines, Does.Contain("  copy_mc_to_user() {"));
        Assert.That(lines, Does.Contain("    copy_mc_fragile() {"));
        Assert.That(lines.Any(l => l.StartsWith("      /* #MC: pa ") && l.Contains("kernel at CopyMcFragileLoad ctx=IN_KERNEL_RECOV kflags=MCE_IN_KERNEL_RECOV sev=AR")), Is.True, text);
        Assert.That(lines, Does.Contain("      /* fixup: CopyMcFragileLoad → EX_TYPE_DEFAULT_MCE_SAFE (trap 18) */"));
        Assert.That(lines[^1], Is.EqualTo("}"));
        Assert.That(text.Split('\n')[0], Does.StartWith(" 0)               |  "));
    }

    [Test]
    public void SameScenarioTwice_TraceIsIdenticalByteForByte()
    {
        var first = RunScenario();
        var second = RunScenario();
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void TracingOff_RecordsNothing()
    {
        var m = Sim.Boot();
        var src = Sim.KernelBuffer(m, 4096);
        var dst = Sim.KernelFilled(m, 4096);
        m.Run(() => m.Copy.CopyMcToKernel(dst, src, 4096));
        Assert.That(m.Tracer.Records, Is.Empty);
        Assert.That(m.TraceText(), Is.Empty);
    }

    [Test]
    public void LeafFunctionPrintsAsSingleLine()
    {
        var m = Sim.Boot(trace: true);
        var p = m.Spawn();
        p.Prctl(Mman.PR_MCE_KILL_GET);
        Assert.That(m.TraceText(), Is.EqualTo(" 0)               |  sys_prctl();\n"));
    }
}
