using KernelSim.Arch.X86;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KernelSim.Kernel;

/// <summary>
/// Composes a <see cref="Machine"/> with Microsoft.Extensions.DependencyInjection. Every component is a
/// singleton service, so tests and later layers can replace or add services before <see cref="Build"/>.
/// </summary>
public sealed class MachineBuilder
{
    private KernelProfile _profile = KernelProfile.Default;
    private CpuModel _cpu = CpuModel.FastString;
    private readonly MachineOptions _options = new();
    private readonly List<Action<Machine>> _onBoot = [];

    /// <summary>The services; add drivers and filesystems, or swap a component for a test double.</summary>
    public IServiceCollection Services { get; } = new ServiceCollection();

    /// <summary>Run a specific kernel release ("6.12").</summary>
    public MachineBuilder WithKernel(string version) => WithProfile(KernelProfile.ForVersion(version));

    /// <summary>Run a specific kernel release.</summary>
    public MachineBuilder WithKernel(KernelVersion version) => WithProfile(KernelProfile.ForVersion(version));

    /// <summary>Run a custom profile (a release with switches overridden).</summary>
    public MachineBuilder WithProfile(KernelProfile profile)
    {
        _profile = profile;
        return this;
    }

    /// <summary>Use a CPU model (see <see cref="CpuModel.Presets"/>).</summary>
    public MachineBuilder WithCpu(CpuModel cpu)
    {
        _cpu = cpu;
        return this;
    }

    /// <summary>Set the amount of DRAM.</summary>
    public MachineBuilder WithDram(ulong bytes)
    {
        _options.DramBytes = bytes;
        return this;
    }

    /// <summary>Enable tracing from boot.</summary>
    public MachineBuilder WithTrace(bool on = true)
    {
        _options.Trace = on;
        return this;
    }

    /// <summary>Choose when deferred work runs.</summary>
    public MachineBuilder WithWorkTiming(WorkTiming timing)
    {
        _options.WorkTiming = timing;
        return this;
    }

    /// <summary>Seed the deterministic generator.</summary>
    public MachineBuilder WithSeed(ulong seed)
    {
        _options.Seed = seed;
        return this;
    }

    /// <summary>Run an action on the machine once it has booted (drivers probing, filesystems mounting).</summary>
    public MachineBuilder OnBoot(Action<Machine> action)
    {
        _onBoot.Add(action);
        return this;
    }

    /// <summary>Boot the machine.</summary>
    public Machine Build()
    {
        Services.TryAddSingleton(_profile);
        Services.TryAddSingleton(_cpu);
        Services.TryAddSingleton(_options);
        Services.TryAddSingleton<Tracer>();
        Services.TryAddSingleton<PhysicalMemory>();
        Services.TryAddSingleton(sp => new KernelMap(sp.GetRequiredService<PhysicalMemory>()));
        Services.TryAddSingleton<WorkQueue>();
        Services.TryAddSingleton<MachineState>();
        Services.TryAddSingleton<ExceptionTable>();
        Services.TryAddSingleton<Scheduler>();
        Services.TryAddSingleton<MemoryFailure>();
        Services.TryAddSingleton<MachineCheck>();
        Services.TryAddSingleton<Cpu>();
        Services.TryAddSingleton<CopyRoutines>();
        Services.TryAddSingleton<Gup>();
        Services.TryAddSingleton<KernelSim.Lib.IovIterOps>();
        Services.TryAddSingleton<Machine>();
        var sp = Services.BuildServiceProvider();
        var m = sp.GetRequiredService<Machine>();
        foreach (var a in _onBoot) a(m);
        return m;
    }

    /// <summary>The default machine: current LTS kernel, ERMS CPU, 256 MiB.</summary>
    public static Machine Default() => new MachineBuilder().Build();
}
