using BenchmarkDotNet.Attributes;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Bench;

/// <summary>
/// The cost of one experiment through the public API, the unit a QEMU run with emulated NVDIMMs is compared with:
/// <see cref="Boot"/> is a 6.12 machine with one 64 MiB fsdax namespace; <see cref="Experiment"/> boots it,
/// formats and mounts a dax=always daxfs, writes 64 KiB, injects a latent poisoned line at file byte 4160 and
/// checks that an 8 KiB pread stops there (4160, as in docs/fsdax.md's example). The user buffer is written with
/// one user-mode store of a prepared pattern (Process.Store) rather than Process.Fill, whose per-byte callback is
/// host-side test setup, not simulation. <see cref="BootFromImage"/> and <see cref="ExperimentFromImage"/> do the same
/// on machines booted from one <see cref="MachineImage"/> (<see cref="MachineBuilder.Prepare"/>, made once in setup).
/// </summary>
[MemoryDiagnoser]
public class ExperimentBenchmarks
{
    private const int Len = 64 * 1024;
    private static readonly byte[] Pattern = Enumerable.Range(0, Len).Select(i => (byte)i).ToArray();

    private MachineImage _image = null!;

    [GlobalSetup]
    public void Setup()
    {
        _image = Builder().Prepare();
        if (Experiment() != 4160) throw new InvalidOperationException("the experiment did not read 4160 bytes");
        if (ExperimentFromImage() != 4160) throw new InvalidOperationException("the experiment from the image did not read 4160 bytes");
    }

    private static MachineBuilder Builder() => new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString)
        .AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs();

    /// <summary>Boot only: build the machine with its pmem namespace (NFIT, nd_pmem probe).</summary>
    [Benchmark]
    public Machine Boot() => Builder().Build();

    /// <summary>Boot, mkfs + mount, write 64 KiB, poison a line, pread and check the short count.</summary>
    [Benchmark]
    public long Experiment() => Run(Builder().Build());

    /// <summary>Boot only, from the prepared image: the container is composed once, the machine lives in its own scope.</summary>
    [Benchmark]
    public Machine BootFromImage() => _image.Boot();

    /// <summary><see cref="Experiment"/> on a machine booted from the prepared image.</summary>
    [Benchmark]
    public long ExperimentFromImage() => Run(_image.Boot());

    private static long Run(Machine m)
    {
        var pmem = m.Pmem();
        var fs = DaxFs.FormatAndMount(m, pmem.Disk, new DaxFsOptions { Dax = DaxMode.Always });
        var p = m.Spawn("app");
        var buf = p.MapAnonymous(Len);
        if (p.Store(buf, Pattern).Done != Len) throw new InvalidOperationException("store");
        var fd = (int)p.Open(fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        if (p.Pwrite64(fd, buf, Len, 0) != Len) throw new InvalidOperationException("pwrite");
        if (m.InjectPoison(new PhysAddr(pmem.DataPhys((ulong)fs.DeviceOffsetOf("F", 4160)))) != 0) throw new InvalidOperationException("einj");
        return p.Pread64(fd, buf, 8192, 0);
    }
}
