namespace KernelSim.Kernel;

/// <summary>Boot parameters of a machine that are not part of the kernel profile.</summary>
public sealed class MachineOptions
{
    /// <summary>Bytes of DRAM ("System RAM"), page multiple. Default 256 MiB (sparse: costs only what is touched).</summary>
    public ulong DramBytes { get; set; } = 256UL << 20;

    /// <summary>Physical address where DRAM starts (the first MiB is left to firmware, as on a PC).</summary>
    public ulong DramBase { get; set; } = 1UL << 20;

    /// <summary>Seed of the project's deterministic random generator (used by campaigns and scenarios).</summary>
    public ulong Seed { get; set; } = 1;

    /// <summary>When deferred work (the NFIT badblocks update, reclaim workers) runs.</summary>
    public WorkTiming WorkTiming { get; set; } = WorkTiming.AtSyscallExit;

    /// <summary>Whether tracing starts enabled.</summary>
    public bool Trace { get; set; }

    /// <summary>A copy (each machine of a <see cref="MachineImage"/> gets its own).</summary>
    internal MachineOptions Clone() => (MachineOptions)MemberwiseClone();
}
