namespace KernelSim.Kernel;

/// <summary>When deferred kernel work (schedule_work) runs.</summary>
public enum WorkTiming
{
    /// <summary>At the end of each system call or user access (the worker thread got the CPU right away).</summary>
    AtSyscallExit,
    /// <summary>Only when a scenario or test calls <see cref="WorkQueue.RunPending"/> (the worker was slow).</summary>
    Manual,
}

/// <summary>
/// The system workqueue, made deterministic: work items run in FIFO order at a point chosen by
/// <see cref="Timing"/>, never concurrently.
/// </summary>
public sealed class WorkQueue : IWorkQueue
{
    private readonly Queue<(string Name, Action Work)> _queue = new();

    /// <summary>When pending work runs.</summary>
    public WorkTiming Timing { get; set; } = WorkTiming.AtSyscallExit;

    /// <summary>Number of items waiting.</summary>
    public int Pending => _queue.Count;

    /// <summary>Names of waiting items, in order.</summary>
    public IEnumerable<string> PendingNames => _queue.Select(w => w.Name);

    /// <summary>schedule_work.</summary>
    public void Schedule(string name, Action work) => _queue.Enqueue((name, work));

    /// <summary>Run everything queued (including work queued while running). Returns the count run.</summary>
    public int RunPending()
    {
        var n = 0;
        while (_queue.Count > 0)
        {
            var (_, work) = _queue.Dequeue();
            work();
            n++;
        }
        return n;
    }
}
