using KernelSim.Fs.Dax;

namespace KernelSim.Scenarios.Model;

/// <summary>machine.filesystems item: daxfs formatted on a pmem disk and mounted with dax=always or dax=never.</summary>
/// <param name="Device">The disk name ("pmem0").</param>
/// <param name="Mount">Mount point.</param>
/// <param name="Dax">dax=always / dax=never.</param>
/// <param name="Route">How memory_failure reaches the processes (generic like ext4, notify-failure like XFS with rmapbt).</param>
/// <param name="HugeFaults">Try PMD faults first.</param>
public sealed record DaxFsSpec(string Device, string Mount, DaxMode Dax, FailureRoute Route, bool HugeFaults);
