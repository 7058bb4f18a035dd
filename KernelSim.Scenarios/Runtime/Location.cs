using KernelSim.Mm;

namespace KernelSim.Scenarios.Runtime;

/// <summary>A resolved address: user (in an actor's address space) or kernel, and the named buffer it lies in.</summary>
/// <param name="Kernel">A kernel address (else user).</param>
/// <param name="Addr">The address.</param>
/// <param name="Actor">The actor owning a user address.</param>
/// <param name="User">The user mapping it is in, when named.</param>
/// <param name="KBuf">The kernel buffer it is in, when named.</param>
/// <param name="Offset">Offset from the named buffer's start.</param>
internal sealed record Location(bool Kernel, ulong Addr, ActorState? Actor, UserBuffer? User, KernelBuffer? KBuf, long Offset)
{
    public UserPtr UserPtr => new(Addr);
    public KernelPtr KernelPtr => new(Addr);

    /// <summary>The fill pattern of the named buffer (null for an absolute address or a "none" fill).</summary>
    public Model.FillPattern? Fill => (User?.Fill ?? KBuf?.Fill) is { Kind: not Model.FillKind.None } f ? f : null;
}
