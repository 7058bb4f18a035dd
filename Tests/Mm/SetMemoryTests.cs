using KernelSim.Arch.X86;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>set_memory_np / set_memory_p / set_memory_ro / set_memory_rw on kernel pages (A20).</summary>
public class SetMemoryTests
{
    private const ulong Page = PageDefs.PAGE_SIZE;

    [Test]
    public void SetMemoryNp_LoadsAndStoresFaultFromThePageStart_SetMemoryP_Restores()
    {
        var m = Sim.Boot("6.12", CpuModel.FastString);
        var buf = Sim.KernelBuffer(m, 2 * Page);
        var dst = Sim.KernelFilled(m, 256);
        Assert.That(m.KernelMap.SetMemoryNp(buf + Page, 1), Is.Zero);
        Assert.That(m.KernelMap.Pa(buf + Page), Is.EqualTo(Sim.Pa(m, buf) + Page), "__pa does not look at the PTE");
        Assert.That(m.Run(() => m.Copy.CopyMcToKernel(dst, buf + (Page - 13), 100)).Value, Is.EqualTo(87UL));
        Assert.That(Sim.ReadKernel(m, dst, 256)[13..], Is.All.EqualTo((byte)0xff));
        Assert.That(m.Run(() => m.Copy.CopyMcToKernel(buf + (Page - 7), dst, 100)).Value, Is.EqualTo(93UL));
        Assert.That(m.KernelMap.SetMemoryP(buf + Page, 1), Is.Zero);
        Assert.That(m.Run(() => m.Copy.CopyMcToKernel(dst, buf + (Page - 13), 100)).Value, Is.Zero);
        Assert.That(Sim.ReadKernel(m, dst, 100), Is.EqualTo(Sim.ReadKernel(m, buf + (Page - 13), 100)));
    }

    [Test]
    public void SetMemoryNp_PlainMemcpyOopsAtTheFirstByteOfThePage()
    {
        var m = Sim.Boot();
        var buf = Sim.KernelBuffer(m, 2 * Page);
        var dst = Sim.KernelFilled(m, 256);
        Assert.That(m.KernelMap.SetMemoryNp(buf + Page, 1), Is.Zero);
        var p = m.Spawn();
        var r = m.Run(p, "t", () => { m.Copy.Memcpy(dst, buf + (Page - 13), 100); return 0; });
        Assert.That(r.Outcome, Is.EqualTo($"oops: unable to handle page fault for address: 0x{(buf + Page).Value:x} at Memcpy"));
        Assert.That(Sim.ReadKernel(m, dst, 256)[..13], Is.EqualTo(Sim.ReadKernel(m, buf + (Page - 13), 13)), "memcpy got as far as the page");
        Assert.That(Sim.ReadKernel(m, dst, 256)[13..], Is.All.EqualTo((byte)0xff));
    }

    [Test]
    public void SetMemoryRo_LoadsWork_StoresFault_SetMemoryRw_Restores()
    {
        var m = Sim.Boot("6.12", CpuModel.Fragile);
        var copy = (CopyRoutines)m.Copy;
        var ro = Sim.KernelFilled(m, 2 * Page, 0x55);
        var src = Sim.KernelBuffer(m, 512);
        Assert.That(m.KernelMap.SetMemoryRo(ro + Page, 1), Is.Zero);
        Assert.That(m.Run(() => copy.CopyMcFragile(src, ro + (Page - 8), 64)).Value, Is.Zero, "loads from a read-only page");
        Assert.That(m.Run(() => copy.CopyMcFragile(ro + (Page - 21), src, 100)).Value, Is.EqualTo(79UL), "a store fault is byte-exact");
        Assert.That(Sim.ReadKernel(m, ro + Page, 80), Is.All.EqualTo((byte)0x55));
        var p = m.Spawn();
        Assert.That(m.Run(p, "t", () => { m.Copy.Memset(ro + (Page - 1), 0, 2); return 0; }).Outcome,
            Is.EqualTo($"oops: unable to handle page fault for address: 0x{(ro + Page).Value:x} at Memcpy"));
        Assert.That(m.KernelMap.SetMemoryRw(ro + Page, 1), Is.Zero);
        Assert.That(m.Run(() => copy.CopyMcFragile(ro + (Page - 21), src, 100)).Value, Is.Zero);
    }

    [Test]
    public void CopyToUser_FromAKernelBufferWithANotPresentTail_ExactResidue()
    {
        // A #PF on the kernel side of a user copy goes to the same exception-table entry: the copy comes up short.
        var m = Sim.Boot();
        var p = m.Spawn();
        var u = p.MapAnonymous(Page);
        var buf = Sim.KernelBuffer(m, 2 * Page);
        Assert.That(m.KernelMap.SetMemoryNp(buf + Page, 1), Is.Zero);
        Assert.That(m.Run(p, "t", () => m.Copy.CopyToUser(u, buf + (Page - 40), 100)).Value, Is.EqualTo(60UL));
        Assert.That(p.Peek(u, 41)[40], Is.EqualTo((byte)0));
    }

    [Test]
    public void BadArguments_KernelAnswers()
    {
        var m = Sim.Boot();
        var buf = Sim.KernelBuffer(m, 2 * Page);
        // Unaligned: WARN once and align down.
        Assert.That(m.KernelMap.SetMemoryNp(buf + (Page + 5), 1), Is.Zero);
        Assert.That(m.KernelMap.SetMemoryNp(buf + (Page + 7), 1), Is.Zero);
        Assert.That(m.State.Dmesg.Count(l => l.Contains("change_page_attr_set_clr")), Is.EqualTo(1));
        var dst = Sim.KernelFilled(m, 64);
        Assert.That(m.Run(() => m.Copy.CopyMcToKernel(dst, buf + (Page - 4), 8)).Value, Is.EqualTo(4UL));
        // Nothing mapped in vmalloc space: -EFAULT with the CPA warning; zero pages: nothing to do; negative: refused.
        Assert.That(m.KernelMap.SetMemoryNp(new KernelPtr(PageDefs.VMALLOC_START + 0x10_0000_0000), 1), Is.EqualTo(-Errno.EFAULT));
        Assert.That(m.State.Dmesg, Has.Some.StartsWith("CPA: called for zero pte."));
        Assert.That(m.KernelMap.SetMemoryNp(buf, 0), Is.Zero);
        Assert.That(m.KernelMap.SetMemoryNp(buf, -1), Is.EqualTo(-Errno.EINVAL));
        Assert.That(m.Run(() => m.Copy.CopyMcToKernel(dst, buf, 8)).Value, Is.Zero);
    }
}
