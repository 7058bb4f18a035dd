namespace KernelSim.Kernel;

/// <summary>
/// A task that never comes back from the kernel: it sleeps uninterruptibly on something that is never released
/// (what kernel/hung_task.c check_hung_task reports as "task … blocked for more than 120 seconds") or spins
/// without progress (the soft-lockup watchdog). The model does not wait: the exception unwinds to the syscall
/// boundary, where <see cref="Machine.Run{T}(Process?, string, Func{T})"/> records the task as livelocked.
/// </summary>
public static class HungTask
{
    /// <summary>The exception to throw when the current task can never return (<c>throw HungTask.Blocked("…")</c>).</summary>
    public static Exception Blocked(string reason) => new KernelLivelockException(reason);
}
