namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// nanosleep(2) / a poll(2) that times out (kernel/time/hrtimer.c hrtimer_nanosleep): the caller leaves the CPU for
    /// <paramref name="ns"/> nanoseconds of simulated time. While it sleeps the kernel's worker threads get the CPU, so
    /// the deferred work queued so far runs (also with <see cref="WorkTiming.Manual"/>, which only stops work from
    /// running at system-call exit). Returns 0.
    /// </summary>
    public long Nanosleep(ulong ns) => Machine.Syscall(this, "sys_nanosleep", () =>
    {
        Machine.Clock.Advance(TimeSpan.FromTicks((long)Math.Min(ns / 100, (ulong)TimeSpan.MaxValue.Ticks)));
        Machine.WorkQueue.RunPending();
        return 0;
    });
}
