using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Infrastructure;

/// <summary>Shared helpers for building machines and buffers in tests.</summary>
public static class Sim
{
    /// <summary>A machine on a given release and CPU model.</summary>
    public static Machine Boot(string kernel = "6.12", CpuModel? cpu = null, bool trace = false) =>
        new MachineBuilder().WithKernel(kernel).WithCpu(cpu ?? CpuModel.FastString).WithTrace(trace).Build();

    /// <summary>The CPU model presets as NUnit test cases.</summary>
    public static IEnumerable<CpuModel> Cpus => CpuModel.Presets;

    /// <summary>A kernel buffer filled with a pattern (i * 7 + seed), written through physical memory.</summary>
    public static KernelPtr KernelBuffer(Machine m, ulong len, byte seed = 1)
    {
        var p = m.Kmalloc(len) ?? throw new InvalidOperationException("out of memory");
        var data = new byte[len];
        for (ulong i = 0; i < len; i++) data[i] = (byte)(i * 7 + seed);
        m.Phys.PokeBytes(m.KernelMap.Pa(p)!.Value, data);
        return p;
    }

    /// <summary>A kernel buffer filled with 0xff (the nfit_test copy_mc_test destination).</summary>
    public static KernelPtr KernelFilled(Machine m, ulong len, byte value = 0xff)
    {
        var p = m.Kmalloc(len) ?? throw new InvalidOperationException("out of memory");
        m.Phys.PokeBytes(m.KernelMap.Pa(p)!.Value, Enumerable.Repeat(value, (int)len).ToArray());
        return p;
    }

    /// <summary>Read kernel memory through physical memory (no CPU semantics).</summary>
    public static byte[] ReadKernel(Machine m, KernelPtr p, int len)
    {
        var b = new byte[len];
        m.Phys.PeekBytes(m.KernelMap.Pa(p)!.Value, b);
        return b;
    }

    /// <summary>The physical address behind a kernel pointer.</summary>
    public static PhysAddr Pa(Machine m, KernelPtr p) => m.KernelMap.Pa(p)!.Value;

    /// <summary>A 6.12 machine, a process on it and its sysfs (kernfs tests).</summary>
    public static (Machine M, Process P, Sysfs Sys) BootWithSysfs()
    {
        var m = Boot("6.12");
        return (m, m.Spawn("t"), m.Services.GetRequiredService<Sysfs>());
    }

    /// <summary>cat(1): the text of <paramref name="path"/> as the process reads it; the read must succeed.</summary>
    public static string Cat(Process p, string path)
    {
        Assert.That(p.ReadText(path, out var t), Is.Zero, path);
        return t;
    }
}
