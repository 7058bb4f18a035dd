using KernelSim.Arch.X86;
using KernelSim.Block;
using KernelSim.Fs.Kernfs;
using Microsoft.Extensions.DependencyInjection;
using KernelSim.Fs;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;

namespace KernelSim.Kernel;

/// <summary>
/// A booted simulated machine: one x86-64 CPU, sparse physical memory, the kernel of one release and the
/// processes running on it. Build it with <see cref="MachineBuilder"/>. Kernel code runs through
/// <see cref="Run{T}(Func{T})"/> or a process's system calls, which turn panics, oopses and livelocks into
/// outcomes instead of exceptions.
/// </summary>
public sealed partial class Machine : IDisposable
{
    /// <summary>Returned by a system call that never returned (the machine panicked, the task oopsed or livelocked).</summary>
    public const long NoReturn = long.MinValue;

    private int _nextPid = 1000;

    /// <summary>Created by the builder's service provider, from the services registered in <see cref="MachineBuilder.Services"/>.</summary>
    public Machine(IServiceProvider services, KernelProfile profile, CpuModel cpuModel, MachineOptions options, PhysicalMemory phys,
        IMemoryMedia media, KernelMap kernelMap, Tracer tracer, IWorkQueue workQueue, IClockSource clock, MachineState state,
        ExceptionTable exTable, MachineCheck mce, IErrorInjection einj, MemoryFailure memoryFailure, Cpu cpu, ICopyRoutines copy,
        IovIterOps iovIter, Gup gup, Scheduler scheduler, Vfs vfs, Usercopy usercopy)
    {
        Services = services;
        Profile = profile;
        CpuModel = cpuModel;
        Options = options;
        Phys = phys;
        Media = media;
        KernelMap = kernelMap;
        Tracer = tracer;
        WorkQueue = workQueue;
        _ownWorkQueue = workQueue as WorkQueue;
        Clock = clock;
        State = state;
        ExTable = exTable;
        Mce = mce;
        Einj = einj;
        MemoryFailure = memoryFailure;
        Cpu = cpu;
        Copy = copy;
        IovIter = iovIter;
        Usercopy = usercopy;
        Gup = gup;
        Scheduler = scheduler;
        Vfs = vfs;
        Tracer.Enabled = options.Trace;
        WorkQueue.Timing = options.WorkTiming;
        // init's mounts, made on first use: /dev (devtmpfs), /sys, /sys/kernel/debug, /proc.
        Vfs.Automount("/dev", static sp => sp.GetRequiredService<DevTmpFs>(), services);
        Vfs.Automount("/sys", static sp => sp.GetRequiredService<Sysfs>(), services);
        Vfs.Automount("/sys/kernel/debug", static sp => sp.GetRequiredService<Debugfs>(), services);
        Vfs.Automount("/proc", static sp => sp.GetRequiredService<Procfs>(), services);
        Dram = Phys.Register(new PhysAddr(options.DramBase), PageDefs.PageAlign(options.DramBytes), MemoryKind.Dram, "System RAM");
        _ownsPhys = phys.Claim();
    }

    private readonly bool _ownsPhys;
    private bool _released;

    /// <summary>
    /// Before boot (the builder, or <see cref="MachineImage.Boot(FramePool?)"/>): the machine's frame storage comes from
    /// <paramref name="pool"/> and goes back there when the machine is disposed.
    /// </summary>
    internal void UseFramePool(FramePool? pool)
    {
        if (pool != null && _ownsPhys) Phys.UsePool(pool);
    }

    /// <summary>
    /// Release the machine: its frame storage goes back to the <see cref="FramePool"/> it was built with (if any), for the
    /// next machine of the same pool. Afterwards the machine is unusable: a system call, <see cref="Run{T}(Func{T})"/> or
    /// any read or write of its physical memory throws <see cref="ObjectDisposedException"/> (never bytes another machine
    /// now owns). Idempotent. A simulator-only lifetime: the kernel has no counterpart.
    /// </summary>
    public void Dispose()
    {
        if (_released) return;
        _released = true;
        State.Release();
        if (_ownsPhys) Phys.Release();
    }

    /// <summary>
    /// The DI container the machine was built from: drivers and filesystems registered by the builder's Add…
    /// methods are singletons here (e.g. <c>machine.Services.GetRequiredService&lt;Genhd&gt;()</c>).
    /// </summary>
    public IServiceProvider Services { get; }
    /// <summary>The kernel release and its behaviour switches.</summary>
    public KernelProfile Profile { get; }
    /// <summary>The CPU model (ERMS, fragile quirk, …).</summary>
    public CpuModel CpuModel { get; }
    /// <summary>Boot options.</summary>
    public MachineOptions Options { get; }
    /// <summary>Physical memory.</summary>
    public PhysicalMemory Phys { get; }
    /// <summary>The memory media's poison state, as the CPU's loads see it (<see cref="PhysicalMemory"/> unless replaced).</summary>
    public IMemoryMedia Media { get; }
    /// <summary>The System RAM range.</summary>
    public PhysRange Dram { get; }
    /// <summary>The kernel direct map and ioremap windows.</summary>
    public KernelMap KernelMap { get; }
    /// <summary>The tracer (off unless enabled).</summary>
    public Tracer Tracer { get; }
    /// <summary>The deferred-work queue.</summary>
    public IWorkQueue WorkQueue { get; }
    /// <summary>The monotonic clock (simulated time).</summary>
    public IClockSource Clock { get; }
    /// <summary>Running / panicked, and dmesg.</summary>
    public MachineState State { get; }
    /// <summary>The exception table.</summary>
    public ExceptionTable ExTable { get; }
    /// <summary>The machine-check handler and its log.</summary>
    public MachineCheck Mce { get; }
    /// <summary>The error-injection source (ACPI EINJ unless replaced).</summary>
    public IErrorInjection Einj { get; }
    /// <summary>mm/memory-failure.c.</summary>
    public MemoryFailure MemoryFailure { get; }
    /// <summary>The CPU (memory access, pagefault_disable, SMAP).</summary>
    public Cpu Cpu { get; }
    /// <summary>The x86 copy routines (<see cref="CopyRoutines"/> unless replaced).</summary>
    public ICopyRoutines Copy { get; }
    /// <summary>lib/iov_iter.c: iterator copies and helpers.</summary>
    public IovIterOps IovIter { get; }
    /// <summary>check_zeroed_user, copy_struct_from_user, strncpy_from_user, strnlen_user (lib/usercopy.c and friends).</summary>
    public Usercopy Usercopy { get; }
    /// <summary>mm/gup.c: fault_in_* and get_user_pages_fast.</summary>
    public Gup Gup { get; }
    /// <summary>The VFS: mount table, path walk and mm/filemap.c.</summary>
    public Vfs Vfs { get; }
    /// <summary>Processes and current.</summary>
    public Scheduler Scheduler { get; }
    /// <summary>current.</summary>
    public Process? Current => Scheduler.Current;

