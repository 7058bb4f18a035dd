namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>struct fuse_dax_mapping (fs/fuse/dax.c): one 2 MiB range of the window and who owns it.</summary>
public sealed class DaxMapping
{
    internal DaxMapping(ulong windowOffset, ulong length)
    {
        WindowOffset = windowOffset;
        Length = length;
    }

    /// <summary>window_offset: where the range starts in the window.</summary>
    public ulong WindowOffset { get; }

    /// <summary>length (FUSE_DAX_SZ).</summary>
    public ulong Length { get; }

    /// <summary>The owning inode (null on the free list).</summary>
    public FuseInode? Inode { get; internal set; }

    /// <summary>itn.start: the file range index (file offset &gt;&gt; 21).</summary>
    public ulong Index { get; internal set; }

    /// <summary>Whether the host mapping is writable.</summary>
    public bool Writable { get; internal set; }

    /// <summary>refcnt: 1 when idle, &gt;1 while an I/O or fault step uses it.</summary>
    public int Refcnt { get; internal set; } = 1;

    internal LinkedListNode<DaxMapping>? ListNode;
    internal LinkedListNode<DaxMapping>? BusyNode;

    /// <inheritdoc/>
    public override string ToString() => $"dmap moffset={WindowOffset} idx={Index} {(Writable ? "rw" : "ro")} ref={Refcnt}";
}
