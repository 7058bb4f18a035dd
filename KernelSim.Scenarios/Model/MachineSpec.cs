using KernelSim.Kernel;
using KernelSim.Profiles;

namespace KernelSim.Scenarios.Model;

/// <summary>The machine: release, CPU model, DRAM, when deferred work runs, seed, tracing, ramfs mounts, pmem, daxfs and virtio-fs.</summary>
public sealed record MachineSpec(
    KernelVersion Kernel,
    CpuModel Cpu,
    ulong Dram,
    WorkTiming Work,
    ulong Seed,
    bool Trace,
    bool EarlyKillSysctl,
    IReadOnlyList<RamFsSpec> Ramfs)
{
    public static MachineSpec Default { get; } = new(KernelProfile.Default.Version, CpuModel.FastString, 256UL << 20, WorkTiming.AtSyscallExit, 1, false, false, []);

    /// <summary>The pmem region and its namespaces (machine.pmem), or none.</summary>
    public PmemSpec? Pmem { get; init; }

    /// <summary>daxfs filesystems formatted and mounted at setup (machine.filesystems).</summary>
    public IReadOnlyList<DaxFsSpec> Filesystems { get; init; } = [];

    /// <summary>virtio-fs shares (machine.virtiofs).</summary>
    public IReadOnlyList<VirtioFsSpec> Virtiofs { get; init; } = [];
}
