namespace KernelSim.Scenarios.Steps;

/// <summary>
/// Names declared so far while a scenario is parsed (actors, their mappings and file descriptors, kernel
/// buffers), so a step referring to an unknown name fails at parse time with its location.
/// </summary>
internal sealed class ParseSymbols
{
    public List<string> Actors { get; } = [];
    public Dictionary<string, HashSet<string>> Mappings { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, HashSet<string>> Fds { get; } = new(StringComparer.Ordinal);
    public HashSet<string> KernelBuffers { get; } = new(StringComparer.Ordinal);

    /// <summary>virtio-fs share names of the machine.</summary>
    public List<string> Shares { get; } = [];

    /// <summary>daxfs mount points of the machine.</summary>
    public HashSet<string> DaxMounts { get; } = new(StringComparer.Ordinal);

    /// <summary>pmem disks of the machine ("pmem0", …).</summary>
    public List<string> PmemDisks { get; } = [];

    /// <summary>Page frame numbers a pagemap step recorded with "as:" (for kpageflags, unpoison-pfn, write-file's ${name}).</summary>
    public HashSet<string> Pfns { get; } = new(StringComparer.Ordinal);

    /// <summary>The machine has persistent memory (machine.pmem), whatever its namespaces' modes.</summary>
    public bool HasPmem { get; set; }

    public void AddActor(string name)
    {
        Actors.Add(name);
        Mappings[name] = new HashSet<string>(StringComparer.Ordinal);
        Fds[name] = new HashSet<string>(StringComparer.Ordinal);
    }
}
