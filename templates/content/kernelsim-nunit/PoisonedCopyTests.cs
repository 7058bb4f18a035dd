using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Profiles;

namespace KernelSimTests;

/// <summary>A scenario in C#: boot a machine, inject poison, copy, and pin what the kernel returned.</summary>
public class PoisonedCopyTests
{
    [Test]
    public void CopyMcToUser_StopsAtThePoisonedLine_AndLeavesTheTailUntouched()
    {
        // Linux 6.12 on an ERMS CPU: copy_mc_to_user is copy_mc_enhanced_fast_string (rep movsb).
        var m = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString).Build();
        var p = m.Spawn("reader");
        var buf = p.MapAnonymous(8192);
        Assert.That(p.Fill(buf, 8192, _ => 0xff).Completed(8192), Is.True);

        // A kernel buffer with a known pattern; ACPI EINJ poisons the 64-byte line 4992 bytes in.
        var src = m.Kmalloc(8192)!.Value;
        var srcPa = m.KernelMap.Pa(src)!.Value;
        var pattern = new byte[8192];
        for (var i = 0; i < pattern.Length; i++) pattern[i] = (byte)(i * 7 + 1);
        m.Phys.PokeBytes(srcPa, pattern);
        Assert.That(m.InjectPoison(srcPa + 4992), Is.Zero);

        var r = m.Run(p, "kernel", () => m.Copy.CopyMcToUser(buf, src, 8192));

        Assert.That(r.Returned, Is.True);
        Assert.That(r.Value, Is.EqualTo(3200UL), "bytes not copied: 8192 - 4992");
        var got = p.Peek(buf, 8192);
        Assert.That(got[..4992], Is.EqualTo(pattern[..4992].Select(b => (byte?)b)), "the copied prefix");
        Assert.That(got[4992..], Is.All.EqualTo((byte?)0xff), "the tail is untouched");
        Assert.That(m.Mce.Log.Single().Context, Is.EqualTo(McContext.IN_KERNEL_RECOV));
        Assert.That(p.AllSignals, Is.Empty, "a machine check on a kernel source sends no signal");
        Assert.That(m.State.Alive, Is.True);
    }
}
