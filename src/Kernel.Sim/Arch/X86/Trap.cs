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
}

/// <summary>A trap raised by an access, as a value (dispatched to the exception table / MCE handler).</summary>
internal readonly record struct Trap(TrapKind Kind, Space Space, ulong Va, bool Write, VmFault Fault, PhysAddr Phys, bool Smap)
{
    public static readonly Trap None = default;
    public bool IsNone => Kind == TrapKind.None;
}
