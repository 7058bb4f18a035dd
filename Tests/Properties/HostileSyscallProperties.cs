using FsCheck;
using FsCheck.Fluent;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Properties;

/// <summary>
/// Bad input never crashes the simulator: random mm system calls, user accesses and user copies with
/// hostile arguments (kernel addresses, wrapping lengths, odd flags) return a byte count or a valid
/// −errno, and never throw.
/// </summary>
public class HostileSyscallProperties
{
    private static readonly Gen<ulong> Addr = Gen.OneOf(
        Gen.Elements(0UL, 1UL, 0xfffUL, 0x1000UL, 0x10000UL, 0x7ffff7ffe000UL, PageDefs.TASK_SIZE_MAX - 1, PageDefs.TASK_SIZE_MAX,
            PageDefs.PAGE_OFFSET, ulong.MaxValue, ulong.MaxValue - 4095, 1UL << 63),
        Gen.Choose(0, int.MaxValue).Select(i => (ulong)i << 12),
        ArbMap.Default.GeneratorFor<ulong>());

    private static readonly Gen<ulong> Len = Gen.OneOf(
        Gen.Elements(0UL, 1UL, 4095UL, 4096UL, 4097UL, 1UL << 30, (ulong)int.MaxValue + 1, ulong.MaxValue, ulong.MaxValue - 4095),
        Gen.Choose(0, 1 << 16).Select(i => (ulong)i));

    private static readonly Gen<int> Flags = Gen.OneOf(Gen.Choose(-1, 0x200000), Gen.Elements(0x22, 0x21, 0x32, 0x12, 0x100022, 0x23));

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property RandomMmCallsAndCopies_NeverThrow_ReturnValidResults()
    {
        var op = from kind in Gen.Choose(0, 9)
                 from a in Addr
                 from l in Len
                 from f in Flags
                 select (kind, a, l, f);
        var plan = op.ArrayOf().Select(a => a.Take(12).ToArray());
        return Prop.ForAll(plan.ToArbitrary(), ops =>
        {
            var m = Sim.Boot();
            var p = m.Spawn("hostile");
            var k = m.Kmalloc(8192)!.Value;
            foreach (var (kind, a, l, f) in ops)
            {
                long r = kind switch
                {
                    0 => p.Mmap(a, l, f & 7, f),
                    1 => p.Munmap(a, l),
                    2 => p.Mprotect(a, l, f),
                    3 => p.Madvise(a, l, f & 0x7f),
                    4 => p.Prctl(f & 0x3f, a, l, (ulong)(f & 1)),
                    5 => (long)p.Load(new UserPtr(a), new byte[Math.Min(l, 64UL)]).Done,
                    6 => (long)p.Store(new UserPtr(a), new byte[Math.Min(l, 64UL)]).Done,
                    7 => ToLong(m.Run(p, "t", () => m.Copy.CopyFromUser(k, new UserPtr(a), Math.Min(l, 8192UL)))),
                    8 => ToLong(m.Run(p, "t", () => m.Copy.CopyToUser(new UserPtr(a), k, Math.Min(l, 8192UL)))),
                    _ => ToLong(m.Run(p, "t", () => m.Copy.ClearUser(new UserPtr(a), l))),
                };
                if (r < 0 && r != Machine.NoReturn && r < -4095) return false;
                if (!m.State.Alive) return false; // nothing here may panic the machine
            }
            return true;
        });
    }

    private static long ToLong(KernelCall<ulong> c) => c.Returned ? (long)Math.Min(c.Value, long.MaxValue) : Machine.NoReturn;
}
