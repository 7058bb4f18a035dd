namespace KernelSim.Kernel;

/// <summary>
/// Unwinds the simulated kernel stack to the syscall or access boundary when the kernel stops executing the
/// current path: a panic, an oops, a livelock or a processor shutdown. Never escapes the public API.
/// </summary>
internal abstract class KernelUnwindException(string message) : Exception(message);

/// <summary>panic(): the machine is dead.</summary>
internal sealed class KernelPanicException(string message) : KernelUnwindException(message);

/// <summary>An oops: the current task is killed, the machine goes on (tainted).</summary>
internal sealed class KernelOopsException(string message) : KernelUnwindException(message);

/// <summary>The current task loops in the kernel forever (reported, never actually spun).</summary>
internal sealed class KernelLivelockException(string message) : KernelUnwindException(message);

/// <summary>A machine check arrived while MCIP was set: the processor shuts down.</summary>
internal sealed class MachineShutdownException(string message) : KernelUnwindException(message);

/// <summary>The host stopped the VM (KVM_RUN failed; "kvm run failed Bad address"): nothing in the guest runs any more.</summary>
internal sealed class VmStoppedException(string message) : KernelUnwindException(message);
