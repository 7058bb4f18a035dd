using KernelSim.Fs.Kernfs;
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
/// <see cref="IMemoryMedia"/>, <see cref="ICopyRoutines"/>, <see cref="IErrorInjection"/>, <see cref="IWorkQueue"/>,
/// <see cref="IClockSource"/> and <see cref="IPageCache"/>; drivers and filesystems add theirs through extension
/// methods (AddPmem, AddDisk, AddRamFs, AddDaxFs, AddVirtioFs).
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

    /// <summary>The core services through the container (TryAdd: a service registered before <see cref="Build"/> wins).</summary>
    private void AddCoreServices()
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
        Services.TryAddSingleton<IPageCache, PageCache>();
        Services.TryAddSingleton(sp => new Filemap(sp.GetRequiredService<KernelProfile>(), sp.GetRequiredService<Tracer>(),
            sp.GetRequiredService<Scheduler>(), sp.GetRequiredService<IovIterOps>(), sp.GetRequiredService<Gup>(), sp.GetRequiredService<IPageCache>()));
        Services.TryAddSingleton(sp => new Vfs(sp.GetRequiredService<MachineState>(), sp.GetRequiredService<Filemap>()));
    }

    /// <summary>The services <see cref="AddPrebuiltCore"/> creates (every TryAdd of <see cref="Build"/> before DevTmpFs).</summary>
    private static readonly HashSet<Type> CoreServiceTypes =
    [
        typeof(KernelProfile), typeof(CpuModel), typeof(MachineOptions), typeof(Tracer), typeof(PhysicalMemory), typeof(IMemoryMedia),
        typeof(KernelMap), typeof(IWorkQueue), typeof(IClockSource), typeof(MachineState), typeof(ExceptionTable), typeof(Scheduler),
        typeof(MemoryFailure), typeof(MachineCheck), typeof(IErrorInjection), typeof(Cpu), typeof(ICopyRoutines), typeof(Gup),
        typeof(IovIterOps), typeof(Usercopy), typeof(IPageCache), typeof(Filemap), typeof(Vfs), typeof(Machine),
    ];

    /// <summary>True when a caller registered (replaced) one of the core services before <see cref="Build"/>.</summary>
    private bool RegistersCoreService()
    {
        foreach (var d in Services)
            if (CoreServiceTypes.Contains(d.ServiceType)) return true;
        return false;
    }

    /// <summary>
    /// The default core, built by hand in the order the container creates it while resolving <see cref="Machine"/>
    /// (depth first, constructor parameters left to right) and registered as instances, with the machine itself
    /// as a factory. Used only when no core service was replaced, so the object graph is the one the container
    /// would build; it spares the container its per-provider reflection over constructors, most of a boot's cost.
    /// The caller removes these instance descriptors once the provider is built, so a second Build gets a new core.
    /// </summary>
    private ServiceDescriptor[] AddPrebuiltCore()
    {
        var profile = _profile;
        var cpuModel = _cpu;
        var options = _options;
        var phys = new PhysicalMemory();
        var tracer = new Tracer();
        var state = new MachineState(tracer);
        var kernelMap = new KernelMap(phys, state);
        var workQueue = new WorkQueue();
        var clock = new SimClock();
        var exTable = new ExceptionTable(profile);
        var scheduler = new Scheduler();
        var memoryFailure = new MemoryFailure(phys, scheduler, profile, state, tracer);
        var mce = new MachineCheck(profile, exTable, scheduler, memoryFailure, kernelMap, state, tracer, workQueue);
        var einj = new Einj(phys, tracer);
        var cpu = new Cpu(phys, phys, kernelMap, scheduler, exTable, mce, state, tracer);
        var copy = new CopyRoutines(cpu, cpuModel, profile, tracer);
        var gup = new Gup(copy, profile, tracer, scheduler);
        var iovIter = new IovIterOps(cpu, copy, profile, tracer, gup, state, kernelMap);
        var pageCache = new PageCache();
        var filemap = new Filemap(profile, tracer, scheduler, iovIter, gup, pageCache);
        var vfs = new Vfs(state, filemap);
        var usercopy = new Usercopy(copy, cpu, profile, state, tracer);
        ServiceDescriptor[] core =
        [
            I(profile), I(cpuModel), I(options), I(tracer), I(phys), I<IMemoryMedia>(phys), I(kernelMap), I<IWorkQueue>(workQueue),
            I<IClockSource>(clock), I(state), I(exTable), I(scheduler), I(memoryFailure), I(mce), I<IErrorInjection>(einj), I(cpu),
            I<ICopyRoutines>(copy), I(gup), I(iovIter), I(usercopy), I<IPageCache>(pageCache), I(filemap), I(vfs),
            ServiceDescriptor.Singleton(sp => new Machine(sp, profile, cpuModel, options, phys, phys, kernelMap, tracer, workQueue, clock,
                state, exTable, mce, einj, memoryFailure, cpu, copy, iovIter, gup, scheduler, vfs, usercopy)),
        ];
        foreach (var d in core) Services.Add(d);
        return core;

        static ServiceDescriptor I<T>(T instance) where T : class => ServiceDescriptor.Singleton(instance);
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
        ServiceDescriptor[] prebuilt = [];
        if (RegistersCoreService()) AddCoreServices();
        else prebuilt = AddPrebuiltCore();
        Services.TryAddSingleton<ScatterlistOps>();
        Services.TryAddSingleton<Hugetlb>();
        Services.TryAddSingleton<DropCachesState>();
        // block/genhd.c and devtmpfs: created when a driver first adds a disk (devtmpfs mounts on /dev then).
        Services.TryAddSingleton(sp => DevTmpFs.Mount(sp.GetRequiredService<Machine>()));
        Services.TryAddSingleton(sp => new Genhd(sp.GetRequiredService<DevTmpFs>(), sp.GetServices<BlockDeviceInterceptor>()));
        Services.TryAddSingleton<TransparentHugepage>();
        Services.AddSingleton<ISysfsContributor>(sp => sp.GetRequiredService<TransparentHugepage>());
        Services.TryAddSingleton(sp => Sysfs.Mount(sp.GetRequiredService<Machine>(), sp.GetServices<ISysfsContributor>()));
        Services.TryAddSingleton(sp => Procfs.Mount(sp.GetRequiredService<Machine>()));
        Services.TryAddSingleton(sp => Debugfs.Mount(sp.GetRequiredService<Machine>()));
        Services.TryAddSingleton(sp => new ShmMount(sp.GetRequiredService<Machine>()));
        Services.TryAddSingleton<Machine>();
        var sp = Services.BuildServiceProvider();
        foreach (var d in prebuilt) Services.Remove(d); // the provider keeps its own copy of the descriptors
        var m = sp.GetRequiredService<Machine>();
        foreach (var a in _onBoot) a(m);
        return m;
    }

    /// <summary>The default machine: current LTS kernel, ERMS CPU, 256 MiB.</summary>
    public static Machine Default() => new MachineBuilder().Build();
}
