using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace KernelSim.Kernel;

/// <summary>
/// The body of a hot system call with its arguments, run by <see cref="Machine.Syscall{TBody}(Process, string, TBody)"/>. Implemented by a
/// struct that holds no object reference (the process is passed in), so the runtime compiles the entry for that
/// struct alone and inlines the body: no delegate, and no code shared with other system calls whose argument tuples
/// look alike (a tuple holding the process made pread64 and pwrite64 share one generic entry).
/// </summary>
internal interface ISyscallBody
{
    /// <summary>The system call's body, run with <paramref name="process"/> as current.</summary>
    long Invoke(Process process);
}

public sealed partial class Machine
{
    /// <summary>
    /// <see cref="Syscall(Process, string, Func{long})"/> for a body given as a struct: the same entry checks, current,
    /// traced frame, return to user mode, syscall-exit work and outcomes (<see cref="Unwound{T}"/>), so the effects
    /// are those of the delegate form.
    /// </summary>
    internal long Syscall<TBody>(Process process, string name, TBody body) where TBody : struct, ISyscallBody
    {
        Debug.Assert(!RuntimeHelpers.IsReferenceOrContainsReferences<TBody>(), "a syscall body holding a reference is compiled as shared generic code");
        if (!State.Alive) return _released ? ThrowReleasedNoReturn() : NoReturn;
        if (!process.Alive) return NoReturn;
        var prev = Scheduler.Current;
        if (prev != process) Scheduler.Current = process;
        try
        {
            // Tracing off: no traced frame at all, and the frame's try/finally is out of line, so this hot entry has none.
            var value = Tracer.Enabled ? InvokeTraced(process, name, body) : body.Invoke(process);
            process.ReturnToUser();
            RunWorkAtSyscallExit();
            return value;
        }
        catch (KernelUnwindException e)
        {
            Unwound<long>(e, process);
            return NoReturn;
        }
        finally
        {
            if (Scheduler.Current != prev) Scheduler.Current = prev;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long ThrowReleasedNoReturn()
    {
        ThrowReleased();
        return NoReturn;
    }

    /// <summary>The system call's traced frame around its body (tracing on).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long InvokeTraced<TBody>(Process process, string name, TBody body) where TBody : struct, ISyscallBody
    {
        using var _ = Tracer.Fn(name, "syscall");
        return body.Invoke(process);
    }

    // WorkQueue when it is the machine's own (sealed: its queue is checked without an interface call), else null.
    private readonly WorkQueue? _ownWorkQueue;

    /// <summary>
    /// The system workqueue's pending items run on the way out of a system call when <see cref="WorkQueue.Timing"/>
    /// says so. The machine's own queue is asked only when it holds work (RunPending on an empty queue does nothing); a
    /// replaced <see cref="IWorkQueue"/> sees the same calls as before.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RunWorkAtSyscallExit()
    {
        if (_ownWorkQueue is { } wq)
        {
            if (wq.Pending != 0 && wq.Timing == WorkTiming.AtSyscallExit) wq.RunPending();
        }
        else if (WorkQueue.Timing == WorkTiming.AtSyscallExit) WorkQueue.RunPending();
    }

    /// <summary>
    /// What became of kernel code that did not return: the trace unwound, and for an oops or a livelock the task's state
    /// and reason (a livelock is also logged); the outcome names the panic, shutdown, VM stop, oops or livelock.
    /// </summary>
    private KernelCall<T> Unwound<T>(KernelUnwindException e, Process? process)
    {
        Tracer.UnwindAll();
        switch (e)
        {
            case KernelPanicException:
                return new KernelCall<T>(false, default!, $"panic: {e.Message}");
            case MachineShutdownException:
                return new KernelCall<T>(false, default!, $"shutdown: {e.Message}");
            case VmStoppedException:
                return new KernelCall<T>(false, default!, $"vm stopped: {e.Message}");
            case KernelOopsException:
                if (process != null)
                {
                    process.State = ProcessState.Oopsed;
                    process.StuckReason = e.Message;
                }
                return new KernelCall<T>(false, default!, $"oops: {e.Message}");
            default: // KernelLivelockException, the last of the five
                State.Printk($"livelock: {e.Message}");
                if (process != null)
                {
                    process.State = ProcessState.Livelocked;
                    process.StuckReason = e.Message;
                }
                return new KernelCall<T>(false, default!, $"livelock: {e.Message}");
        }
    }
}
