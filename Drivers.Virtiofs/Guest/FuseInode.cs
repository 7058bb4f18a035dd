using KernelSim.Fs;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// struct fuse_inode with its DAX part (struct fuse_inode_dax): the node id, the lookup count, attribute
/// validity, S_DAX and the per-inode tree of window ranges keyed by range index.
/// </summary>
public sealed class FuseInode : Inode
{
    internal FuseInode(VirtioFsFileSystem sb, ulong nodeId, int mode) : base(sb, nodeId, mode)
    {
        NodeId = nodeId;
        Fs = sb;
    }

    /// <summary>The filesystem.</summary>
    public VirtioFsFileSystem Fs { get; }

    /// <summary>fi-&gt;nodeid.</summary>
    public ulong NodeId { get; }

    /// <summary>fi-&gt;nlookup: LOOKUP replies not yet forgotten.</summary>
    public ulong Nlookup { get; internal set; }

    /// <summary>fi-&gt;i_time: attributes are valid until this simulated time (ns).</summary>
    public ulong AttrValidUntil { get; internal set; }

    /// <summary>S_DAX: reads, writes and mmap go through the window (statx reports it as STATX_ATTR_DAX).</summary>
    public override bool IsDax => SDax;

    /// <summary>The S_DAX bit of i_flags, set when the inode is loaded.</summary>
    internal bool SDax { get; set; }

    /// <summary>The server's FUSE_ATTR_DAX flag from the latest attributes.</summary>
    public bool AttrDax { get; internal set; }

    /// <summary>Open files of this inode (struct file references; the last close may evict an unlinked inode).</summary>
    public int OpenCount { get; internal set; }

    /// <summary>I_DONTCACHE set because the per-file DAX flag changed (fuse_dax_dontcache).</summary>
    public bool DontCache { get; internal set; }

    /// <summary>fi-&gt;dax-&gt;tree: range index → mapping.</summary>
    internal SortedDictionary<ulong, DaxMapping> Tree { get; } = [];

    /// <summary>fi-&gt;dax-&gt;nr.</summary>
    public int NrRanges => Tree.Count;

    /// <summary>The window range mapped for file range <paramref name="index"/>, or null.</summary>
    public DaxMapping? RangeAt(ulong index) => Tree.GetValueOrDefault(index);

    /// <summary>Every mapped range, by index.</summary>
    public IEnumerable<DaxMapping> Ranges => Tree.Values;
}
