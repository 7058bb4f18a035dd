using KernelSim.Mm;

namespace KernelSim.Fs;

/// <summary>
/// struct address_space (include/linux/fs.h): an inode's page cache, index → folio of one DRAM page
/// (no large folios: mapping_max_folio_size is PAGE_SIZE), with its address_space_operations.
/// </summary>
public sealed class AddressSpace
{
    private readonly FolioXarray _folios;
    private readonly PhysicalMemory _phys;

    /// <summary>
    /// address_space_init_once with mapping-&gt;a_ops = <paramref name="aops"/>: the empty page cache of a new inode,
    /// its pages allocated from <paramref name="phys"/> (the filesystem's inode setup, e.g. ext4_set_aops).
    /// </summary>
    public AddressSpace(PhysicalMemory phys, AddressSpaceOperations aops)
    {
        _phys = phys;
        _folios = new(phys);
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
    public Folio? Find(ulong index) => _folios.Load(index);

    // filemap_read's last run (Filemap.ReadRun): the folio at _runIndex and the _runFollowers after it are cached,
    // uptodate and on consecutive frames, while _runStamp equals Stamp (no store, erase or uptodate clear since).
    private ulong _runIndex, _runFollowers, _runStamp, _uptodateClears;
    private ulong Stamp => _folios.Version + _uptodateClears + 1; // both only grow: any change moves the sum

    /// <summary>A folio of this mapping lost PG_uptodate: forget the remembered read run.</summary>
    internal void UptodateCleared() => _uptodateClears++;

    /// <summary>
    /// How many folios after <paramref name="first"/> (a folio of this mapping) a read run found present, uptodate and on
    /// the frames after first's, with nothing changed since; 0 if none is known.
    /// </summary>
    internal ulong KnownRunAfter(Folio first) =>
        _runStamp == Stamp && first.Index >= _runIndex && first.Index - _runIndex <= _runFollowers ? _runFollowers - (first.Index - _runIndex) : 0;

    /// <summary>Remember that the <paramref name="followers"/> folios after <paramref name="first"/> form a read run.</summary>
    internal void RememberRun(Folio first, ulong followers)
    {
        _runIndex = first.Index;
        _runFollowers = followers;
        _runStamp = Stamp;
    }

    /// <summary>
    /// xas_find from <paramref name="index"/> (the walk of xas_for_each over mapping-&gt;i_pages): the first cached folio
    /// at or after it, or null (one descent of the tree, no allocation).
    /// </summary>
    internal Folio? FindFrom(ulong index) => _folios.FindFrom(index);

    /// <summary>
    /// __filemap_get_folio(FGP_CREAT): the cached folio, or a new one (not uptodate, contents zero) added to
    /// the cache; null when out of memory.
    /// </summary>
    internal Folio? GetOrCreate(ulong index, out bool created)
    {
        created = false;
        var f = _folios.Load(index);
        if (f != null) return f;
        var pfn = _phys.AllocPage();
        if (pfn < 0) return null;
        _phys.WriteSpan((ulong)pfn, 0, (int)PageDefs.PAGE_SIZE).Clear();
        f = _phys.TakeFolio(index, (ulong)pfn) ?? new Folio(index, (ulong)pfn);
        f.Mapping = this;
        _folios.Store(index, f);
        _phys.Frame((ulong)pfn).CacheFolio = f;
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
        for (var f = _folios.FindFrom(first); f != null; f = NextAfter(f)) DeleteFromPageCache(f);
        var off = PageDefs.OffsetInPage((ulong)size);
        if (off != 0 && _folios.Load((ulong)size >> PageDefs.PAGE_SHIFT) is { } last) FolioZeroSegment(last, off, PageDefs.PAGE_SIZE);
    }

    /// <summary>Drop the folio at <paramref name="index"/> from the cache and free its page (invalidate_inode_pages2 of one folio); false if absent.</summary>
    internal bool Remove(ulong index)
    {
        if (_folios.Load(index) is not { } f) return false;
        DeleteFromPageCache(f);
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
        for (var f = _folios.FindFrom(first); f != null && f.Index < lastExcl; f = NextAfter(f)) DeleteFromPageCache(f);
        var startPage = (ulong)start >> PageDefs.PAGE_SHIFT;
        var endPage = (ulong)end >> PageDefs.PAGE_SHIFT;
        var so = PageDefs.OffsetInPage((ulong)start);
        var eo = PageDefs.OffsetInPage((ulong)end + 1);
        if (startPage == endPage && (so != 0 || eo != 0))
        {
            if (_folios.Load(startPage) is { } f) FolioZeroSegment(f, so, eo == 0 ? PageDefs.PAGE_SIZE : eo);
            return;
        }
        if (so != 0 && _folios.Load(startPage) is { } head) FolioZeroSegment(head, so, PageDefs.PAGE_SIZE);
        if (eo != 0 && _folios.Load(endPage) is { } tail) FolioZeroSegment(tail, 0, eo);
    }

    /// <summary>The cached folio after <paramref name="f"/> in index order (<paramref name="f"/> may have left the cache already).</summary>
    private Folio? NextAfter(Folio f) => f.Index == ulong.MaxValue ? null : _folios.FindFrom(f.Index + 1);

    /// <summary>truncate_inode_pages_final (mm/truncate.c): the inode is evicted; free every cached page.</summary>
    public void TruncateInodePagesFinal()
    {
        foreach (var f in _folios.Values.ToArray()) DeleteFromPageCache(f);
    }

    /// <summary>mapping-&gt;wb_err: the write-back error cursor (mapping_set_error records into it).</summary>
    public Errseq WbErr;

    /// <summary>
    /// mapping_set_error(mapping, error) (include/linux/pagemap.h): record a write-back error in wb_err, so the next
    /// fsync of every open file of the inode reports it once (file_check_and_advance_wb_err), and from 5.8 in the
    /// superblock's s_wb_err for syncfs.
    /// </summary>
    public void MappingSetError(int error)
    {
        if (error == 0) return;
        WbErr.Set(error);
        // __filemap_set_wb_err also records it in the superblock's s_wb_err for syncfs (5.8+).
        if (Host?.Sb is { } sb && sb.Machine.Profile.SyncfsReportsWbErr) sb.SetWbErr(error);
    }

    /// <summary>mapping-&gt;host: the inode whose page cache this is (set when the inode is given its mapping).</summary>
    public Inode? Host { get; internal set; }

    /// <summary>filemap_sample_wb_err: the value a newly opened file starts from (f_wb_err).</summary>
    public uint SampleWbErr() => WbErr.Sample();

    /// <summary>file_check_and_advance_wb_err (mm/filemap.c): the error this file has not yet seen (reported once), or 0.</summary>
    public int FileCheckAndAdvanceWbErr(KFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var since = file.WbErrSeen;
        var r = WbErr.CheckAndAdvance(ref since);
        file.WbErrSeen = since;
        return r;
    }

    /// <summary>
    /// folio_mkclean (mm/rmap.c, page_mkclean_one for each mapping): every user PTE of the folio that is dirty or
    /// writable is write-protected and cleaned; true when at least one was, so the caller keeps the folio dirty.
    /// </summary>
    public bool FolioMkclean(Folio folio)
    {
        ArgumentNullException.ThrowIfNull(folio);
        var cleaned = false;
        foreach (var (mm, va) in _phys.Frame(folio.Pfn).Mappings.ToArray()) cleaned |= mm.MkcleanPte(va);
        return cleaned;
    }

    /// <summary>
    /// __filemap_remove_folio + folio_put: take the folio out of the cache (folio-&gt;mapping cleared) and free its page; a
    /// HWPoison page is never handed out again.
    /// </summary>
    internal void DeleteFromPageCache(Folio folio)
    {
        if (!_folios.Erase(folio.Index, out var f) || !ReferenceEquals(f, folio)) return;
        folio.Mapping = null;
        var frame = _phys.Frame(folio.Pfn);
        if (ReferenceEquals(frame.CacheFolio, folio)) frame.CacheFolio = null;
        _phys.FreePage(folio.Pfn);
    }

    /// <summary>
    /// Replace <paramref name="old"/> by a folio at the same index on page <paramref name="newPfn"/> with the same
    /// uptodate and dirty state (folio_migrate_mapping + folio_migrate_flags); the old page leaves the cache unfreed.
    /// </summary>
    internal Folio MigrateFolio(Folio old, ulong newPfn)
    {
        var f = new Folio(old.Index, newPfn) { Mapping = this, Uptodate = old.Uptodate, Dirty = old.Dirty };
        _folios.Store(old.Index, f);
        old.Mapping = null;
        var oldFrame = _phys.Frame(old.Pfn);
        if (ReferenceEquals(oldFrame.CacheFolio, old)) oldFrame.CacheFolio = null;
        _phys.Frame(newPfn).CacheFolio = f;
        return f;
    }
}
