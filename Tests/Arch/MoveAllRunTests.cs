using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Arch;

/// <summary>
/// The batched translation of <see cref="Cpu.TryMoveAll"/>: a side whose pages are consecutive frames is moved without a
/// per-page pfn list, and <see cref="PageTable.TryTranslatePages"/> answers a range inside the last linear range it
/// translated while no entry changed. Each test copies once so that the range is remembered, changes one page in the
/// middle, and copies again: the second copy must stop exactly where the page-by-page copy stops.
/// </summary>
public class MoveAllRunTests
{
    private const int Pages = 24; // crosses a 64 KiB storage chunk on both sides

    /// <summary>A process with a prefaulted buffer of <see cref="Pages"/> pages on consecutive frames, filled with 0xEE.</summary>
    private static (Machine m, Process p, UserPtr u) Setup()
    {
        var m = Sim.Boot();
        var p = m.Spawn();
        var u = p.MapAnonymous(Pages * 4096);
        Assert.That(p.Fill(u, Pages * 4096, _ => 0xEE).Done, Is.EqualTo((ulong)Pages * 4096));
        var pfns = new ulong[Pages];
        Assert.That(p.Mm.PageTable.TryTranslatePages(u.Value >> 12, write: true, pfns, out var linear), Is.EqualTo(Pages));
        Assert.That(linear, Is.True, "the test needs a buffer on consecutive frames");
        return (m, p, u);
    }

    [Test]
    public void CopyMcToUser_LinearBufferTwice_PageUnmappedInBetween_StopsAtTheHole_TailUntouched()
    {
        var (m, p, u) = Setup();
        var src = Sim.KernelBuffer(m, Pages * 4096, seed: 5);
        const ulong len = Pages * 4096 - 300;
        Assert.That(m.Run(p, "copy", () => m.Copy.CopyMcToUser(u + 300, src, len)).Value, Is.Zero);
        Assert.That(p.Munmap(u.Value + 13 * 4096, 4096), Is.Zero);
        var src2 = Sim.KernelBuffer(m, Pages * 4096, seed: 11);
        var left = m.Run(p, "copy", () => m.Copy.CopyMcToUser(u + 300, src2, len)).Value;
        Assert.That(left, Is.EqualTo(len - (13 * 4096 - 300)), "stops at the first byte of the unmapped page");
        var head = new byte[13 * 4096];
        Assert.That(p.Load(u, head).Done, Is.EqualTo((ulong)head.Length));
        Assert.That(head[..300], Is.All.EqualTo((byte)0xEE));
        Assert.That(head[300..], Is.EqualTo(Sim.ReadKernel(m, src2, 13 * 4096 - 300)));
        var tail = new byte[(Pages - 14) * 4096];
        Assert.That(p.Load(u + 14 * 4096, tail).Done, Is.EqualTo((ulong)tail.Length));
        Assert.That(tail, Is.EqualTo(Sim.ReadKernel(m, src + (14 * 4096 - 300), tail.Length)), "the pages after the hole keep the first copy");
    }

    [Test]
    public void CopyMcToUser_LinearBufferTwice_PageMadeReadOnlyInBetween_StopsThere()
    {
        var (m, p, u) = Setup();
        var src = Sim.KernelBuffer(m, Pages * 4096, seed: 6);
        Assert.That(m.Run(p, "copy", () => m.Copy.CopyMcToUser(u, src, Pages * 4096)).Value, Is.Zero);
        Assert.That(p.Mprotect(u.Value + 20 * 4096, 4096, Mman.PROT_READ), Is.Zero);
        var src2 = Sim.KernelBuffer(m, Pages * 4096, seed: 12);
        Assert.That(m.Run(p, "copy", () => m.Copy.CopyMcToUser(u, src2, Pages * 4096)).Value, Is.EqualTo(4UL * 4096));
        var back = new byte[Pages * 4096];
        Assert.That(p.Load(u, back).Done, Is.EqualTo((ulong)back.Length));
        Assert.That(back[..(20 * 4096)], Is.EqualTo(Sim.ReadKernel(m, src2, 20 * 4096)));
        Assert.That(back[(20 * 4096)..], Is.EqualTo(Sim.ReadKernel(m, src + 20 * 4096, 4 * 4096)), "the read-only page and the tail are untouched");
    }

