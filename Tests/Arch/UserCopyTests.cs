using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Arch;

/// <summary>copy_to_user / copy_from_user / clear_user / get_user / put_user / __copy_user_nocache (C1–C8, WE17).</summary>
public class UserCopyTests
{
    private static (Machine M, Process P, UserPtr Edge) EdgeBuffer(CpuModel? cpu = null)
    {
        var m = Sim.Boot("6.12", cpu);
        var p = m.Spawn();
        var two = p.MapAnonymous(2 * PageDefs.PAGE_SIZE);
        p.Fill(two, 2 * PageDefs.PAGE_SIZE, i => (byte)(i * 3));
        Assert.That(p.Munmap(two.Value + PageDefs.PAGE_SIZE, PageDefs.PAGE_SIZE), Is.Zero);
        return (m, p, two + PageDefs.PAGE_SIZE); // first unmapped byte
    }

    [TestCaseSource(typeof(Sim), nameof(Sim.Cpus))]
    public void CopyFromUser_SourceUnmappedAfter13Bytes_Returns87AndZeroesTail(CpuModel cpu)
    {
        var (m, p, edge) = EdgeBuffer(cpu);
        var k = Sim.KernelFilled(m, 100, 0xee);
        var r = m.Run(p, "t", () => m.Copy.CopyFromUser(k, edge - 13UL, 100));
        Assert.That(r.Value, Is.EqualTo(87UL));
        var got = Sim.ReadKernel(m, k, 100);
        Assert.That(got[..13], Is.EqualTo(Enumerable.Range(4096 - 13, 13).Select(i => (byte)(i * 3)).ToArray()));
        Assert.That(got[13..], Is.All.EqualTo((byte)0));
    }

    [Test]
    public void RawCopyFromUser_DoesNotZero()
    {
        var (m, p, edge) = EdgeBuffer();
        var k = Sim.KernelFilled(m, 100, 0xee);
        Assert.That(m.Run(p, "t", () => m.Copy.RawCopyFromUser(k, edge - 13UL, 100)).Value, Is.EqualTo(87UL));
        Assert.That(Sim.ReadKernel(m, k, 100)[13..], Is.All.EqualTo((byte)0xee));
    }

    [Test]
    public void CopyFromUser_KernelAddress_AccessOkFails_ZeroesWholeBuffer()
    {
        var (m, p, _) = EdgeBuffer();
        var k = Sim.KernelFilled(m, 64, 0xee);
        var r = m.Run(p, "t", () => m.Copy.CopyFromUser(k, new UserPtr(PageDefs.PAGE_OFFSET), 64));
        Assert.That(r.Value, Is.EqualTo(64UL));
        Assert.That(Sim.ReadKernel(m, k, 64), Is.All.EqualTo((byte)0));
    }

    [Test]
    public void CopyFromUser_OverIntMax_ReturnsNWithoutZeroing()
    {
        var (m, p, edge) = EdgeBuffer();
        var k = Sim.KernelFilled(m, 64, 0xee);
        var r = m.Run(p, "t", () => m.Copy.CopyFromUser(k, edge - 64UL, (ulong)int.MaxValue + 1));
        Assert.That(r.Value, Is.EqualTo((ulong)int.MaxValue + 1));
        Assert.That(Sim.ReadKernel(m, k, 64), Is.All.EqualTo((byte)0xee));
    }

    [Test]
    public void CopyToUser_DestinationCrossesIntoUnmappedPage_ByteExact()
    {
        var (m, p, edge) = EdgeBuffer();
        var k = Sim.KernelBuffer(m, 256);
        Assert.That(m.Run(p, "t", () => m.Copy.CopyToUser(edge - 100UL, k, 256)).Value, Is.EqualTo(156UL));
    }

    [Test]
    public void CopyToUser_WrappingRange_FailsAccessOk()
    {
        var (m, p, _) = EdgeBuffer();
        var k = Sim.KernelBuffer(m, 256);
        Assert.That(m.Run(p, "t", () => m.Copy.CopyToUser(new UserPtr(ulong.MaxValue - 10), k, 256)).Value, Is.EqualTo(256UL));
        Assert.That(CopyRoutines_AccessOk(new UserPtr(PageDefs.TASK_SIZE_MAX - 16), 16), Is.True);
        Assert.That(CopyRoutines_AccessOk(new UserPtr(PageDefs.TASK_SIZE_MAX - 16), 17), Is.False);
        Assert.That(CopyRoutines_AccessOk(new UserPtr(ulong.MaxValue), 2), Is.False);
    }

    private static bool CopyRoutines_AccessOk(UserPtr p, ulong n) => KernelSim.Arch.X86.CopyRoutines.AccessOk(p, n);

    [TestCase(0UL, 88UL)]
    [TestCase(3UL, 87UL)]
    [TestCase(4UL, 88UL)]
    [TestCase(7UL, 87UL)]
    public void CopyUserNocache_WE17_SourceP13_NotByteExact(ulong dstAlign, ulong expected)
    {
        // Worked out from copy_user_uncached_64.S (v6.4+, C6): f = 13, len 100, by destination alignment.
        var (m, p, edge) = EdgeBuffer();
        var k = Sim.KernelFilled(m, 256, 0xee);
        var r = m.Run(p, "t", () => m.Copy.CopyFromUserFlushcache(k + dstAlign, edge - 13UL, 100));
        Assert.That(r.Value, Is.EqualTo(expected));
        var copied = (int)(100 - expected);
        var got = Sim.ReadKernel(m, k + dstAlign, 100);
        Assert.That(got[copied..], Is.All.EqualTo((byte)0xee));
    }

