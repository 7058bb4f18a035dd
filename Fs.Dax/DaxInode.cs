using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>
/// The in-core inode of a <see cref="DaxFs"/> file: struct inode plus i_rwsem, S_DAX (chosen when the inode is
/// loaded, DX3), the DAX entries of its page cache (i_pages: PTE or PMD entries, zero-page entries over holes, the
/// dirty tag of write faults), the address spaces that map it (i_mmap) and whether it has uncommitted metadata (what
/// MAP_SYNC faults and fsync commit). A non-DAX inode has a real page cache (<see cref="Inode.Mapping"/>).
/// </summary>
public sealed class DaxInode : Inode, IDaxInode
{
    private readonly Dictionary<ulong, ulong> _daxEntries = [];
    private readonly SortedDictionary<ulong, DaxEntry> _entries = [];
    private readonly HashSet<MmStruct> _mms = [];

    internal DaxInode(DaxFs fs, FileNode node, AddressSpace? mapping, bool dax)
        : base(fs, node.Ino, (node.IsDir ? Fcntl.S_IFDIR : Fcntl.S_IFREG) | node.Perm)
    {
        Fs = fs;
        Node = node;
        Size = node.Size;
        Mapping = mapping;
        IsDax = dax;
        Atime = node.Atime;
        Mtime = node.Mtime;
        Ctime = node.Ctime;
    }

    /// <summary>The filesystem.</summary>
    public DaxFs Fs { get; }
    /// <summary>The on-"disk" inode.</summary>
    public FileNode Node { get; }
    /// <summary>i_rwsem.</summary>
    public RwSemaphore Rwsem { get; } = new();
    /// <summary>IS_DAX(inode): S_DAX, fixed for the life of this in-core inode.</summary>
    public override bool IsDax { get; }
    /// <summary>I_DONTCACHE (d_mark_dontcache): FS_XFLAG_DAX changed, so the inode is evicted at its last close and reloaded with the new S_DAX.</summary>
    public bool DontCache { get; internal set; }
    /// <summary>Uncommitted metadata (allocation, size change) that fsync or a MAP_SYNC fault must commit.</summary>
    public bool MetadataDirty { get; internal set; }
    /// <summary>A page-cache write-back error not yet reported to fsync (the mapping's errseq), 0 if none.</summary>
    public int WbError { get; internal set; }
    /// <summary>Open struct files.</summary>
    internal int OpenCount { get; set; }
    /// <summary>Number of commits (fsync / MAP_SYNC) so far.</summary>
    public int Commits { get; private set; }

    /// <inheritdoc/>
    public override long Blocks
    {
        get
        {
            long n = 0;
            foreach (var e in Node.Extents.Extents) n += e.Count;
            return n << (DaxFsVolume.BlockShift - 9);
        }
    }

    /// <summary>The DAX entries of file data (file page index → pmem pfn) installed by faults; zero-page entries are not listed.</summary>
    public IReadOnlyDictionary<ulong, ulong> DaxEntries => _daxEntries;

    /// <summary>The i_pages entries by first index: PTE or PMD, zero page or data, dirty (for tests and walkthroughs).</summary>
    public IReadOnlyDictionary<ulong, DaxEntry> Entries => _entries;

    internal void AddMapper(MmStruct mm) => _mms.Add(mm);

    /// <summary>file_update_time: mtime and ctime to now.</summary>
    internal void UpdateTime()
    {
        var now = (long)Fs.Machine.Clock.NowNs;
        Mtime = now;
        Ctime = now;
        MetadataDirty = true;
    }

    /// <summary>Commit metadata (the journal commit of fsync): 0.</summary>
    internal int Commit()
    {
        Node.Size = Size;
        Node.Atime = Atime;
        Node.Mtime = Mtime;
        Node.Ctime = Ctime;
        if (MetadataDirty) Commits++;
        MetadataDirty = false;
        return 0;
    }

    /// <summary>True while some process maps the file (vma-&gt;vm_file holds a reference to it).</summary>
    internal bool IsMapped()
    {
        foreach (var mm in _mms)
            foreach (var vma in mm.Vmas)
                if (vma.File is KFile f && ReferenceEquals(f.Inode, this)) return true;
        return false;
    }