    /// <summary>Start a new process (fork+exec of an empty program) with an empty address space.</summary>
    public Process Spawn(string comm = "app")
    {
        var p = new Process(this, _nextPid++, comm);
        Scheduler.Add(p);
        return p;
    }

    /// <summary>kmalloc/alloc_pages: physically contiguous, zeroed DRAM in the direct map; null when out of memory.</summary>
    public KernelPtr? Kmalloc(ulong size)
    {
        var pages = (int)(PageDefs.PageAlign(Math.Max(size, 1)) >> PageDefs.PAGE_SHIFT);
        var pfn = Phys.AllocContiguous(pages);
        if (pfn < 0) return null;
        for (var i = 0; i < pages; i++) Phys.Frame((ulong)pfn + (ulong)i).Flags |= PageFlags.PG_reserved;
        return KernelPtr.FromPhys(PhysAddr.FromPfn((ulong)pfn));
    }

    /// <summary>
    /// ACPI EINJ error type 0x10 (memory uncorrectable non-fatal) with notrigger: latent poison in the line
    /// holding pa. Returns 0 or −EINVAL.
    /// </summary>
    public int InjectPoison(PhysAddr pa) => Einj.InjectPoison(pa);

    /// <summary>Run kernel code with no process context.</summary>
    public KernelCall<T> Run<T>(Func<T> body) => Run(null, "kernel", body);

    /// <summary>
    /// Run kernel code in the context of <paramref name="process"/> (as a system call): afterwards the
    /// process returns to user space (task work, then signals) and deferred work runs per
    /// <see cref="WorkQueue.Timing"/>. Panics, oopses, livelocks and shutdowns become the outcome.
    /// </summary>
    public KernelCall<T> Run<T>(Process? process, string name, Func<T> body) => Run(process, name, body, static b => b());

    /// <summary>
    /// <see cref="Run{T}(Process?, string, Func{T})"/> with the body's arguments passed as <paramref name="state"/>, so hot
    /// system calls can use a static lambda instead of allocating a closure per call.
    /// </summary>
    internal KernelCall<T> Run<TState, T>(Process? process, string name, TState state, Func<TState, T> body)
        where TState : allows ref struct
    {
        if (!State.Alive)
        {
            if (_released) ThrowReleased();
            return new KernelCall<T>(false, default!, $"machine is {State.Status.ToString().ToLowerInvariant()}: {State.PanicMessage}");
        }
        if (process is { Alive: false }) return new KernelCall<T>(false, default!, $"process {process.Pid} is {process.State.ToString().ToLowerInvariant()}");
        var prev = Scheduler.Current;
        if (prev != process) Scheduler.Current = process;
        try
        {
            T value;
            if (!Tracer.Enabled) value = body(state); // tracing off: no traced frame at all
            else
            {
                using (Tracer.Fn(name, "syscall")) value = body(state);
            }
            process?.ReturnToUser();
            RunWorkAtSyscallExit();
            return new KernelCall<T>(true, value, null);
        }
        catch (KernelUnwindException e)
        {
            return Unwound<T>(e, process);
        }
        finally
        {
            if (Scheduler.Current != prev) Scheduler.Current = prev;
        }
    }

    /// <summary>A system call: <see cref="Run{T}(Process?, string, Func{T})"/> returning the value or <see cref="NoReturn"/>.</summary>
    public long Syscall(Process process, string name, Func<long> body)
    {
        var r = Run(process, name, body);
        return r.Returned ? r.Value : NoReturn;
    }

    /// <summary><see cref="Syscall(Process, string, Func{long})"/> with explicit state (no closure per call).</summary>
    internal long Syscall<TState>(Process process, string name, TState state, Func<TState, long> body)
    {
        var r = Run(process, name, state, body);
        return r.Returned ? r.Value : NoReturn;
    }

    /// <summary>The trace so far in ftrace function_graph text.</summary>
    public string TraceText() => FunctionGraphText.Render(Tracer.Records);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    internal static void ThrowReleased() => throw new ObjectDisposedException(nameof(Machine), "the machine was released (Machine.Dispose)");

    /// <summary>One line describing the machine ("6.12 erms 256 MiB").</summary>
    public override string ToString() => $"Linux {Profile.Version} ({Profile.Era}) cpu={CpuModel.Name} dram={Dram.Size >> 20} MiB";

}
