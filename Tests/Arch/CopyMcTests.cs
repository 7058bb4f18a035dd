using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Arch;

/// <summary>
/// copy_mc_to_kernel / copy_mc_to_user residue rules, after tools/testing/nvdimm/test/nfit.c copy_mc_test():
/// poison at buf[1024], copy 512 bytes from buf[1024 − i], expect 512 − i remaining and the destination
/// past the copied prefix untouched (0xff).
/// </summary>
public class CopyMcTests
{
    private static readonly int[] Offsets = [0, 1, 7, 8, 63, 64, 65, 200, 256, 511];

    [TestCase("erms", "6.12")]
    [TestCase("fragile", "6.12")]
    [TestCase("fragile", "5.4")]
    [TestCase("erms", "5.10")]
    public void CopyMcToKernel_SourceStartsIBytesBeforePoison_ReturnsRemaining512MinusI(string cpu, string kernel)
    {
        CpuModel.TryGet(cpu, out var model);
        foreach (var i in Offsets)
        {
            var m = Sim.Boot(kernel, model);
            var buf = Sim.KernelBuffer(m, 2048);
            var dst = Sim.KernelFilled(m, 512);
            m.InjectPoison(Sim.Pa(m, buf) + 1024);
            var r = m.Run(() => m.Copy.CopyMcToKernel(dst, buf + (ulong)(1024 - i), 512));
            Assert.That(r.Returned, Is.True, $"i={i}");
            Assert.That(r.Value, Is.EqualTo((ulong)(512 - i)), $"i={i}");
            var got = Sim.ReadKernel(m, dst, 512);
            var src = Sim.ReadKernel(m, buf + (ulong)(1024 - i), i);
            Assert.That(got[..i], Is.EqualTo(src), $"copied prefix, i={i}");
            Assert.That(got[i..], Is.All.EqualTo((byte)0xff), $"untouched tail, i={i}");
            Assert.That(m.State.Alive, Is.True);
            Assert.That(m.Mce.Log, Has.Count.EqualTo(i == 512 ? 0 : 1));
            Assert.That(m.Mce.Log[0].Context, Is.EqualTo(KernelSim.Arch.X86.McContext.IN_KERNEL_RECOV));
        }
    }

    [Test]
    public void CopyMcToKernel_PlainCpu_IsMemcpyAndPanics()
    {
        var m = Sim.Boot("6.12", CpuModel.Plain);
        var buf = Sim.KernelBuffer(m, 2048);
        var dst = Sim.KernelFilled(m, 512);
        m.InjectPoison(Sim.Pa(m, buf) + 1024);
        var r = m.Run(() => m.Copy.CopyMcToKernel(dst, buf + 1000UL, 512));
        Assert.That(r.Returned, Is.False);
        Assert.That(r.Outcome, Does.StartWith("panic: Fatal local machine check"));
        Assert.That(m.State.Status, Is.EqualTo(MachineStatus.Panicked));
    }

    [TestCaseSource(typeof(Sim), nameof(Sim.Cpus))]
    public void Memcpy_OverPoisonInKernelContext_Panics(CpuModel cpu)
    {
        var m = Sim.Boot("6.12", cpu);
        var buf = Sim.KernelBuffer(m, 4096);
        var dst = Sim.KernelFilled(m, 4096);
        m.InjectPoison(Sim.Pa(m, buf) + 300);
        var r = m.Run(() => { m.Copy.Memcpy(dst, buf, 4096); return 0; });
        Assert.That(r.Outcome, Is.EqualTo("panic: Fatal local machine check: Data load in unrecoverable area of kernel"));
        Assert.That(m.State.Dmesg, Has.Some.EqualTo("Kernel panic - not syncing: Fatal local machine check: Data load in unrecoverable area of kernel"));
        // A dead machine runs nothing more.
        Assert.That(m.Run(() => 1).Returned, Is.False);
    }

    [TestCaseSource(typeof(Sim), nameof(Sim.Cpus))]
    public void CopyMcToUser_DestinationFaultsIBytesIn_ByteExactResidue(CpuModel cpu)
    {
        foreach (var i in Offsets)
        {
            var m = Sim.Boot("6.12", cpu);
            var p = m.Spawn();
            var two = p.MapAnonymous(2 * PageDefs.PAGE_SIZE);
            Assert.That(p.Munmap(two.Value + PageDefs.PAGE_SIZE, PageDefs.PAGE_SIZE), Is.Zero);
            var dst = two + (PageDefs.PAGE_SIZE - (ulong)i);
            Assert.That(p.Fill(dst, (ulong)i, _ => 0xff).Completed((ulong)i), Is.True);
            var src = Sim.KernelBuffer(m, 512);
            var r = m.Run(p, "test", () => m.Copy.CopyMcToUser(dst, src, 512));
            Assert.That(r.Value, Is.EqualTo((ulong)(512 - i)), $"i={i}");
            var got = p.Peek(dst, i);
            Assert.That(got.Select(b => b!.Value).ToArray(), Is.EqualTo(Sim.ReadKernel(m, src, i)), $"i={i}");
        }
    }

