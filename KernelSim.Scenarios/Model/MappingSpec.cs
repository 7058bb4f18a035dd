namespace KernelSim.Scenarios.Model;

/// <summary>An anonymous (or shared shmem) mapping of an actor, created at setup or by an mmap step.</summary>
/// <param name="Name">How steps refer to it ("buf" in "buf+0x200").</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="Prot">PROT_* bits.</param>
/// <param name="Shared">MAP_SHARED (else MAP_PRIVATE).</param>
/// <param name="Shm">The shared object's name: actors mapping the same name share its pages (memfd-like).</param>
/// <param name="Fill">Stored from user mode right after mmap ("none": the pages stay unfaulted).</param>
/// <param name="Populate">MAP_POPULATE.</param>
public sealed record MappingSpec(string Name, ulong Size, int Prot, bool Shared, string? Shm, FillPattern Fill, bool Populate);
