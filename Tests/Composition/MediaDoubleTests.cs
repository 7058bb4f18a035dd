using KernelSim.Arch.X86;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Moq;

namespace KernelSim.Tests.Composition;

/// <summary>
/// The memory-media seam (<see cref="IMemoryMedia"/>) replaced by a Moq double through MachineBuilder.Services: the
/// CPU's loads fault exactly where the double reports poison, and the copy routines and fs/dax.c above act on it.
/// </summary>
public class MediaDoubleTests
{
    /// <summary>A media double reporting one poisoned 64-byte line, at <paramref name="line"/>, and nothing else.</summary>
    private static Mock<IMemoryMedia> OnePoisonedLine(Func<PhysAddr> line)
    {
        var media = new Mock<IMemoryMedia>(MockBehavior.Strict);
        media.Setup(x => x.FirstPoisonInFrame(It.IsAny<ulong>(), It.IsAny<int>(), It.IsAny<int>()))
            .Returns((ulong pfn, int off, int len) =>
            {
                var pa = line();
                var lineOff = (int)PageDefs.OffsetInPage(pa.Value);
                if (pfn != pa.Pfn || lineOff + 64 <= off || lineOff >= off + len) return -1;
                return Math.Max(0, lineOff - off);
            });
        media.Setup(x => x.LoadFrame(It.IsAny<ulong>())).Returns((ulong pfn) => pfn);
        return media;
    }

    [Test]
    public void CopyMcToUser_StopsAtTheLineTheMediaDoubleReports_ReturnsTheBytesNotCopied()
    {
        KernelPtr src = default;
        var media = OnePoisonedLine(() => new PhysAddr(((src.Value - PageDefs.PAGE_OFFSET) & ~(PageDefs.PAGE_SIZE - 1)) + 192));
        var builder = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString);
        builder.Services.AddSingleton(media.Object);
        var m = builder.Build();

        src = m.Kmalloc(4096)!.Value;
        m.Phys.PokeBytes(m.KernelMap.Pa(src)!.Value, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 + 3)).ToArray());
        var p = m.Spawn("app");
        var u = p.MapAnonymous(4096);
        Assert.That(p.Fill(u, 4096, _ => 0xEE).Done, Is.EqualTo(4096UL));

        var notCopied = m.Run(p, "t", () => m.Copy.CopyMcToUser(u, src, 4096));

        Assert.That(notCopied.Returned, Is.True);
        Assert.That(notCopied.Value, Is.EqualTo(4096UL - 192), "copy_mc_enhanced_fast_string stops at the first poisoned byte");
        var got = new byte[4096];
        Assert.That(p.Load(u, got).Done, Is.EqualTo(4096UL));
        Assert.That(got[..192], Is.EqualTo(Enumerable.Range(0, 192).Select(i => (byte)(i * 7 + 3)).ToArray()));
        Assert.That(got[192..].All(b => b == 0xEE), Is.True, "the tail is untouched");
        Assert.That(m.Mce.Log, Has.Count.EqualTo(1), "one machine check, raised by the double's line");
        Assert.That(m.Phys.PoisonedLines(), Is.Empty, "the real media holds no poison: the double decided");
    }

    [Test]
    public void DaxRead_ComesBackShortExactlyAtTheLineTheMediaDoubleReports()
    {
        PhysAddr poisoned = default;
        var media = OnePoisonedLine(() => poisoned);
        var builder = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString)
            .AddPmem(new PmemNamespaceSpec(64UL << 20))
            .AddDaxFs("pmem0", new DaxFsOptions { Dax = DaxMode.Always });
        builder.Services.Replace(ServiceDescriptor.Singleton(media.Object));
        var m = builder.Build();

        var fs = (DaxFs)m.Vfs.Mounts.Single(f => f is DaxFs);
        var p = m.Spawn("app");
        var u = p.MapAnonymous(8192);
        Assert.That(p.Fill(u, 8192, i => (byte)i).Done, Is.EqualTo(8192UL));
        var fd = (int)p.Open(fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Pwrite64(fd, u, 8192, 0), Is.EqualTo(8192));
        poisoned = new PhysAddr(m.Pmem().DataPhys((ulong)fs.DeviceOffsetOf("F", 4160)));

        Assert.That(p.Pread64(fd, u, 8192, 0), Is.EqualTo(4160), "dax_iomap_rw returns the bytes before the poisoned line");
        Assert.That(p.Pread64(fd, u, 4096, 0), Is.EqualTo(4096), "the first page alone is clean");
        media.Verify(x => x.FirstPoisonInFrame(poisoned.Pfn, It.IsAny<int>(), It.IsAny<int>()), Times.AtLeastOnce());
    }
}
