using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;

namespace KernelSim.Bench;

/// <summary>
/// A booted 6.12 machine on an ERMS CPU with one process whose context is made "current" directly
/// (Scheduler.Current is internal; InternalsVisibleTo Bench), so the benchmarks call the copy routines
/// without the Machine.Run wrapper. Only the fault-free path is measured: setup pre-faults every user
/// page and writes every kernel page, and <see cref="Expect"/> checks that a copy moved every byte.
/// </summary>
internal sealed class BenchMachine
{
    public Machine Machine { get; }
    public Process Process { get; }

    public BenchMachine(string kernel = "6.12")
    {
        Machine = new MachineBuilder().WithKernel(kernel).WithCpu(CpuModel.FastString).Build();
        Process = Machine.Spawn("bench");
        Machine.Scheduler.Current = Process;
    }

    /// <summary>A kmalloc'd kernel buffer with every frame written (a pattern), so its storage exists.</summary>
    public KernelPtr KernelBuffer(int len, byte seed)
    {
        var p = Machine.Kmalloc((ulong)len) ?? throw new InvalidOperationException("out of memory");
        var data = new byte[len];
        for (var i = 0; i < len; i++) data[i] = (byte)(i * 7 + seed);
        Machine.Phys.PokeBytes(Machine.KernelMap.Pa(p)!.Value, data);
        return p;
    }

    /// <summary>An anonymous private mapping, every page faulted in writable by user-mode stores.</summary>
    public UserPtr UserBuffer(int len, byte seed)
    {
        var u = Process.MapAnonymous((ulong)len);
        var r = Process.Fill(u, (ulong)len, i => (byte)(i * 13 + seed));
        if (r.Done != (ulong)len) throw new InvalidOperationException($"prefault of user buffer failed: {r}");
        Machine.Scheduler.Current = Process; // Mmap/Fill ran through Machine.Run, which restores the previous current
        return u;
    }

    /// <summary>Fail setup if a copy did not complete (the benchmark would measure a fault path).</summary>
    public static void Expect(ulong notCopied, string what)
    {
        if (notCopied != 0) throw new InvalidOperationException($"{what}: {notCopied} bytes not copied; the benchmark must be fault-free");
    }
}
