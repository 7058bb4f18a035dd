namespace KernelSim.Fs;

/// <summary>
/// A page-cache folio (struct folio, include/linux/mm_types.h) of one DRAM page: its index in the file,
/// the page frame holding the data and the PG_uptodate / PG_dirty flags. <see cref="New"/> models
/// buffer_new on the folio's single block (set when write_begin allocated it, cleared by write_end).
/// </summary>
public sealed class Folio
{
    internal Folio(ulong index, ulong pfn)
    {
        Index = index;
        Pfn = pfn;
    }

    /// <summary>folio->mapping: the page cache it belongs to (null once deleted from it).</summary>
    public AddressSpace? Mapping { get; internal set; }

    /// <summary>folio->index: page index in the file.</summary>
    public ulong Index { get; private set; }

    /// <summary>The page frame holding the data.</summary>
    public ulong Pfn { get; private set; }

    /// <summary>
    /// The machine was released and a <see cref="Mm.FramePool"/> keeps this folio: every flag as the constructor leaves it,
    /// no mapping (nothing of that machine stays reachable).
    /// </summary>
    internal void Reset()
    {
        Mapping = null;
        _uptodate = false;
        Dirty = false;
        New = false;
    }

    /// <summary>A pooled folio (<see cref="Reset"/>) becomes the one at <paramref name="index"/> on <paramref name="pfn"/>, as new.</summary>
    internal void Reuse(ulong index, ulong pfn)
    {
        Index = index;
        Pfn = pfn;
    }

    /// <summary>PG_uptodate. Clearing it tells the mapping (its remembered read run may hold this folio).</summary>
    public bool Uptodate
    {
        get => _uptodate;
        internal set
        {
            if (_uptodate && !value) Mapping?.UptodateCleared();
            _uptodate = value;
        }
    }
    private bool _uptodate;

    /// <summary>PG_dirty.</summary>
    public bool Dirty { get; internal set; }

    /// <summary>folio_mark_uptodate (include/linux/page-flags.h): the folio now holds the file's data.</summary>
    public void MarkUptodate() => Uptodate = true;

    /// <summary>folio_clear_uptodate: the contents are no longer valid (the next access reads them again).</summary>
    public void ClearUptodate() => Uptodate = false;

    /// <summary>folio_mark_dirty (mm/page-writeback.c): the folio must be written back.</summary>
    public void MarkDirty() => Dirty = true;

    /// <summary>
    /// folio_clear_dirty_for_io (mm/page-writeback.c): folio_mkclean first (user PTEs write-protected and cleaned, a
    /// dirty PTE re-dirtying the folio), then clear PG_dirty before writing it back; true if it was dirty.
    /// </summary>
    public bool ClearDirtyForIo()
    {
        if (Dirty && Mapping != null && Mapping.FolioMkclean(this)) Dirty = true;
        var was = Dirty;
        Dirty = false;
        return was;
    }

    /// <summary>folio_cancel_dirty (include/linux/pagemap.h): drop the dirty state without writing back (truncate, invalidate).</summary>
    public void CancelDirty() => Dirty = false;

    /// <summary>buffer_new of its block (block_write_begin allocated it in this write).</summary>
    internal bool New { get; set; }

    /// <inheritdoc/>
    public override string ToString() => $"folio index={Index} pfn=0x{Pfn:x}{(Uptodate ? " uptodate" : "")}{(Dirty ? " dirty" : "")}";
}
