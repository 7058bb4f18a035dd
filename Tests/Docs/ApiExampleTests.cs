using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Tests.Docs;

/// <summary>The scenario test shown in docs/api.md (the doc quotes this file verbatim).</summary>
public class ApiExampleTests
{
    [Test]
    public void CopyMcToUser_PoisonedKernelSource_ShortCopy_ThenUserLoadGetsSigbus()
    {
        // Boot Linux 6.12 on a CPU with ERMS (copy_mc_enhanced_fast_string), tracing on.
        var m = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString).WithTrace().Build();

        // A process maps two pages and fills them with 0xff from user mode.
        var p = m.Spawn("reader");
        var buf = p.MapAnonymous(8192);
        Assert.That(p.Fill(buf, 8192, _ => 0xff).Completed(8192), Is.True);

        // A kernel buffer with a known pattern; EINJ poisons the 64-byte line 4992 bytes in.
        var src = m.Kmalloc(8192)!.Value;
        var srcPa = m.KernelMap.Pa(src)!.Value;
        var pattern = new byte[8192];
        for (var i = 0; i < pattern.Length; i++) pattern[i] = (byte)(i * 7 + 1);
        m.Phys.PokeBytes(srcPa, pattern);
        Assert.That(m.InjectPoison(srcPa + 4992), Is.Zero);

        // Kernel code runs inside machine.Run, here in the process's context.
        var r = m.Run(p, "kernel", () => m.Copy.CopyMcToUser(buf, src, 8192));

        Assert.That(r.Returned, Is.True);
        Assert.That(r.Value, Is.EqualTo(3200UL), "bytes not copied: the copy stopped at the poisoned line");
        var got = p.Peek(buf, 8192);
        Assert.That(got[..4992], Is.EqualTo(pattern[..4992].Select(b => (byte?)b)), "copied prefix");
        Assert.That(got[4992..], Is.All.EqualTo((byte?)0xff), "untouched tail");
        Assert.That(m.Mce.Log.Single().Context, Is.EqualTo(McContext.IN_KERNEL_RECOV));
        Assert.That(p.AllSignals, Is.Empty, "a kernel-source #MC sends no signal");
        Assert.That(m.State.Alive, Is.True);
        Assert.That(m.TraceText(), Does.Contain("copy_mc_enhanced_fast_string() {"));

        // User mode consumes poison: SIGBUS BUS_MCEERR_AR, page-aligned address, lsb 12 ...
        var victim = m.Spawn("victim");
        var page = victim.MapAnonymous(4096);
        Assert.That(victim.Fill(page, 4096, i => (byte)i).Completed(4096), Is.True);
        victim.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var pfn = victim.Mm.PfnAt(page.Value)!.Value;
        m.InjectPoison(PhysAddr.FromPfn(pfn) + 0x100);

        var first = victim.LoadByte(page + 0x100UL, out _);
        Assert.That(first.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, page.Value, 12, Forced: true)));

        // ... and a second touch faults on the hwpoison entry: the exact address.
        var second = victim.LoadByte(page + 0x100UL, out _);
        Assert.That(second.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, page.Value + 0x100, 12, Forced: true)));
        Assert.That(victim.Alive, Is.True, "the handler caught both signals");
    }
}
