using KernelSim.Uapi;

namespace KernelSim.Kernel;

/// <summary>The result of a user-mode load or store.</summary>
/// <param name="Done">Bytes accessed before the access stopped.</param>
/// <param name="Signal">The signal that stopped it (caught by a handler or fatal), if any.</param>
/// <param name="Outcome">null normally; a machine outcome ("panic: …") when the kernel did not come back.</param>
public readonly record struct UserAccessResult(ulong Done, SigInfo? Signal, string? Outcome)
{
    /// <summary>True when every byte was accessed without a signal.</summary>
    public bool Completed(ulong len) => Done == len && Signal == null && Outcome == null;
}
