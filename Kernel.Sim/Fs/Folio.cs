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

    /// <summary>folio->index: page index in the file.</summary>
    public ulong Index { get; }

    /// <summary>The page frame holding the data.</summary>
    public ulong Pfn { get; }

    /// <summary>PG_uptodate.</summary>
    public bool Uptodate { get; internal set; }

    /// <summary>PG_dirty.</summary>
    public bool Dirty { get; internal set; }

    /// <summary>buffer_new of its block (block_write_begin allocated it in this write).</summary>
    internal bool New { get; set; }

    /// <inheritdoc/>
    public override string ToString() => $"folio index={Index} pfn=0x{Pfn:x}{(Uptodate ? " uptodate" : "")}{(Dirty ? " dirty" : "")}";
}
