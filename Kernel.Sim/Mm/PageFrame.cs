namespace KernelSim.Mm;

/// <summary>struct page flags this simulator models (include/linux/page-flags.h).</summary>
[Flags]
public enum PageFlags
{
    None = 0,
    /// <summary>PG_hwpoison: memory_failure has handled this page.</summary>
    PG_hwpoison = 1,
    /// <summary>PG_dirty (propagated from PTE dirty bits on unmap).</summary>
    PG_dirty = 2,
    /// <summary>PG_reserved: kernel-owned (kmalloc'd or page-table) memory.</summary>
    PG_reserved = 4,
    /// <summary>Anonymous page: PageAnon(), the PAGE_MAPPING_ANON bit of page-&gt;mapping (include/linux/page-flags.h).</summary>
    PAGE_MAPPING_ANON = 8,
    /// <summary>PG_swapbacked: set here on shmem/memfd pages only (the kernel also sets it on anonymous pages, which this model keys by PAGE_MAPPING_ANON).</summary>
    PG_swapbacked = 16,
}

/// <summary>
/// One 4 KiB physical frame (its bytes live in <see cref="PhysicalMemory"/>): its poison (one bit per 64-byte
/// line, latent until consumed) and the struct page state memory_failure needs.
/// </summary>
public sealed class PageFrame
{
    /// <summary>Bit i set: cache line i of this frame holds uncorrectable poison.</summary>
    public ulong PoisonMask { get; internal set; }
    /// <summary>Whether the 64-byte line holding byte <paramref name="offsetInPage"/> of this frame holds poison.</summary>
    public bool IsLinePoisoned(ulong offsetInPage) => (PoisonMask & (1UL << (int)(offsetInPage >> PageDefs.CACHELINE_SHIFT))) != 0;
    /// <summary>struct page flags.</summary>
    public PageFlags Flags { get; internal set; }
    /// <summary>The physical frame number.</summary>
    public ulong Pfn { get; private set; }
    /// <summary>Reverse map: user mappings of this frame (mm, page-aligned virtual address).</summary>
    internal List<(MmStruct Mm, ulong Va)>? Rmap;
    /// <summary>The shmem object and page index when <see cref="PageFlags.PG_swapbacked"/>.</summary>
    internal ShmemObject? ShmemOwner;
    internal ulong ShmemIndex;
    /// <summary>The page-cache folio this frame holds (folio->mapping of a file page), or null.</summary>
    internal KernelSim.Fs.Folio? CacheFolio;
    /// <summary>The hugetlb folio this frame belongs to (head or tail), or null.</summary>
    internal HugetlbFolio? Huge;

    internal PageFrame(ulong pfn) => Pfn = pfn;

    /// <summary>
    /// The machine was released and a <see cref="FramePool"/> keeps this struct page: every field but <see cref="Pfn"/> as
    /// the constructor leaves it (an rmap list keeps its emptied storage), so nothing of that machine stays reachable.
    /// </summary>
    internal void Reset()
    {
        PoisonMask = 0;
        Flags = PageFlags.None;
        Rmap?.Clear();
        ShmemOwner = null;
        ShmemIndex = 0;
        CacheFolio = null;
        Huge = null;
    }

    /// <summary>A pooled struct page (<see cref="Reset"/>) becomes frame <paramref name="pfn"/>'s, as new.</summary>
    internal void Reuse(ulong pfn) => Pfn = pfn;

    /// <summary>PageHWPoison().</summary>
    public bool IsHwPoison => (Flags & PageFlags.PG_hwpoison) != 0;

    /// <summary>TestClearPageHWPoison (include/linux/page-flags.h): clear PG_hwpoison; true if it was set.</summary>
    public bool TestClearHWPoison()
    {
        var was = IsHwPoison;
        Flags &= ~PageFlags.PG_hwpoison;
        return was;
    }

    /// <summary>SetPageHWPoison (include/linux/page-flags.h): mark the page poisoned (a driver's memory_failure path).</summary>
    public void SetHWPoison() => Flags |= PageFlags.PG_hwpoison;

    /// <summary>SetPageReserved: the page belongs to the kernel (e.g. ZERO_PAGE) and is never handed to the allocator's users.</summary>
    public void SetReserved() => Flags |= PageFlags.PG_reserved;

    /// <summary>__folio_set_anon (mm/rmap.c, from folio_add_new_anon_rmap): a freshly allocated page becomes anonymous memory.</summary>
    public void SetAnon() => Flags |= PageFlags.PAGE_MAPPING_ANON;

    internal void AddRmap(MmStruct mm, ulong va)
    {
        Rmap ??= [];
        Rmap.Add((mm, va));
    }

    internal void RemoveRmap(MmStruct mm, ulong va) => Rmap?.Remove((mm, va));

    /// <summary>Every user mapping of this frame, (mm, page-aligned address), as rmap_walk would visit them.</summary>
    public IReadOnlyList<(MmStruct Mm, ulong Va)> Mappings => (IReadOnlyList<(MmStruct Mm, ulong Va)>?)Rmap ?? [];

    /// <summary>Number of user mappings (page_mapcount).</summary>
    public int MapCount => Rmap?.Count ?? 0;
}