    [Test]
    public void CopyMcFragile_WE1_AlignedSource_Returns3904()
    {
        var m = Sim.Boot("6.12", CpuModel.Fragile);
        var src = Sim.KernelBuffer(m, 4096);
        var dst = Sim.KernelFilled(m, 4096);
        m.InjectPoison(Sim.Pa(m, src) + 200);
        Assert.That(m.Run(() => m.Copy.CopyMcToKernel(dst, src, 4096)).Value, Is.EqualTo(3904UL));
        Assert.That(Sim.ReadKernel(m, dst, 4096)[192..], Is.All.EqualTo((byte)0xff));
    }

    [Test]
    public void CopyMcFragile_WE2_MisalignedSource_Returns4035_AndWE3_InsideLine_Returns4096()
    {
        var m = Sim.Boot("6.12", CpuModel.Fragile);
        var buf = Sim.KernelBuffer(m, 8192);
        var dst = Sim.KernelFilled(m, 4096);
        m.InjectPoison(Sim.Pa(m, buf) + 0x40);
        Assert.That(m.Run(() => m.Copy.CopyMcToKernel(dst, buf + 3UL, 4096)).Value, Is.EqualTo(4035UL));
        var m2 = Sim.Boot("6.12", CpuModel.Fragile);
        var buf2 = Sim.KernelBuffer(m2, 8192);
        var dst2 = Sim.KernelFilled(m2, 4096);
        m2.InjectPoison(Sim.Pa(m2, buf2));
        Assert.That(m2.Run(() => m2.Copy.CopyMcToKernel(dst2, buf2 + 3UL, 4096)).Value, Is.EqualTo(4096UL));
        Assert.That(Sim.ReadKernel(m2, dst2, 4096), Is.All.EqualTo((byte)0xff));
    }

    [Test]
    public void MemcpyMcsafe_WE6_Pre418ReturnsEfaultWith32BytesStored_418Returns4040()
    {
        var m = Sim.Boot("4.17", CpuModel.Fragile);
        var buf = Sim.KernelBuffer(m, 8192);
        var dst = Sim.KernelFilled(m, 4096);
        m.InjectPoison(Sim.Pa(m, buf) + 0x40);
        Assert.That(m.Run(() => m.Copy.MemcpyMcsafe(dst, buf + 8UL, 4096)).Value, Is.EqualTo((long)-Errno.EFAULT));
        var got = Sim.ReadKernel(m, dst, 64);
        Assert.That(got[..32], Is.EqualTo(Sim.ReadKernel(m, buf + 8UL, 32)));
        Assert.That(got[32..], Is.All.EqualTo((byte)0xff));

        var m2 = Sim.Boot("4.18", CpuModel.Fragile);
        var buf2 = Sim.KernelBuffer(m2, 8192);
        var dst2 = Sim.KernelFilled(m2, 4096);
        m2.InjectPoison(Sim.Pa(m2, buf2) + 0x40);
        Assert.That(m2.Run(() => m2.Copy.MemcpyMcsafe(dst2, buf2 + 8UL, 4096)).Value, Is.EqualTo(4040L));
    }

    [TestCaseSource(typeof(Sim), nameof(Sim.Cpus))]
    public void CopyMcToUser_WE4_WordStoreCrossesIntoUnmappedPage_Returns156(CpuModel cpu)
    {
        // len 256, 8-aligned clean source, dst = P − 100 with P unmapped: word 12's store faults,
        // copy_mc_fragile_handle_tail (or rep movsb, or copy_user_generic) stops at byte 100.
        var m = Sim.Boot("6.12", cpu);
        var p = m.Spawn();
        var two = p.MapAnonymous(2 * PageDefs.PAGE_SIZE);
        p.Munmap(two.Value + PageDefs.PAGE_SIZE, PageDefs.PAGE_SIZE);
        var src = Sim.KernelBuffer(m, 256);
        var dst = two + (PageDefs.PAGE_SIZE - 100);
        Assert.That(m.Run(p, "t", () => m.Copy.CopyMcToUser(dst, src, 256)).Value, Is.EqualTo(156UL));
        Assert.That(p.Peek(dst, 100).Select(b => b!.Value).ToArray(), Is.EqualTo(Sim.ReadKernel(m, src, 100)));
    }

    [Test]
    public void CopyMcEnhancedFastString_WE5_LineStartModel_Returns3904_NothingCopiedModel_Returns4096()
    {
        foreach (var (model, expected) in new[] { (CpuModel.FastString, 3904UL), (CpuModel.FastString with { McStop = FastStringMcStop.NothingCopied }, 4096UL) })
        {
            var m = Sim.Boot("6.12", model);
            var src = Sim.KernelBuffer(m, 4096);
            var dst = Sim.KernelFilled(m, 4096);
            m.InjectPoison(Sim.Pa(m, src) + 200);
            Assert.That(m.Run(() => m.Copy.CopyMcToKernel(dst, src, 4096)).Value, Is.EqualTo(expected));
            Assert.That(Sim.ReadKernel(m, dst, 4096)[(int)(4096 - expected)..], Is.All.EqualTo((byte)0xff));
        }
    }
}
