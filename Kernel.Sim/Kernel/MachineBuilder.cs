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

    /// <summary>
    /// Take the machine's frame storage from <paramref name="pool"/>, and give it back there when the machine is disposed
    /// (<see cref="Machine.Dispose"/>): a thread that builds machine after machine (a campaign worker) reuses the arrays
    /// instead of making garbage. Also the default pool of a <see cref="Prepare"/>d image's machines. The machine is the
    /// same byte for byte with or without a pool.
    /// </summary>
    public MachineBuilder WithFramePool(FramePool? pool)
    {
        _framePool = pool;
        return this;
    }

    private FramePool? _framePool;

    /// <summary>Seed the deterministic generator.</summary>
    public MachineBuilder WithSeed(ulong seed)
    {
        _options.Seed = seed;
        return this;
    }

    /// <summary>The core services through the container (TryAdd: a service registered before <see cref="Build"/> wins).</summary>
    private void AddCoreServices() => AddCoreServices(Services);

    /// <summary>The core services the container composes by reflection, added to <paramref name="services"/> with TryAdd.</summary>
    private void AddCoreServices(IServiceCollection services)
    {
        services.TryAddSingleton(_profile);
        services.TryAddSingleton(_cpu);
        services.TryAddSingleton(_options);
        services.TryAddSingleton<Tracer>();
        services.TryAddSingleton<PhysicalMemory>();
        services.TryAddSingleton<IMemoryMedia>(sp => sp.GetRequiredService<PhysicalMemory>());
        services.TryAddSingleton(sp => new KernelMap(sp.GetRequiredService<PhysicalMemory>(), sp.GetRequiredService<MachineState>()));
        services.TryAddSingleton<IWorkQueue, WorkQueue>();
        services.TryAddSingleton<IClockSource, SimClock>();
        services.TryAddSingleton<MachineState>();
        services.TryAddSingleton<ExceptionTable>();
        services.TryAddSingleton<Scheduler>();
        services.TryAddSingleton<MemoryFailure>();
        services.TryAddSingleton<MachineCheck>();
        services.TryAddSingleton<IErrorInjection, Einj>();
        services.TryAddSingleton<Cpu>();
        services.TryAddSingleton<ICopyRoutines, CopyRoutines>();
        services.TryAddSingleton<Gup>();
        services.TryAddSingleton<IovIterOps>();
        services.TryAddSingleton<Usercopy>();
        services.TryAddSingleton<IPageCache, PageCache>();
        services.TryAddSingleton(sp => new Filemap(sp.GetRequiredService<KernelProfile>(), sp.GetRequiredService<Tracer>(),
            sp.GetRequiredService<Scheduler>(), sp.GetRequiredService<IovIterOps>(), sp.GetRequiredService<Gup>(), sp.GetRequiredService<IPageCache>()));
        services.TryAddSingleton(sp => new Vfs(sp.GetRequiredService<MachineState>(), sp.GetRequiredService<Filemap>()));
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
        var c = new DefaultCore(_profile, _cpu, _options);
        ServiceDescriptor[] core =
        [
            I(c.Profile), I(c.CpuModel), I(c.Options), I(c.Tracer), I(c.Phys), I<IMemoryMedia>(c.Phys), I(c.KernelMap), I<IWorkQueue>(c.WorkQueue),
            I<IClockSource>(c.Clock), I(c.State), I(c.ExTable), I(c.Scheduler), I(c.MemoryFailure), I(c.Mce), I<IErrorInjection>(c.Einj), I(c.Cpu),
            I<ICopyRoutines>(c.Copy), I(c.Gup), I(c.IovIter), I(c.Usercopy), I<IPageCache>(c.PageCache), I(c.Filemap), I(c.Vfs),
            ServiceDescriptor.Singleton(c.NewMachine),
        ];
        foreach (var d in core) Services.Add(d);
        return core;

        static ServiceDescriptor I<T>(T instance) where T : class => ServiceDescriptor.Singleton(instance);
    }

    /// <summary>
    /// The default core of one machine, created in the order the container would create it (see
    /// <see cref="AddPrebuiltCore"/>); a <see cref="MachineImage"/> makes one per machine in the machine's scope. A struct:
    /// the holder of the core's objects is not garbage of every boot.
    /// </summary>
    private readonly struct DefaultCore
    {
        public readonly KernelProfile Profile;
        public readonly CpuModel CpuModel;
        public readonly MachineOptions Options;
        public readonly PhysicalMemory Phys;
        public readonly Tracer Tracer;
        public readonly MachineState State;
        public readonly KernelMap KernelMap;
        public readonly WorkQueue WorkQueue;
        public readonly SimClock Clock;
        public readonly ExceptionTable ExTable;
        public readonly Scheduler Scheduler;
        public readonly MemoryFailure MemoryFailure;
        public readonly MachineCheck Mce;
        public readonly Einj Einj;
        public readonly Cpu Cpu;
        public readonly CopyRoutines Copy;
        public readonly Gup Gup;
        public readonly IovIterOps IovIter;
        public readonly PageCache PageCache;
        public readonly Filemap Filemap;
        public readonly Vfs Vfs;
        public readonly Usercopy Usercopy;

        public DefaultCore(KernelProfile profile, CpuModel cpuModel, MachineOptions options)
        {
            Profile = profile;
            CpuModel = cpuModel;
            Options = options;
            Phys = new PhysicalMemory();
            Tracer = new Tracer();
            State = new MachineState(Tracer);
            KernelMap = new KernelMap(Phys, State);
            WorkQueue = new WorkQueue();
            Clock = new SimClock();
            ExTable = new ExceptionTable(profile);
            Scheduler = new Scheduler();
            MemoryFailure = new MemoryFailure(Phys, Scheduler, profile, State, Tracer);
            Mce = new MachineCheck(profile, ExTable, Scheduler, MemoryFailure, KernelMap, State, Tracer, WorkQueue);
            Einj = new Einj(Phys, Tracer);
            Cpu = new Cpu(Phys, Phys, KernelMap, Scheduler, ExTable, Mce, State, Tracer);
            Copy = new CopyRoutines(Cpu, cpuModel, profile, Tracer);
            Gup = new Gup(Copy, profile, Tracer, Scheduler);
            IovIter = new IovIterOps(Cpu, Copy, profile, Tracer, Gup, State, KernelMap);
            PageCache = new PageCache();
            Filemap = new Filemap(profile, Tracer, Scheduler, IovIter, Gup, PageCache);
            Vfs = new Vfs(State, Filemap);
            Usercopy = new Usercopy(Copy, Cpu, profile, State, Tracer);
        }

        /// <summary>The machine on this core, whose <see cref="Machine.Services"/> is <paramref name="sp"/>.</summary>
        public Machine NewMachine(IServiceProvider sp) => new(sp, Profile, CpuModel, Options, Phys, Phys, KernelMap, Tracer, WorkQueue, Clock,
            State, ExTable, Mce, Einj, MemoryFailure, Cpu, Copy, IovIter, Gup, Scheduler, Vfs, Usercopy);

        /// <summary>
        /// Scoped registrations of every core service: the machine's scoped factory makes its core (one per scope, i.e. per
        /// machine) and each core service is that machine's object, so booting resolves one service instead of ~20.
        /// </summary>
        public static void AddScoped(IServiceCollection services, KernelProfile profile, CpuModel cpuModel, MachineOptions options)
        {
            services.AddSingleton(profile);
            services.AddSingleton(cpuModel);
            services.AddScoped(sp => new DefaultCore(profile, cpuModel, options.Clone()).NewMachine(sp));
            Add(services, m => m.Options);
            Add(services, m => m.Tracer);
            Add(services, m => m.Phys);
            Add(services, m => m.Media);
            Add(services, m => m.KernelMap);
            Add(services, m => m.WorkQueue);
            Add(services, m => m.Clock);
            Add(services, m => m.State);
            Add(services, m => m.ExTable);
            Add(services, m => m.Scheduler);
            Add(services, m => m.MemoryFailure);
            Add(services, m => m.Mce);
            Add(services, m => m.Einj);
            Add(services, m => m.Cpu);
            Add(services, m => m.Copy);
            Add(services, m => m.Gup);
            Add(services, m => m.IovIter);
            Add(services, m => m.Usercopy);
            Add(services, m => m.Vfs.Filemap.PageCache);
            Add(services, m => m.Vfs.Filemap);
            Add(services, m => m.Vfs);

            static void Add<T>(IServiceCollection s, Func<Machine, T> get) where T : class =>
                s.AddScoped(sp => get(sp.GetRequiredService<Machine>()));
        }
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
        AddSystemServices(Services);
        var sp = Services.BuildServiceProvider();
        foreach (var d in prebuilt) Services.Remove(d); // the provider keeps its own copy of the descriptors
        var m = sp.GetRequiredService<Machine>();
        m.UseFramePool(_framePool);
        foreach (var a in _onBoot) a(m);
        return m;
    }

    /// <summary>The services every machine has besides the core: mounts made on first use, genhd, THP, hugetlb.</summary>
    private static void AddSystemServices(IServiceCollection services)
    {
        services.TryAddSingleton<ScatterlistOps>();
        services.TryAddSingleton<Hugetlb>();
        services.TryAddSingleton<DropCachesState>();
        // block/genhd.c and devtmpfs: created when a driver first adds a disk (devtmpfs mounts on /dev then).
        services.TryAddSingleton(sp => DevTmpFs.Mount(sp.GetRequiredService<Machine>()));
        services.TryAddSingleton(sp => new Genhd(sp.GetRequiredService<DevTmpFs>(), sp.GetServices<BlockDeviceInterceptor>()));
        services.TryAddSingleton<TransparentHugepage>();
        services.AddSingleton<ISysfsContributor>(sp => sp.GetRequiredService<TransparentHugepage>());
        services.TryAddSingleton(sp => Sysfs.Mount(sp.GetRequiredService<Machine>(), sp.GetServices<ISysfsContributor>()));
        services.TryAddSingleton(sp => Procfs.Mount(sp.GetRequiredService<Machine>()));
        services.TryAddSingleton(sp => Debugfs.Mount(sp.GetRequiredService<Machine>()));
        services.TryAddSingleton(sp => new ShmMount(sp.GetRequiredService<Machine>()));
        services.TryAddSingleton<Machine>();
    }

    /// <summary>
    /// Prepare an image of the machine this builder describes: the container is composed once (one root
    /// <see cref="IServiceProvider"/> for the image) and every machine <see cref="MachineImage.Boot()"/> starts lives in
    /// its own scope of it, where each service registered here as a singleton (by type or factory) is created once per
    /// machine; objects registered as instances are shared by all the image's machines. The kernel, CPU and
    /// <see cref="MachineOptions"/> are fixed now: later changes to this builder do not reach the image. A machine booted
    /// from the image is the machine <see cref="Build"/> would have booted.
    /// </summary>
    public MachineImage Prepare()
    {
        var all = new ServiceCollection();
        foreach (var d in Services) all.Add(d);
        var options = _options.Clone();
        if (RegistersCoreService())
        {
            // The caller's core services, completed by the container's defaults (as Build's AddCoreServices does).
            all.TryAdd(ServiceDescriptor.Scoped(_ => options.Clone()));
            AddCoreServices(all);
        }
        else
        {
            DefaultCore.AddScoped(all, _profile, _cpu, options);
        }
        AddSystemServices(all);
        var perMachine = new ServiceCollection();
        foreach (var d in all) perMachine.Add(PerMachine(d));
        return new MachineImage(perMachine.BuildServiceProvider(), [.. _onBoot], _framePool);
    }

    /// <summary>A singleton made by type or factory becomes scoped (one per machine); instances and scoped services stay.</summary>
    private static ServiceDescriptor PerMachine(ServiceDescriptor d)
    {
        if (d.Lifetime != ServiceLifetime.Singleton) return d;
        if (d.IsKeyedService)
        {
            if (d.KeyedImplementationFactory != null) return new ServiceDescriptor(d.ServiceType, d.ServiceKey, d.KeyedImplementationFactory, ServiceLifetime.Scoped);
            if (d.KeyedImplementationType != null) return new ServiceDescriptor(d.ServiceType, d.ServiceKey, d.KeyedImplementationType, ServiceLifetime.Scoped);
            return d;
        }
        if (d.ImplementationFactory != null) return new ServiceDescriptor(d.ServiceType, d.ImplementationFactory, ServiceLifetime.Scoped);
        if (d.ImplementationType != null) return new ServiceDescriptor(d.ServiceType, d.ImplementationType, ServiceLifetime.Scoped);
        return d;
    }

    /// <summary>The default machine: current LTS kernel, ERMS CPU, 256 MiB.</summary>
    public static Machine Default() => new MachineBuilder().Build();
}
