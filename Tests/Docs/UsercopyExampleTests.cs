using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Tests.Docs;

/// <summary>The example shown in docs/usercopy.md (the page quotes this file verbatim).</summary>
public class UsercopyExampleTests
{
    [Test]
    public void KernelBufferWithANotPresentTail_RawCopyIsByteExact_StructCopyRefusesUnknownFields()
    {
        // Linux 6.12 on a CPU without ERMS or the fragile quirk: copy_mc_to_kernel would be plain memcpy here.
        var m = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.Plain).Build();
        var copy = (CopyRoutines)m.Copy;

        // Two kernel pages; set_memory_np takes the second out of the kernel page tables.
        var buf = m.Kmalloc(2 * PageDefs.PAGE_SIZE)!.Value;
        var tail = buf + PageDefs.PAGE_SIZE;
        Assert.That(m.KernelMap.SetMemoryNp(tail, 1), Is.Zero);

        // copy_mc_fragile called directly, as nfit_test does: a source starting 100 bytes before the
        // not-present page faults at exactly byte 100, so 512 − 100 bytes are not copied.
        var dst = m.Kmalloc(512)!.Value;
        Assert.That(m.Run(() => copy.CopyMcFragile(dst, buf + (PageDefs.PAGE_SIZE - 100), 512)).Value, Is.EqualTo(412UL));

        // A process passes a 16-byte struct to a kernel that knows 8 bytes of it.
        var p = m.Spawn();
        var u = p.MapAnonymous(PageDefs.PAGE_SIZE);
        Assert.That(p.Store(u, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).Completed(16), Is.True);
        Assert.That(m.Run(p, "sys_example", () => m.Usercopy.CopyStructFromUser(dst, 8, u, 16)).Value, Is.Zero);

        // A non-zero byte the kernel does not know about: -E2BIG.
        Assert.That(p.Store(u + 12UL, [7]).Completed(1), Is.True);
        Assert.That(m.Run(p, "sys_example", () => m.Usercopy.CopyStructFromUser(dst, 8, u, 16)).Value, Is.EqualTo(-Errno.E2BIG));
    }
}