    /// <summary>Every (mm, address) mapping file page <paramref name="index"/> (the i_mmap walk).</summary>
    internal IEnumerable<(MmStruct Mm, ulong Va)> MappersOf(ulong index)
    {
        foreach (var mm in _mms)
        {
            foreach (var vma in mm.Vmas)
            {
                if (vma.File is not KFile f || !ReferenceEquals(f.Inode, this)) continue;
                var pages = (vma.End - vma.Start) >> PageDefs.PAGE_SHIFT;
                if (index < vma.PgOff || index >= vma.PgOff + pages) continue;
                yield return (mm, vma.Start + ((index - vma.PgOff) << PageDefs.PAGE_SHIFT));
            }
        }
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
    public bool HasPteEntryIn(ulong pmdIndex)
    {
        foreach (var (k, e) in _entries)
        {
            if (k >= pmdIndex + DaxEntry.PmdPages) break;
            if (k >= pmdIndex && !e.Pmd) return true;
        }
        return false;
    }

    /// <inheritdoc/>
    public DaxEntry? PmdEntryAt(ulong pmdIndex) => _entries.TryGetValue(pmdIndex, out var e) && e.Pmd ? e : null;

    /// <inheritdoc/>
    public void InsertDaxEntry(ulong index, ulong pfn, bool pmd, bool zero, bool dirty)
    {
        var pages = pmd ? DaxEntry.PmdPages : 1UL;
        if (!pmd)
        {
            // grab_mapping_entry(order 0) over a PMD zero entry: pmd_downgrade — unmap the 2 MiB and delete it.
            var baseIndex = index & ~(DaxEntry.PmdPages - 1);
            if (_entries.TryGetValue(baseIndex, out var p) && p.Pmd && p.Zero)
            {
                _entries.Remove(baseIndex);
                UnmapMappingRange((long)(baseIndex << PageDefs.PAGE_SHIFT), (long)PageDefs.PMD_SIZE);
            }
            else if (_entries.TryGetValue(baseIndex, out p) && p.Pmd)
            {
                // A 4 KiB fault inside a data PMD entry keeps that entry (dax_insert_entry leaves a PMD entry in place).
                if (dirty) _entries[baseIndex] = p with { Dirty = true };
                return;
            }
        }
        for (var k = 0UL; k < pages; k++) _entries.Remove(index + k);
        var old = _entries.GetValueOrDefault(index);
        _entries[index] = new DaxEntry(pfn, pmd, zero, dirty || (old is { Zero: false } && old.Dirty));
        for (var k = 0UL; k < pages; k++)
        {
            if (zero) _daxEntries.Remove(index + k);
            else _daxEntries[index + k] = pfn + k;
        }
    }

    /// <summary>The dirty entries whose first index is in [first, last] (PAGECACHE_TAG_DIRTY, in index order).</summary>
    internal List<(ulong Index, DaxEntry Entry)> DirtyEntries(ulong first, ulong last)
    {
        var list = new List<(ulong, DaxEntry)>();
        foreach (var (k, e) in _entries)
        {
            var end = k + (e.Pmd ? DaxEntry.PmdPages : 1) - 1;
            if (e.Dirty && end >= first && k <= last) list.Add((k, e));
        }
        return list;
    }

    /// <summary>Clear the dirty tag of the entry at <paramref name="index"/> (dax_writeback_one).</summary>
    internal void CleanEntry(ulong index)
    {
        if (_entries.TryGetValue(index, out var e)) _entries[index] = e with { Dirty = false };
    }

    /// <summary>Drop DAX entries from page <paramref name="firstIndex"/> to <paramref name="endIndex"/> (truncate, punch hole: dax_delete_mapping_entry).</summary>
    internal void DropDaxEntries(ulong firstIndex, ulong endIndex)
    {
        foreach (var k in _daxEntries.Keys.Where(k => k >= firstIndex && k < endIndex).ToArray()) _daxEntries.Remove(k);
        foreach (var (k, e) in _entries.ToArray())
        {
            var end = k + (e.Pmd ? DaxEntry.PmdPages : 1);
            if (end > firstIndex && k < endIndex) _entries.Remove(k);
        }
    }

    /// <inheritdoc/>
    public int SyncForFault(long start, long end) => Commit();

    /// <inheritdoc/>
    public override string ToString() => $"{Fs.Name} inode {Ino} size={Size}{(IsDax ? " dax" : "")}";
}

/// <summary>
/// One DAX entry of a file's i_pages (fs/dax.c): the first pfn, whether it covers a PMD (512 pages), whether it maps
/// the (huge) zero page over a hole or unwritten extent (DAX_ZERO_PAGE) and PAGECACHE_TAG_DIRTY.
/// </summary>
/// <param name="Pfn">The pfn of the first page.</param>
/// <param name="Pmd">DAX_PMD.</param>
/// <param name="Zero">DAX_ZERO_PAGE.</param>
/// <param name="Dirty">Dirtied by a shared write fault and not yet written back.</param>
public readonly record struct DaxEntry(ulong Pfn, bool Pmd, bool Zero, bool Dirty)
{
    /// <summary>PG_PMD_NR: pages in a PMD entry.</summary>
    public const ulong PmdPages = PageDefs.PMD_SIZE >> PageDefs.PAGE_SHIFT;
}
