using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Arch;

/// <summary>
/// The one-pass fault-free copy (<see cref="Cpu.TryMoveAll"/>) and the direct-map run translation it uses
/// (<see cref="KernelMap.TryAccessRun"/>): it takes a copy only when nothing on either side can fault, moves nothing
/// otherwise, and when it does move, the bytes are those of the page-by-page probe and move.
/// </summary>
public class MoveAllTests
{
    [Test]
    public void TryMoveAll_PoisonInTheLastSourcePage_MovesNothing_CopyMcStopsAtTheLine()
    {
        var m = Sim.Boot();
        var src = Sim.KernelBuffer(m, 3 * 4096);
        var dst = Sim.KernelFilled(m, 3 * 4096);
        m.InjectPoison(Sim.Pa(m, src) + 2 * 4096 + 640);
        Assert.That(m.Cpu.TryMoveAll(Space.Kernel, dst.Value, Space.Kernel, src.Value, 3 * 4096), Is.False);
        Assert.That(Sim.ReadKernel(m, dst, 3 * 4096), Is.All.EqualTo((byte)0xff), "nothing moved before the probe saw the poison");
        var r = m.Run(() => m.Copy.CopyMcToKernel(dst, src, 3 * 4096));
        Assert.That(r.Value, Is.EqualTo((ulong)(4096 - 640)));
        var got = Sim.ReadKernel(m, dst, 3 * 4096);
        Assert.That(got[..(2 * 4096 + 640)], Is.EqualTo(Sim.ReadKernel(m, src, 2 * 4096 + 640)));
        Assert.That(got[(2 * 4096 + 640)..], Is.All.EqualTo((byte)0xff));
    }

    [Test]
    public void CopyMcToUser_DestinationWithAHole_CopiesUpToTheHoleOnly()
    {
        var m = Sim.Boot();
        var p = m.Spawn();
        var u = p.MapAnonymous(4 * 4096);
        Assert.That(p.Fill(u, 4 * 4096, _ => 0xEE).Done, Is.EqualTo(4UL * 4096));
        Assert.That(p.Munmap(u.Value + 2 * 4096, 4096), Is.Zero);
        var src = Sim.KernelBuffer(m, 4 * 4096, seed: 3);
        var r = m.Run(p, "copy", () => m.Copy.CopyMcToUser(u + 100, src, 3 * 4096));
        Assert.That(r.Value, Is.EqualTo((ulong)(3 * 4096 - (2 * 4096 - 100))), "stops at the unmapped page");
        var back = new byte[2 * 4096];
        Assert.That(p.Load(u, back).Done, Is.EqualTo(2UL * 4096));
        Assert.That(back[..100], Is.All.EqualTo((byte)0xEE));
        Assert.That(back[100..], Is.EqualTo(Sim.ReadKernel(m, src, 2 * 4096 - 100)));
        var tail = new byte[4096];
        Assert.That(p.Load(u + 3 * 4096, tail).Done, Is.EqualTo(4096UL));
        Assert.That(tail, Is.All.EqualTo((byte)0xEE), "the page after the hole is untouched");
    }

    [Test]
    public void CopyMcToUser_AcrossChunksIntoPagesInReverseFrameOrder_EveryByteArrives()
    {
        var m = Sim.Boot();
        var p = m.Spawn();
        const int pages = 20;
        var u = p.MapAnonymous(pages * 4096);
        for (var i = pages - 1; i >= 0; i--) Assert.That(p.Store(u + (ulong)i * 4096, [1]).Done, Is.EqualTo(1UL)); // descending pfns
        var src = Sim.KernelBuffer(m, (pages + 1) * 4096, seed: 9); // spans more than one 64 KiB storage chunk
        const ulong len = (pages - 1) * 4096 + 1000;
        var r = m.Run(p, "copy", () => m.Copy.CopyMcToUser(u + 77, src + 300, len));
        Assert.That(r.Value, Is.Zero);
        var back = new byte[len];
        Assert.That(p.Load(u + 77, back).Done, Is.EqualTo(len));
        Assert.That(back, Is.EqualTo(Sim.ReadKernel(m, src + 300, (int)len)));
    }

    [Test]
    public void TryAccessRun_DirectMap_AnswersTheRunAtOnce_PageByPageOnceAPageIsProtected()
    {
        var m = Sim.Boot();
        var k = Sim.KernelBuffer(m, 8 * 4096);
        Assert.That(m.KernelMap.TryAccessRun(k.Value + 10, 8 * 4096 - 10, write: false, out var pfn), Is.EqualTo(8UL * 4096 - 10));
        Assert.That(pfn, Is.EqualTo(Sim.Pa(m, k).Pfn));
        Assert.That(m.KernelMap.SetMemoryNp(k + 3 * 4096, 1), Is.Zero);
        Assert.That(m.KernelMap.TryAccessRun(k.Value + 10, 8 * 4096 - 10, write: false, out _), Is.EqualTo(4096UL - 10));
        Assert.That(m.KernelMap.TryAccessRun(k.Value + 3 * 4096, 4096, write: false, out _), Is.Zero);
        var dst = Sim.KernelFilled(m, 8 * 4096);
        Assert.That(m.Cpu.TryMoveAll(Space.Kernel, dst.Value, Space.Kernel, k.Value, 8 * 4096), Is.False);
        Assert.That(Sim.ReadKernel(m, dst, 8 * 4096), Is.All.EqualTo((byte)0xff));
    }
}
