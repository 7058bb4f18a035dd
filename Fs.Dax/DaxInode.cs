using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>
/// The in-core inode of a <see cref="DaxFs"/> file: struct inode plus i_rwsem, the DAX entries of its page
/// cache (i_pages: file page → pmem pfn, filled by faults), the address spaces that map it (i_mmap) and whether
/// it has uncommitted metadata (what MAP_SYNC faults and fsync commit). On a dax=never mount it has a real
/// page cache (<see cref="Inode.Mapping"/>).
/// </summary>
public sealed class DaxInode : Inode, IDaxInode
{
    private readonly Dictionary<ulong, ulong> _daxEntries = [];
    private readonly HashSet<MmStruct> _mms = [];

    internal DaxInode(DaxFs fs, FileNode node, AddressSpace? mapping)
        : base(fs, node.Ino, (node.IsDir ? Fcntl.S_IFDIR : Fcntl.S_IFREG) | 0x1a4)
    {
        Fs = fs;
        Node = node;
        Size = node.Size;
        Mapping = mapping;
    }

    /// <summary>The filesystem.</summary>
    public DaxFs Fs { get; }
    /// <summary>The on-"disk" inode.</summary>
    public FileNode Node { get; }
    /// <summary>i_rwsem.</summary>
    public RwSemaphore Rwsem { get; } = new();
    /// <summary>IS_DAX(inode).</summary>
    public bool IsDax => Fs.IsDax;
    /// <summary>Uncommitted metadata (allocation, size change) that fsync or a MAP_SYNC fault must commit.</summary>
    public bool MetadataDirty { get; internal set; }
    /// <summary>A page-cache write-back error not yet reported to fsync (the mapping's errseq), 0 if none.</summary>
    public int WbError { get; internal set; }
    /// <summary>Open struct files.</summary>
    internal int OpenCount { get; set; }
    /// <summary>Number of commits (fsync / MAP_SYNC) so far.</summary>
    public int Commits { get; private set; }

    /// <summary>The DAX entries (file page index → pfn) installed by faults.</summary>
    public IReadOnlyDictionary<ulong, ulong> DaxEntries => _daxEntries;

    internal void AddMapper(MmStruct mm) => _mms.Add(mm);

    /// <summary>Commit metadata (the journal commit of fsync): 0.</summary>
    internal int Commit()
    {
        Node.Size = Size;
        if (MetadataDirty) Commits++;
        MetadataDirty = false;
        return 0;
    }

    /// <inheritdoc/>
    public void UnmapMappingRange(long start, long len)
    {
        if (len <= 0) return;
        var first = (ulong)start >> PageDefs.PAGE_SHIFT;
        var last = len == long.MaxValue ? ulong.MaxValue : ((ulong)(start + len) + PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT;
        foreach (var mm in _mms)
        {
            foreach (var vma in mm.Vmas.ToArray())
            {
                if (vma.File is not KFile f || !ReferenceEquals(f.Inode, this)) continue;
                var vFirst = vma.PgOff;
                var vLast = vma.PgOff + ((vma.End - vma.Start) >> PageDefs.PAGE_SHIFT);
                var lo = Math.Max(first, vFirst);
                var hi = Math.Min(last, vLast);
                if (lo >= hi) continue;
                mm.ZapRange(vma.Start + ((lo - vFirst) << PageDefs.PAGE_SHIFT), vma.Start + ((hi - vFirst) << PageDefs.PAGE_SHIFT));
            }
        }
    }

    /// <inheritdoc/>
    public void InsertDaxEntry(ulong index, ulong pfn) => _daxEntries[index] = pfn;

    /// <summary>Drop DAX entries from page <paramref name="firstIndex"/> on (truncate, punch hole).</summary>
    internal void DropDaxEntries(ulong firstIndex, ulong endIndex)
    {
        var gone = new List<ulong>();
        foreach (var k in _daxEntries.Keys) if (k >= firstIndex && k < endIndex) gone.Add(k);
        foreach (var k in gone) _daxEntries.Remove(k);
    }

    /// <inheritdoc/>
    public int SyncForFault(long start, long end) => Commit();

    /// <inheritdoc/>
    public override string ToString() => $"{Fs.Name} inode {Ino} size={Size}{(IsDax ? " dax" : "")}";
}
