using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Arch;

/// <summary>
/// tools/testing/nvdimm/test/nfit.c mcsafe_test (copy_mc_test from 5.10) with a real fault in place of the
/// CONFIG_MCSAFE_TEST injection: the page after a kernel buffer is made not-present with set_memory_np, so a 512-byte
/// copy whose source (INJECT_SRC) or destination (INJECT_DST) starts i bytes before it faults at exactly byte i. Each
/// raw routine is called directly, bypassing the CPU model's dispatch, for every i in [0, 512): it must return
/// 512 − i with dst[k] = (u8)k before that and 0xff after (mcsafe_test_validate). A19, A20.
/// </summary>
public class NfitCopyMcTests
{
    private const int Size = 512;
    private const ulong Page = PageDefs.PAGE_SIZE;

    public enum Inject { None, Src, Dst }

    public enum Routine { RawMemcpyMcsafe, CopyMcFragile, CopyMcEnhancedFastString }

    private static ulong Call(CopyRoutines c, Routine r, KernelPtr dst, KernelPtr src, ulong len) => r switch
    {
        Routine.RawMemcpyMcsafe => c.RawMemcpyMcsafe(dst, src, len),
        Routine.CopyMcFragile => c.CopyMcFragile(dst, src, len),
        _ => c.CopyMcEnhancedFastString(dst, src, len),
    };

    /// <summary>mcsafe_test_init + the copy + mcsafe_test_validate for one offset; returns the failures.</summary>
    private static IEnumerable<string> RunOffsets(Machine m, Routine routine, Inject inj)
    {
        var copy = (CopyRoutines)m.Copy;
        // [guard page | page A | page B]: B is unmapped for every injection but None.
        var buf = m.Kmalloc(3 * Page)!.Value;
        var b = buf + 2 * Page;
        if (inj != Inject.None) Assert.That(m.KernelMap.SetMemoryNp(b, 1), Is.Zero);
        var other = m.Kmalloc(Page)!.Value;
        var init = new byte[Size];
        for (var k = 0; k < Size; k++) init[k] = (byte)k;
        for (var i = 0; i < Size; i++)
        {
            var edge = buf + (2 * Page - (ulong)i); // i bytes before page B
            var (dst, src) = inj == Inject.Dst ? (edge, other) : (other, edge);
            var expect = inj == Inject.None ? 0UL : (ulong)(Size - i);
            // Physical pokes: the not-present page still has its frame behind it.
            m.Phys.PokeBytes(Sim.Pa(m, dst), Enumerable.Repeat((byte)0xff, Size).ToArray());
            m.Phys.PokeBytes(Sim.Pa(m, src), init);
            var r = m.Run(() => Call(copy, routine, dst, src, Size));
            if (!r.Returned) { yield return $"i={i}: {r.Outcome}"; continue; }
            var got = Sim.ReadKernel(m, dst, Size);
            var copied = Size - (int)r.Value;
            var valid = r.Value <= Size && got[..copied].SequenceEqual(init[..copied]) && got[copied..].All(x => x == 0xff);
            if (r.Value != expect || !valid) yield return $"i={i}: rem {r.Value} {(valid ? "valid" : "bad")} expect {expect}";
        }
    }

    [Test]
    public void EveryRoutine_EveryInjection_EveryOffset_Returns512MinusI(
        [Values] Routine routine, [Values] Inject inj, [Values("erms", "none")] string cpu)
    {
        CpuModel.TryGet(cpu, out var model);
        var m = Sim.Boot("6.12", model);
        Assert.That(RunOffsets(m, routine, inj).ToList(), Is.Empty);
        Assert.That(m.State.Alive, Is.True);
        Assert.That(m.Mce.Log, Is.Empty, "page faults, not machine checks");
    }

    [Test]
    public void RawMemcpyMcsafe_On418_AsNfitTestCallsIt()
    {
        var m = Sim.Boot("4.18", CpuModel.Plain); // mcsafe_key off: memcpy_mcsafe would be memcpy, __memcpy_mcsafe is not
        Assert.That(RunOffsets(m, Routine.RawMemcpyMcsafe, Inject.Src).ToList(), Is.Empty);
        Assert.That(RunOffsets(m, Routine.RawMemcpyMcsafe, Inject.Dst).ToList(), Is.Empty);
    }

    [Test]
    public void MemcpyMcsafeUnrolled_SourceFault_EfaultWithWholeHalfBlocksStored_DestinationFault_Oops()
    {
        var m = Sim.Boot("4.17", CpuModel.Plain);
        var copy = (CopyRoutines)m.Copy;
        var buf = m.Kmalloc(2 * Page)!.Value;
        Assert.That(m.KernelMap.SetMemoryNp(buf + Page, 1), Is.Zero);
        var dst = Sim.KernelFilled(m, Size);
        // src ≡ 6 (mod 8): 2 leading bytes, then 64-byte blocks; the fault at 90 is in block 1's first half (66 + 24):
        // the block's loads of words 0–2 succeed, word 3 faults before any of its stores → 66 bytes stored.
        var src = buf + (Page - 90);
        Assert.That(m.Run(() => copy.MemcpyMcsafeUnrolled(dst, src, Size)).Value, Is.EqualTo((long)-Errno.EFAULT));
        var got = Sim.ReadKernel(m, dst, Size);
        Assert.That(got[..66], Is.EqualTo(Sim.ReadKernel(m, src, 66)));
        Assert.That(got[66..], Is.All.EqualTo((byte)0xff));
        Assert.That(m.Run(() => copy.MemcpyMcsafeUnrolled(dst, buf, 64)).Value, Is.Zero);

        var r = m.Run(() => copy.MemcpyMcsafeUnrolled(buf + (Page - 8), dst, 64));
        Assert.That(r.Outcome, Does.StartWith("oops: unable to handle page fault for address: 0x" + (buf + Page).Value.ToString("x")));
    }
}
