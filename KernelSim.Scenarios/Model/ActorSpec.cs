using KernelSim.Kernel;

namespace KernelSim.Scenarios.Model;

/// <summary>A process of the scenario: its mappings, signal dispositions and PR_MCE_KILL policy.</summary>
/// <param name="Name">Name in steps (also its comm unless <paramref name="Comm"/> is given).</param>
/// <param name="Comm">task->comm.</param>
/// <param name="Mappings">Created in order at setup.</param>
/// <param name="Signals">Signal → disposition, in file order.</param>
/// <param name="EarlyKill">prctl(PR_MCE_KILL, PR_MCE_KILL_SET, EARLY/LATE); null leaves the default (the sysctl).</param>
public sealed record ActorSpec(string Name, string Comm, IReadOnlyList<MappingSpec> Mappings, IReadOnlyList<(int Signo, SignalDisposition Disposition)> Signals, bool? EarlyKill);
