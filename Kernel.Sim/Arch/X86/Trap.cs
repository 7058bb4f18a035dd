using KernelSim.Mm;

namespace KernelSim.Arch.X86;

/// <summary>Which address space an access goes to.</summary>
internal enum Space : byte
{
    User,
    Kernel,
}

/// <summary>What stopped an access.</summary>
internal enum TrapKind : byte
{
    None,
    /// <summary>#PF that the page-fault handler could not resolve.</summary>
    PageFault,
    /// <summary>#MC: a load consumed a poisoned cache line.</summary>
    MachineCheck,
    /// <summary>A device-window access the host could not satisfy (EPT violation on a virtio-fs DAX page); see <see cref="Trap.HostAction"/>.</summary>
    HostFault,
}

/// <summary>A trap raised by an access, as a value (dispatched to the exception table / MCE handler).</summary>
internal readonly record struct Trap(TrapKind Kind, Space Space, ulong Va, bool Write, VmFault Fault, PhysAddr Phys, bool Smap)
{
    public static readonly Trap None = default;
    /// <summary>For <see cref="TrapKind.HostFault"/>: what the host makes of it (livelock or VM stop).</summary>
    public HostFaultAction HostAction { get; init; }
    /// <summary>For <see cref="TrapKind.HostFault"/>: why the host access failed.</summary>
    public string? HostReason { get; init; }
    public bool IsNone => Kind == TrapKind.None;
}