    [Test]
    public void RawCopyToUser_AfterALoadOfTheSameReadOnlyRange_StillFaults()
    {
        var (m, p, u) = Setup();
        Assert.That(p.Mprotect(u.Value, Pages * 4096, Mman.PROT_READ), Is.Zero);
        var k = Sim.KernelFilled(m, Pages * 4096, 0x11);
        // The load translates the range for reading; a store must not be answered from that.
        Assert.That(m.Run(p, "load", () => m.Copy.RawCopyFromUser(k, u, Pages * 4096)).Value, Is.Zero);
        Assert.That(Sim.ReadKernel(m, k, Pages * 4096), Is.All.EqualTo((byte)0xEE));
        var src = Sim.KernelBuffer(m, Pages * 4096, seed: 7);
        Assert.That(m.Run(p, "store", () => m.Copy.RawCopyToUser(u, src, Pages * 4096)).Value, Is.EqualTo((ulong)Pages * 4096));
        var back = new byte[Pages * 4096];
        Assert.That(p.Load(u, back).Done, Is.EqualTo((ulong)back.Length));
        Assert.That(back, Is.All.EqualTo((byte)0xEE));
    }

    [Test]
    public void CopyMcToUser_PoisonedLineInTheMiddleOfALinearSource_StopsAtTheLine_TailUntouched()
    {
        var (m, p, u) = Setup();
        var src = Sim.KernelBuffer(m, Pages * 4096, seed: 8);
        Assert.That(m.Run(p, "copy", () => m.Copy.CopyMcToUser(u, src, Pages * 4096)).Value, Is.Zero);
        var src2 = Sim.KernelBuffer(m, Pages * 4096, seed: 13);
        const int at = 9 * 4096 + 0x340;
        m.InjectPoison(Sim.Pa(m, src2) + at + 5);
        var left = m.Run(p, "copy", () => m.Copy.CopyMcToUser(u, src2, Pages * 4096)).Value;
        Assert.That(left, Is.EqualTo((ulong)(Pages * 4096 - at)), "copy_mc stops at the start of the poisoned line");
        var back = new byte[Pages * 4096];
        Assert.That(p.Load(u, back).Done, Is.EqualTo((ulong)back.Length));
        Assert.That(back[..at], Is.EqualTo(Sim.ReadKernel(m, src2, at)));
        Assert.That(back[at..], Is.EqualTo(Sim.ReadKernel(m, src + at, Pages * 4096 - at)), "nothing at or after the line is written");
    }

    [Test]
    public void TryTranslatePages_RememberedRange_ForgottenWhenAnEntryChanges()
    {
        var (_, p, u) = Setup();
        var pt = p.Mm.PageTable;
        var pfns = new ulong[4];
        Assert.That(pt.TryTranslatePages((u.Value >> 12) + 5, write: true, pfns, out var linear), Is.EqualTo(4));
        Assert.That(linear, Is.True);
        Assert.That(pt.TryTranslate(u.Value + 5 * 4096, write: true, out var pfn5), Is.True);
        Assert.That(pfns[0], Is.EqualTo(pfn5), "a range inside the remembered one starts at its own frame");
        Assert.That(p.Munmap(u.Value + 7 * 4096, 4096), Is.Zero);
        Assert.That(pt.TryTranslatePages((u.Value >> 12) + 5, write: true, pfns, out linear), Is.EqualTo(2), "stops at the unmapped page");
        Assert.That(linear, Is.False);
    }
}
