using FsCheck;
using FsCheck.Fluent;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Properties;

/// <summary>
/// Invariants J1 and J3 (docs/kernel/uaccess-and-copy-routines.md) as properties: for any source offset, length and poisoned line, the
/// machine-check-safe copies (fragile and fast-string models) copy exactly max(0, P − src) bytes, write
/// nothing past them, and report the rest as remaining.
/// </summary>
public class CopyMcProperties
{
    [FsCheck.NUnit.Property(MaxTest = 60)]
    public Property CopyMcToKernel_CopiesExactlyUpToThePoisonedLine()
    {
        var gen =
            from srcOff in Gen.Choose(0, 3000)
            from len in Gen.Choose(1, 3000)
            from line in Gen.Choose(0, 95)
            from fragile in Gen.Elements(true, false)
            select (srcOff, len, line, fragile);
        return Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (srcOff, len, line, fragile) = t;
            var m = Sim.Boot("6.12", fragile ? CpuModel.Fragile : CpuModel.FastString);
            var buf = Sim.KernelBuffer(m, 8192);
            var dst = Sim.KernelFilled(m, 4096);
            var p = line * 64;
            m.InjectPoison(Sim.Pa(m, buf) + (ulong)p);
            var r = m.Run(() => m.Copy.CopyMcToKernel(dst, buf + (ulong)srcOff, (ulong)len));
            long copied = p >= srcOff + len ? len : Math.Max(0, p - srcOff);
            if (p < srcOff && p + 64 <= srcOff) copied = len; // poison entirely before the source
            var got = Sim.ReadKernel(m, dst, 4096);
            var expectPrefix = Sim.ReadKernel(m, buf + (ulong)srcOff, (int)copied);
            return r.Returned
                && r.Value == (ulong)(len - copied)
                && got.AsSpan(0, (int)copied).SequenceEqual(expectPrefix)
                && got.AsSpan((int)copied).IndexOfAnyExcept((byte)0xff) < 0;
        });
    }
}
