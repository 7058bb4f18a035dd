namespace KernelSim.Mm;

/// <summary>A shmem/memfd object: pages that several processes can map with MAP_SHARED.</summary>
public sealed class ShmemObject
{
    internal readonly Dictionary<ulong, ulong> Pages = [];

    /// <summary>Object size in bytes.</summary>
    public ulong Size { get; }

    /// <summary>Name for traces ("memfd:…").</summary>
    public string Name { get; }

    /// <summary>Create an object of the given size.</summary>
    public ShmemObject(string name, ulong size)
    {
        Name = name;
        Size = PageDefs.PageAlign(size);
    }
}
