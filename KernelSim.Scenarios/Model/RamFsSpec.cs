using KernelSim.Fs;

namespace KernelSim.Scenarios.Model;

/// <summary>A ramfs mount: mount point and write_end policy (simple like real ramfs, block like ext2/ext4).</summary>
public sealed record RamFsSpec(string Mount, WriteEndPolicy WriteEnd);
