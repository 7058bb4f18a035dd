using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Pmem;

/// <summary>
/// The device-dax rows of the MADV_HWPOISON signal-timing table (docs/kernel/memory-failure.md MF24): madvise on the
/// page at +0x201000 of an 8 MiB MAP_SHARED mapping of /dev/dax0.0, at 4 KiB and 2 MiB alignment, on both sides of
/// 4.19 (memory_failure_dev_pagemap, MF9), 5.17 (compound pages indexed from ALIGN, DD7), 6.11 (madvise's
/// MF_ACTION_REQUIRED, MF14 — no change: mf_generic_kill_procs forces it, MF6) and 6.12 (ALIGN_DOWN, DD7).
/// </summary>
public class DevDaxMadviseTimingTests
{
    private const ulong K4 = 4096, M2 = 2UL << 20, Page = 0x201000;

    private static (Machine M, Process P, DevDax Dax, ulong A) Boot(string kernel, ulong align)
    {
        var m = new MachineBuilder().WithKernel(kernel).AddPmem(new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw)).Build();
        var ns = m.Pmem();
        var parent = m.Services.GetRequiredService<Sysfs>().Root.Dir("devices/platform/ndbus0/region0/dax0.0");
        Assert.That(DevDax.Attach(m, 0, 0, ns.PhysAddr + M2, 60UL << 20, align, parent, out var dax), Is.EqualTo(0));
        var p = m.Spawn("daxio");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var fd = (int)p.Open("/dev/dax0.0", Fcntl.O_RDWR);
        var a = p.Mmap(0, 8UL << 20, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        Assert.That(a, Is.GreaterThan(0), Errno.Describe(a));
        return (m, p, dax!, (ulong)a);
    }

    private static ulong PfnOf(DevDax dax, ulong offset) => (dax.Start + offset) >> PageDefs.PAGE_SHIFT;

    [TestCase(K4)]
    [TestCase(M2)]
    public void Before419_ReservedKernelPage_Ebusy_NoSignal(ulong align)
    {
        var (m, p, dax, a) = Boot("4.18", align);
        Assert.That(p.Madvise(a + Page, K4, Mman.MADV_HWPOISON), Is.EqualTo(-Errno.EBUSY));
        var pfn = PfnOf(dax, Page);
        Assert.Multiple(() =>
        {
            Assert.That(p.SignalsReceived, Is.Empty);
            Assert.That(m.State.Dmesg.TakeLast(2), Is.EqualTo(new[]
            {
                $"Memory failure: 0x{pfn:x}: reserved kernel page still referenced by 1 users",
                $"Memory failure: 0x{pfn:x}: recovery action for reserved kernel page: Failed",
            }));
            Assert.That(m.Phys.Frame(pfn).IsHwPoison, Is.True, "TestSetPageHWPoison ran first");
            Assert.That(m.MemoryFailure.PoisonedPages, Is.EqualTo(1));
            Assert.That(p.Mm.PfnAt(a + Page), Is.EqualTo(pfn), "nothing unmapped");
        });
        Assert.That(p.LoadByte(new UserPtr(a + Page + 8), out _).Signal, Is.Null, "no media poison: the next access reads");
    }

    [TestCase("4.19")]
    [TestCase("5.16")]
    [TestCase("5.17")]
    [TestCase("6.10")]
    [TestCase("6.11")]
    [TestCase("6.12")]
    public void Align4K_InsideMadvise_ThePage_Lsb12_EveryRelease(string kernel)
    {
        var (m, p, dax, a) = Boot(kernel, K4);
        Assert.That(p.Madvise(a + Page, K4, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + Page, 12, true)));
        Assert.That(m.State.Dmesg.Last(), Is.EqualTo($"Memory failure: 0x{PfnOf(dax, Page):x}: recovery action for dax page: Recovered"));
        Assert.That(p.Mm.PfnAt(a + Page), Is.Null, "unmap_mapping_range of 4 KiB");
        Assert.That(p.Mm.PfnAt(a + Page + K4), Is.Null, "never faulted");
    }

    [TestCase("4.19")]
    [TestCase("5.16")]
    public void Align2M_419To516_ThePoisonedPage_Lsb21(string kernel)
    {
        var (_, p, dax, a) = Boot(kernel, M2);
        Assert.That(p.Madvise(a + Page, K4, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + Page, 21, true)));
        Assert.That(p.Mm.PfnAt(a + M2), Is.Null, "the whole PMD was unmapped");
        Assert.That(dax.PageIndex(PfnOf(dax, Page)), Is.EqualTo(Page >> 12), "every page has its own index");
    }

    /// <summary>madvise's get_user_pages_fast faults the block at +0x201000: ALIGN gives the index of the block at +4 MiB, which nothing maps.</summary>
    [TestCase("5.17")]
    [TestCase("6.10")]
    [TestCase("6.11")]
    public void Align2M_517To611_FirstFaultInsideTheBlock_NoSignal_PmdStays(string kernel)
    {
        var (m, p, dax, a) = Boot(kernel, M2);
        Assert.That(p.Madvise(a + Page, K4, Mman.MADV_HWPOISON), Is.Zero);
        Assert.Multiple(() =>
        {
            Assert.That(p.SignalsReceived, Is.Empty);
            Assert.That(dax.PageIndex(PfnOf(dax, Page)), Is.EqualTo(2 * M2 >> 12));
            Assert.That(m.State.Dmesg.Last(), Is.EqualTo($"Memory failure: 0x{PfnOf(dax, Page):x}: recovery action for dax page: Recovered"));
            Assert.That(m.Phys.Frame(PfnOf(dax, M2)).IsHwPoison, Is.True, "the compound head is marked");
            Assert.That(p.Mm.PfnAt(a + Page), Is.EqualTo(PfnOf(dax, Page)), "the PMD stays mapped");
        });
        Assert.That(p.LoadByte(new UserPtr(a + Page + 8), out _).Signal, Is.Null, "MADV_HWPOISON poisons no media: the access reads");
    }

    /// <summary>When the block was first faulted at its aligned start, ALIGN is exact: the head's address, lsb 21.</summary>
    [TestCase("5.17")]
    [TestCase("6.11")]
    public void Align2M_517To611_FirstFaultAtTheBlockStart_TheBlock_Lsb21(string kernel)
    {
        var (_, p, _, a) = Boot(kernel, M2);
        Assert.That(p.LoadByte(new UserPtr(a + M2), out _).Signal, Is.Null);
        Assert.That(p.Madvise(a + Page, K4, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + M2, 21, true)));
        Assert.That(p.Mm.PfnAt(a + M2), Is.Null);
    }

    [TestCase("6.12")]
    public void Align2M_612_InsideMadvise_TheBlockStart_Lsb21(string kernel)
    {
        var (m, p, dax, a) = Boot(kernel, M2);
        Assert.That(p.Madvise(a + Page, K4, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + M2, 21, true)));
        Assert.That(m.Phys.Frame(PfnOf(dax, M2)).IsHwPoison, Is.True);
        Assert.That(p.Mm.PfnAt(a + M2), Is.Null, "the whole PMD was unmapped");
        Assert.That(m.State.Dmesg, Does.Contain($"Memory failure: 0x{PfnOf(dax, Page):x}: Sending SIGBUS to daxio:1000 due to hardware memory corruption"));
    }
}
