namespace KernelSim.Kernel;

/// <summary>
/// The system workqueue as its users see it (kernel/workqueue.c: schedule_work, and flush_scheduled_work to run
/// what is pending). <see cref="WorkQueue"/> is the deterministic implementation; a double can record or hold
/// back deferred work (memory_failure's queue, NFIT notifications, ARS completion, the virtio-fs DAX reclaim worker).
/// </summary>
public interface IWorkQueue
{
    /// <summary>When pending work runs.</summary>
    WorkTiming Timing { get; set; }

    /// <summary>Number of items waiting.</summary>
    int Pending { get; }

    /// <summary>Names of waiting items, in order.</summary>
    IEnumerable<string> PendingNames { get; }

    /// <summary>schedule_work.</summary>
    void Schedule(string name, Action work);

    /// <summary>Run everything queued (including work queued while running). Returns the count run.</summary>
    int RunPending();
}
