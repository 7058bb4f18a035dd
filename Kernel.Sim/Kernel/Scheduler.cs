namespace KernelSim.Kernel;

/// <summary>The task list and "current" (the process whose system call or user access is executing).</summary>
public sealed class Scheduler
{
    private readonly List<Process> _processes = [];

    /// <summary>current; null when no process context (e.g. a work item).</summary>
    public Process? Current { get; internal set; }

    /// <summary>All processes, in creation order (for_each_process).</summary>
    public IReadOnlyList<Process> Processes => _processes;

    internal void Add(Process p) => _processes.Add(p);

    /// <summary>release_task: a reaped zombie leaves the task list (its pid is gone).</summary>
    internal void Remove(Process p) => _processes.Remove(p);

    /// <summary>The process owning an address space (mm-&gt;owner), or null once it is gone.</summary>
    public Process? OwnerOf(Mm.MmStruct mm)
    {
        foreach (var p in _processes) if (ReferenceEquals(p.Mm, mm)) return p;
        return null;
    }
}
