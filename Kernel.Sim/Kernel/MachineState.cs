using KernelSim.Trace;

namespace KernelSim.Kernel;

/// <summary>Whether the simulated machine still runs.</summary>
public enum MachineStatus
{
    /// <summary>Running normally (possibly tainted by an oops).</summary>
    Running,
    /// <summary>panic() was called.</summary>
    Panicked,
    /// <summary>The processor shut down (a machine check while MCIP was set).</summary>
    Shutdown,
    /// <summary>The VM was stopped by its host (virtio-fs host-side faults, synchronous path).</summary>
    VmStopped,
    /// <summary>
    /// Simulator-only: the machine was released (<see cref="Machine.Dispose"/>); entering it throws
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    Released,
}

/// <summary>The machine's life state and its kernel log (dmesg).</summary>
public sealed class MachineState(Tracer tracer)
{
    private readonly List<string> _dmesg = [];

    /// <summary>Running, panicked, shut down or stopped.</summary>
    public MachineStatus Status { get; private set; } = MachineStatus.Running;

    /// <summary>The panic (or shutdown) message, null while running.</summary>
    public string? PanicMessage { get; private set; }

    /// <summary>True once an oops has happened.</summary>
    public bool Tainted { get; private set; }

    /// <summary>The kernel log, one line per printk.</summary>
    public IReadOnlyList<string> Dmesg => _dmesg;

    /// <summary>True unless panicked, shut down, stopped or released.</summary>
    public bool Alive => Status == MachineStatus.Running;

    /// <summary>printk.</summary>
    public void Printk(string line)
    {
        _dmesg.Add(line);
        tracer.Event("printk", line);
    }

    /// <summary>panic(msg): never returns.</summary>
    internal Exception Panic(string msg)
    {
        Printk($"Kernel panic - not syncing: {msg}");
        Status = MachineStatus.Panicked;
        PanicMessage = msg;
        throw new KernelPanicException(msg);
    }

    /// <summary>Processor shutdown (triple-fault-like): never returns.</summary>
    internal Exception Shutdown(string msg)
    {
        Printk(msg);
        Status = MachineStatus.Shutdown;
        PanicMessage = msg;
        throw new MachineShutdownException(msg);
    }

    /// <summary>Machine.Dispose: not alive any more (so the system-call entries take their cold path, which throws).</summary>
    internal void Release() => Status = MachineStatus.Released;

    /// <summary>The host stopped the VM (e.g. "kvm run failed Bad address").</summary>
    internal void StopVm(string msg)
    {
        Printk(msg);
        Status = MachineStatus.VmStopped;
        PanicMessage = msg;
    }

    /// <summary>An oops in process context: never returns; the task dies.</summary>
    internal Exception Oops(string msg)
    {
        Printk($"BUG: {msg}");
        Printk("Oops: 0000 [#1] SMP NOPTI");
        Tainted = true;
        throw new KernelOopsException(msg);
    }
}
