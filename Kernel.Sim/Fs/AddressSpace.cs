using KernelSim.Mm;

namespace KernelSim.Fs;

/// <summary>
/// struct address_space (include/linux/fs.h): an inode's page cache, index → folio of one DRAM page
/// (no large folios: mapping_max_folio_size is PAGE_SIZE), with its address_space_operations.
/// </summary>
public sealed class AddressSpace
{
    private readonly SortedDictionary<ulong, Folio> _folios = [];
    private readonly PhysicalMemory _phys;

    /// <summary>
    /// address_space_init_once with mapping-&gt;a_ops = <paramref name="aops"/>: the empty page cache of a new inode,
    /// its pages allocated from <paramref name="phys"/> (the filesystem's inode setup, e.g. ext4_set_aops).
    /// </summary>
    public AddressSpace(PhysicalMemory phys, AddressSpaceOperations aops)
    {
        _phys = phys;
        AOps = aops;
    }

    /// <summary>a_ops: write_begin / write_end.</summary>
    public AddressSpaceOperations AOps { get; }

    /// <summary>mapping_max_folio_size(): PAGE_SIZE (no large folios in this model).</summary>
    public ulong MaxFolioSize => PageDefs.PAGE_SIZE;

    /// <summary>nrpages.</summary>
    public int NrPages => _folios.Count;

    /// <summary>Every cached folio in index order.</summary>
    public IEnumerable<Folio> Folios => _folios.Values;

    /// <summary>filemap_get_folio: the cached folio at <paramref name="index"/>, or null.</summary>
    public Folio? Find(ulong index) => _folios.GetValueOrDefault(index);

    /// <summary>
    /// xas_find from <paramref name="index"/> (the walk of xas_for_each over mapping-&gt;i_pages): the first cached folio
    /// at or after it, or null. Contiguous walks allocate nothing; a hole costs a scan.
    /// </summary>
    internal Folio? FindFrom(ulong index)
    {
        if (_folios.TryGetValue(index, out var f)) return f;
        foreach (var kv in _folios) if (kv.Key > index) return kv.Value;
        return null;
    }

    /// <summary>
    /// __filemap_get_folio(FGP_CREAT): the cached folio, or a new one (not uptodate, contents zero) added to
    /// the cache; null when out of memory.
    /// </summary>
    internal Folio? GetOrCreate(ulong index, out bool created)
    {
        created = false;
        if (_folios.TryGetValue(index, out var f)) return f;
        var pfn = _phys.AllocPage();
        if (pfn < 0) return null;
        _phys.WriteSpan((ulong)pfn, 0, (int)PageDefs.PAGE_SIZE).Clear();
        f = new Folio(index, (ulong)pfn);
        var frame = _phys.Frame((ulong)pfn);
        frame.PageCacheMapping = this;
        frame.PageCacheIndex = index;
        _folios.Add(index, f);
        created = true;
        return f;
    }

    /// <summary>
    /// filemap_grab_folio (include/linux/pagemap.h; __filemap_get_folio with FGP_LOCK | FGP_ACCESSED | FGP_CREAT):
    /// the cached folio at <paramref name="index"/>, or a new one (not uptodate, zeroed) added to the cache; null
    /// when no page can be allocated (−ENOMEM).
    /// </summary>
    public Folio? GrabFolio(ulong index) => GetOrCreate(index, out _);

    /// <summary>folio_zero_segment (include/linux/highmem.h; zero_user_segments): zero bytes [from, to) of a folio.</summary>
    public void FolioZeroSegment(Folio folio, ulong from, ulong to)
    {
        if (to <= from) return;
        _phys.WriteSpan(folio.Pfn, (int)from, (int)(to - from)).Clear();
    }

    /// <summary>
    /// truncate_inode_pages(mapping, lstart) (mm/truncate.c): drop the whole pages from byte <paramref name="size"/>
    /// on and zero the tail of the partial page holding it.
    /// </summary>
    public void TruncateInodePages(long size)
    {
        var first = PageDefs.PageAlign((ulong)size) >> PageDefs.PAGE_SHIFT;
        var drop = new List<ulong>();
        foreach (var k in _folios.Keys) if (k >= first) drop.Add(k);
        foreach (var k in drop)
        {
            FreeFolioPage(_folios[k]);
            _folios.Remove(k);
        }
        var off = PageDefs.OffsetInPage((ulong)size);
        if (off != 0 && _folios.TryGetValue((ulong)size >> PageDefs.PAGE_SHIFT, out var last)) FolioZeroSegment(last, off, PageDefs.PAGE_SIZE);
    }

    /// <summary>Drop the folio at <paramref name="index"/> from the cache and free its page (invalidate_inode_pages2 of one folio); false if absent.</summary>
    internal bool Remove(ulong index)
    {
        if (!_folios.Remove(index, out var f)) return false;
        FreeFolioPage(f);
        return true;
    }

    /// <summary>
    /// truncate_inode_pages_range(mapping, lstart, lend) (mm/truncate.c) for a hole punch: drop the whole pages inside
    /// [<paramref name="start"/>, <paramref name="end"/>] (inclusive end) and zero the covered parts of partial pages.
    /// </summary>
    public void TruncateInodePagesRange(long start, long end)
    {
        if (end < start) return;
        var first = PageDefs.PageAlign((ulong)start) >> PageDefs.PAGE_SHIFT;
        var lastExcl = ((ulong)end + 1) >> PageDefs.PAGE_SHIFT;
        var drop = new List<ulong>();
        foreach (var k in _folios.Keys) if (k >= first && k < lastExcl) drop.Add(k);
        foreach (var k in drop) Remove(k);
        var startPage = (ulong)start >> PageDefs.PAGE_SHIFT;
        var endPage = (ulong)end >> PageDefs.PAGE_SHIFT;
        var so = PageDefs.OffsetInPage((ulong)start);
        var eo = PageDefs.OffsetInPage((ulong)end + 1);
        if (startPage == endPage && (so != 0 || eo != 0))
        {
            if (_folios.TryGetValue(startPage, out var f)) FolioZeroSegment(f, so, eo == 0 ? PageDefs.PAGE_SIZE : eo);
            return;
        }
        if (so != 0 && _folios.TryGetValue(startPage, out var head)) FolioZeroSegment(head, so, PageDefs.PAGE_SIZE);
        if (eo != 0 && _folios.TryGetValue(endPage, out var tail)) FolioZeroSegment(tail, 0, eo);
    }

    /// <summary>
    /// truncate_inode_folio on behalf of memory_failure (generic_error_remove_folio): the poisoned folio leaves the cache;
    /// its frame stays out of the allocator (PG_hwpoison pages are never handed out again).
    /// </summary>
    internal void DeleteErrorFolio(Folio folio)
    {
        if (!_folios.Remove(folio.Index)) return;
        FreeFolioPage(folio);
    }

    /// <summary>filemap_free_folio: the frame loses its page-cache link and goes back to the allocator (unless poisoned).</summary>
    private void FreeFolioPage(Folio f)
    {
        var frame = _phys.Frame(f.Pfn);
        frame.PageCacheMapping = null;
        _phys.FreePage(f.Pfn);
    }

    /// <summary>truncate_inode_pages_final (mm/truncate.c): the inode is evicted; free every cached page.</summary>
    public void TruncateInodePagesFinal()
    {
        foreach (var f in _folios.Values) FreeFolioPage(f);
        _folios.Clear();
    }
}