    [TestCase(3UL, 13UL, 87UL)]
    [TestCase(7UL, 97UL, 3UL)]
    [TestCase(0UL, 8UL, 92UL)]
    [TestCase(4UL, 12UL, 88UL)]
    public void CopyUserNocache_DestinationFault_ResearchTable(ulong dstAlign, ulong g, ulong expected)
    {
        // Destination is a user page edge (copy_user_nocache toward user memory is not a kernel use, but the
        // routine's rules are the same): first inaccessible destination byte at g.
        var m = Sim.Boot();
        var p = m.Spawn();
        var two = p.MapAnonymous(3 * PageDefs.PAGE_SIZE);
        p.Munmap(two.Value + 2 * PageDefs.PAGE_SIZE, PageDefs.PAGE_SIZE);
        var edge = two + 2 * PageDefs.PAGE_SIZE;
        var dst = edge - g;
        Assert.That(dst.Value & 7, Is.EqualTo(dstAlign), "a page-edge fault at g fixes the alignment to (−g) mod 8");
        var src = Sim.KernelBuffer(m, 128);
        var r = m.Run(p, "t", () =>
        {
            using var u = m.Cpu.Uaccess();
            return ((KernelSim.Arch.X86.CopyRoutines)m.Copy).CopyUserNocache(KernelSim.Arch.X86.Space.User, dst.Value, KernelSim.Arch.X86.Space.Kernel, src.Value, 100);
        });
        Assert.That(r.Value, Is.EqualTo(expected));
    }

    [Test]
    public void ClearUser_StopsAtUnmappedPage_ByteExact()
    {
        var (m, p, edge) = EdgeBuffer();
        Assert.That(m.Run(p, "t", () => m.Copy.ClearUser(edge - 10UL, 64)).Value, Is.EqualTo(54UL));
        Assert.That(p.Peek(edge - 10UL, 10).Select(b => b!.Value), Is.All.EqualTo((byte)0));
        Assert.That(m.Run(p, "t", () => m.Copy.ClearUser(new UserPtr(ulong.MaxValue - 3), 64)).Value, Is.EqualTo(64UL));
    }

    [Test]
    public void GetUserPutUser_FaultGivesEfaultAndZero()
    {
        var (m, p, edge) = EdgeBuffer();
        var r = m.Run(p, "t", () => (m.Copy.GetUser(edge - 4UL, 8, out var v), v));
        Assert.That(r.Value, Is.EqualTo((-Errno.EFAULT, 0UL)));
        var ok = m.Run(p, "t", () => (m.Copy.GetUser(edge - 8UL, 8, out var v), v));
        Assert.That(ok.Value.Item1, Is.Zero);
        Assert.That(ok.Value.v, Is.EqualTo(BitConverter.ToUInt64(Enumerable.Range(4088, 8).Select(i => (byte)(i * 3)).ToArray())));
        Assert.That(m.Run(p, "t", () => m.Copy.PutUser(0x1122, edge - 1UL, 2)).Value, Is.EqualTo(-Errno.EFAULT));
        Assert.That(p.Peek(edge - 1UL, 1)[0], Is.EqualTo(unchecked((byte)(4095 * 3))), "no partial store");
        Assert.That(m.Run(p, "t", () => m.Copy.PutUser(0x1122, edge - 2UL, 2)).Value, Is.Zero);
        Assert.That(m.Run(p, "t", () => m.Copy.PutUser(1, new UserPtr(PageDefs.PAGE_OFFSET), 4)).Value, Is.EqualTo(-Errno.EFAULT));
        Assert.That(m.Run(p, "t", () => m.Copy.GetUser(edge - 8UL, 3, out _)).Value, Is.EqualTo(-Errno.EINVAL));
    }

    [Test]
    public void KernelMemcpyTouchingUserMemory_SmapOops_KillsTask()
    {
        var (m, p, edge) = EdgeBuffer();
        var k = Sim.KernelBuffer(m, 64);
        var r = m.Run(p, "sys_bad", () =>
        {
            // memcpy to a user pointer reinterpreted as a kernel one is impossible with typed pointers; the
            // internal raw form shows what SMAP does to a kernel access outside STAC.
            ((KernelSim.Arch.X86.CopyRoutines)m.Copy).MemcpyRaw(KernelSim.Arch.X86.Space.User, (edge - 64UL).Value, KernelSim.Arch.X86.Space.Kernel, k.Value, 8, KernelSim.Arch.X86.ExSite.Memcpy);
            return 0;
        });
        Assert.That(r.Outcome, Does.StartWith("oops: SMAP violation"));
        Assert.That(p.State, Is.EqualTo(ProcessState.Oopsed));
        Assert.That(m.State.Alive, Is.True);
        Assert.That(m.State.Tainted, Is.True);
    }
}
