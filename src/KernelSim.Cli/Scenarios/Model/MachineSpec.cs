using KernelSim.Kernel;
using KernelSim.Profiles;

namespace KernelSim.Cli.Scenarios.Model;

/// <summary>The machine: release, CPU model, DRAM, when deferred work runs, seed, tracing, ramfs mounts.</summary>
internal sealed record MachineSpec(
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
}
