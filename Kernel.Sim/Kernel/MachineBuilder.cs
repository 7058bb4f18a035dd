using KernelSim.Arch.X86;
using KernelSim.Block;
using KernelSim.Fs;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KernelSim.Kernel;

/// <summary>
/// Composes a <see cref="Machine"/> with Microsoft.Extensions.DependencyInjection. Every component is a singleton
/// service registered with TryAdd at <see cref="Build"/>, so a service added to <see cref="Services"/> first (or
/// swapped with <c>Services.Replace</c>) wins. The seams a test may replace are the interfaces
/// <see cref="IMemoryMedia"/>, <see cref="ICopyRoutines"/>, <see cref="IErrorInjection"/>, <see cref="IWorkQueue"/>
/// and <see cref="IClockSource"/>; drivers and filesystems add theirs through extension methods (AddPmem, AddDisk,
/// AddRamFs, AddDaxFs, AddVirtioFs).
/// </summary>
public sealed class MachineBuilder
{
    private KernelProfile _profile = KernelProfile.Default;
    private CpuModel _cpu = CpuModel.FastString;
    private readonly MachineOptions _options = new();
    private readonly List<Action<Machine>> _onBoot = [];

    /// <summary>The services; add drivers and filesystems, or put a test double in for one of the seams before <see cref="Build"/>.</summary>
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
        Services.TryAddSingleton<IMemoryMedia>(sp => sp.GetRequiredService<PhysicalMemory>());
        Services.TryAddSingleton(sp => new KernelMap(sp.GetRequiredService<PhysicalMemory>(), sp.GetRequiredService<MachineState>()));
        Services.TryAddSingleton<IWorkQueue, WorkQueue>();
        Services.TryAddSingleton<IClockSource, SimClock>();
        Services.TryAddSingleton<MachineState>();
        Services.TryAddSingleton<ExceptionTable>();
        Services.TryAddSingleton<Scheduler>();
        Services.TryAddSingleton<MemoryFailure>();
        Services.TryAddSingleton<MachineCheck>();
        Services.TryAddSingleton<IErrorInjection, Einj>();
        Services.TryAddSingleton<Cpu>();
        Services.TryAddSingleton<ICopyRoutines, CopyRoutines>();
        Services.TryAddSingleton<Gup>();
        Services.TryAddSingleton<IovIterOps>();
        Services.TryAddSingleton<Usercopy>();
        Services.TryAddSingleton<ScatterlistOps>();
        Services.TryAddSingleton(sp => new Filemap(sp.GetRequiredService<KernelProfile>(), sp.GetRequiredService<Tracer>(),
            sp.GetRequiredService<Scheduler>(), sp.GetRequiredService<IovIterOps>(), sp.GetRequiredService<Gup>()));
        Services.TryAddSingleton(sp => new Vfs(sp.GetRequiredService<MachineState>(), sp.GetRequiredService<Filemap>()));
        // block/genhd.c and devtmpfs: created when a driver first adds a disk (devtmpfs mounts on /dev then).
        Services.TryAddSingleton(sp => DevTmpFs.Mount(sp.GetRequiredService<Machine>()));
        Services.TryAddSingleton(sp => new Genhd(sp.GetRequiredService<DevTmpFs>(), sp.GetServices<BlockDeviceInterceptor>()));
        Services.TryAddSingleton<Machine>();
        var sp = Services.BuildServiceProvider();
        var m = sp.GetRequiredService<Machine>();
        foreach (var a in _onBoot) a(m);
        return m;
    }

    /// <summary>The default machine: current LTS kernel, ERMS CPU, 256 MiB.</summary>
    public static Machine Default() => new MachineBuilder().Build();
}
