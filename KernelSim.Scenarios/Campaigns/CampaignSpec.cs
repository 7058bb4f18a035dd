using KernelSim.Profiles;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>The workloads a campaign can draw (docs/campaigns.md).</summary>
public enum WorkloadKind
{
    /// <summary>Buffered read/write/pread/pwrite/readv/writev on a ramfs (DRAM page cache) file.</summary>
    RamfsRw,
    /// <summary>Buffered I/O on /dev/pmem0 (bdev page cache, fsync).</summary>
    PmemBuffered,
    /// <summary>O_DIRECT I/O on /dev/pmem0 (512-byte aligned).</summary>
    PmemDirect,
    /// <summary>read/write on a file of a dax=always daxfs mounted from /dev/pmem0 (fs/dax.c: no page cache).</summary>
    Fsdax,
    /// <summary>read/write on a virtio-fs file (DAX window, -o dax=always) whose host side can change.</summary>
    Virtiofs,
    /// <summary>User-mode load/store mixes on an anonymous private mapping.</summary>
    MmapPrivate,
    /// <summary>User-mode load/store mixes on an anonymous shared mapping.</summary>
    MmapShared,
    /// <summary>Random system calls with hostile arguments (looks for simulator bugs).</summary>
    Hostile,
    /// <summary>O_DIRECT pread/pwrite of whole sectors on /dev/pmem0s, a sector-mode namespace (the BTT).</summary>
    Sector,
    /// <summary>User-mode loads and stores through a MAP_SHARED mapping of /dev/dax0.0 (a devdax namespace, 2 MiB align).</summary>
    Devdax,
}

/// <summary>The fault kinds a campaign can inject.</summary>
public enum FaultKind
{
    /// <summary>A latent poison line in the target (the pmem media, or the file's user buffer for DRAM workloads).</summary>
    PoisonLine,
    /// <summary>Known badblocks on /dev/pmem0 (ndctl inject-error with notify: ARS → badblocks).</summary>
    Badblocks,
    /// <summary>A page of the user buffer unmapped (munmap).</summary>
    UnmappedPage,
    /// <summary>A page of the user buffer made read-only (mprotect PROT_READ).</summary>
    ReadonlyPage,
    /// <summary>A 16-byte-granular hole inside a user buffer page (sub-page protection).</summary>
    SubpageHole,
    /// <summary>A poisoned line in the user buffer.</summary>
    PoisonedBuffer,
    /// <summary>Many poison lines at once (a machine-check storm).</summary>
    McStorm,
    /// <summary>Deferred work (NFIT badblocks update, ARS) runs only at the end (WorkQueue.Timing Manual).</summary>
    WorkTiming,
    /// <summary>A host-side truncation of the virtio-fs file (virtiofs workload only).</summary>
    HostTruncate,
}

/// <summary>A parsed campaign file.</summary>
public sealed record CampaignSpec(
    string File,
    string Name,
    string? Title,
    CpuModel Cpu,
    ulong Dram,
    ulong PmemSize,
    IReadOnlyList<KernelVersion> Profiles,
    ulong SeedFirst,
    ulong SeedLast,
    int Operations,
    bool Swarm,
    IReadOnlyList<(WorkloadKind Kind, int Weight)> Workloads,
    IReadOnlyList<(FaultKind Kind, int Weight)> Faults)
{
    /// <summary>
    /// The alignments a devdax seed's device may have (machine.devdax-align: 4K, 2M, 1G; default 2M alone). With more
    /// than one, each seed draws its own from a separate stream (<see cref="DevdaxWorkload.AlignOf"/>): the plan's
    /// draws do not change.
    /// </summary>
    public IReadOnlyList<ulong> DevdaxAligns { get; init; } = [2UL << 20];

    /// <summary>The YAML names of the workloads.</summary>
    public static readonly (string Name, WorkloadKind Kind)[] WorkloadNames =
    [
        ("ramfs", WorkloadKind.RamfsRw),
        ("pmem-buffered", WorkloadKind.PmemBuffered),
        ("pmem-direct", WorkloadKind.PmemDirect),
        ("fsdax", WorkloadKind.Fsdax),
        ("virtiofs", WorkloadKind.Virtiofs),
        ("mmap-private", WorkloadKind.MmapPrivate),
        ("mmap-shared", WorkloadKind.MmapShared),
        ("hostile", WorkloadKind.Hostile),
        ("sector", WorkloadKind.Sector),
        ("devdax", WorkloadKind.Devdax),
    ];

    /// <summary>The YAML names of the fault kinds.</summary>
    public static readonly (string Name, FaultKind Kind)[] FaultNames =
    [
        ("poison-line", FaultKind.PoisonLine),
        ("badblocks", FaultKind.Badblocks),
        ("unmapped-page", FaultKind.UnmappedPage),
        ("readonly-page", FaultKind.ReadonlyPage),
        ("subpage-hole", FaultKind.SubpageHole),
        ("poisoned-buffer", FaultKind.PoisonedBuffer),
        ("mce-storm", FaultKind.McStorm),
        ("work-timing", FaultKind.WorkTiming),
        ("host-truncate", FaultKind.HostTruncate),
    ];

    // Plain loops: Array.Find with a lambda capturing the kind allocated a closure and a delegate per call (every record names its workload).
    public static string NameOf(WorkloadKind k)
    {
        foreach (var (name, kind) in WorkloadNames)
            if (kind == k) return name;
        return null!;
    }

    public static string NameOf(FaultKind k)
    {
        foreach (var (name, kind) in FaultNames)
            if (kind == k) return name;
        return null!;
    }

    /// <summary>True when the workload uses /dev/pmem0.</summary>
    public static bool IsPmem(WorkloadKind k) => k is WorkloadKind.PmemBuffered or WorkloadKind.PmemDirect or WorkloadKind.Fsdax;

    /// <summary>True when the workload is a file workload (has a device or file model).</summary>
    public static bool IsFile(WorkloadKind k) => k is WorkloadKind.RamfsRw or WorkloadKind.PmemBuffered or WorkloadKind.PmemDirect or WorkloadKind.Fsdax or WorkloadKind.Virtiofs;

    /// <summary>
    /// A hook on every seed run's <see cref="Kernel.MachineBuilder"/>, called after the workload has added its devices
    /// and before boot: tests plant a simulator defect through a seam with it (a wrapping ICopyRoutines,
    /// IMemoryMedia, IBlockDeviceOps or IVirtioFsBackend, see docs/campaigns.md "Proving the oracle"). Not part of the
    /// campaign file; null for real campaigns.
    /// </summary>
    public Action<Kernel.MachineBuilder>? ConfigureMachine { get; init; }

    /// <summary>The seeds of the file (or of --seeds), first..last inclusive.</summary>
    public ulong SeedCount => SeedLast - SeedFirst + 1;
}
