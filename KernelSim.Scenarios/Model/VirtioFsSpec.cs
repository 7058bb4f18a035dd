using KernelSim.Drivers.Virtiofs;

namespace KernelSim.Scenarios.Model;

/// <summary>machine.virtiofs item: a virtio-fs device with a DAX window, its host directory and host-fault policy.</summary>
/// <param name="Name">How steps refer to the share (default: its tag).</param>
/// <param name="Mount">Guest mount point.</param>
/// <param name="Tag">The virtio-fs tag.</param>
/// <param name="Window">DAX window bytes (0: no window).</param>
/// <param name="Dax">The dax= mount option.</param>
/// <param name="Policy">What a guest access to a window page beyond the host file's EOF becomes.</param>
/// <param name="Files">Host files created before the mount.</param>
public sealed record VirtioFsSpec(string Name, string Mount, string Tag, ulong Window, DaxMountMode Dax, HostFaultPolicy Policy, IReadOnlyList<HostFileSpec> Files);

/// <summary>A host file of a virtio-fs share: name, size, FUSE node id (0: next free), content (default: the host pattern).</summary>
public sealed record HostFileSpec(string Name, ulong Size, ulong NodeId, FillPattern? Fill);
