namespace KernelSim.Lib;

/// <summary>
/// struct scatterlist (include/linux/scatterlist.h) as sg_set_page leaves it: a page (frame number), an offset
/// (may exceed PAGE_SIZE: the run continues in the following frames) and a length. DMA fields are not modelled.
/// </summary>
/// <param name="Pfn">sg_page() as a page frame number.</param>
/// <param name="Offset">offset.</param>
/// <param name="Length">length.</param>
public readonly record struct Scatterlist(ulong Pfn, uint Offset, uint Length);

/// <summary>
/// struct sg_table (include/linux/scatterlist.h): the entry array (sgl), nents and orig_nents. A table larger than
/// SG_MAX_SINGLE_ALLOC (128) is chained in the kernel; here the usable entries are one array and sg_next walks
/// them in the same order (the chain entries themselves are not represented). Filled by
/// <see cref="ScatterlistOps.SgAllocTable"/> and <see cref="ScatterlistOps.ExtractIterToSg"/>.
/// </summary>
public sealed class SgTable
{
    internal Scatterlist[] Entries = [];
    internal int EndIndex = -1;

    /// <summary>nents: entries in use (extract_iter_to_sg appends at this index).</summary>
    public uint Nents { get; set; }

    /// <summary>orig_nents: entries allocated.</summary>
    public uint OrigNents { get; set; }

    /// <summary>sgl: the entries (empty once freed).</summary>
    public ReadOnlySpan<Scatterlist> Sgl => Entries;

    /// <summary>sg_is_last: entry <paramref name="k"/> carries the end mark.</summary>
    public bool IsLast(int k) => k == EndIndex;

    /// <summary>sg_mark_end on entry <paramref name="k"/> (callers of extract_iter_to_sg place it themselves).</summary>
    public void MarkEnd(int k) => EndIndex = k;

    /// <summary>sg_set_page(&amp;sgl[k], page, len, offset).</summary>
    public void SetPage(int k, ulong pfn, uint len, uint offset) => Entries[k] = new Scatterlist(pfn, offset, len);
}

/// <summary>sg_mapping_iter flags (include/linux/scatterlist.h).</summary>
[Flags]
public enum SgMiterFlags
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>SG_MITER_ATOMIC: kmap_atomic; the holder may not sleep until sg_miter_stop.</summary>
    SG_MITER_ATOMIC = 1 << 0,
    /// <summary>SG_MITER_TO_SG: the caller writes to the pages (flush_dcache_page on stop).</summary>
    SG_MITER_TO_SG = 1 << 1,
    /// <summary>SG_MITER_FROM_SG: the caller reads from the pages.</summary>
    SG_MITER_FROM_SG = 1 << 2,
}

/// <summary>
/// struct sg_mapping_iter (include/linux/scatterlist.h): after <see cref="ScatterlistOps.SgMiterNext"/>,
/// <see cref="Page"/>, <see cref="Addr"/> and <see cref="Length"/> describe the mapped piece (at most the rest of
/// one page); the user may lower <see cref="Consumed"/> before the next call.
/// </summary>
public sealed class SgMappingIter
{
    internal SgTable? Table;
    internal int Sg;            // piter.sg as an index, -1 when sg_next returned NULL
    internal ulong SgPgoffset;  // piter.sg_pgoffset
    internal uint Nents;        // piter.__nents
    internal int PgAdvance;     // piter.__pg_advance
    internal ulong Offset;      // __offset
    internal ulong Remaining;   // __remaining
    internal SgMiterFlags Flags;
    internal bool Mapped;

    /// <summary>page: the frame of the current piece.</summary>
    public ulong Page { get; internal set; }

    /// <summary>addr: the kernel (direct-map) address of the current piece.</summary>
    public Mm.KernelPtr Addr { get; internal set; }

    /// <summary>length: bytes of the current piece.</summary>
    public ulong Length { get; internal set; }

    /// <summary>consumed: how much of the piece was used (defaults to length).</summary>
    public ulong Consumed { get; set; }
}
