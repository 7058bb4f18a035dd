namespace KernelSim.Mm;

/// <summary>
/// One 2 MiB hugetlb folio (a compound page of 512 frames from the hugetlb pool): where it is used — the page cache of
/// a hugetlbfs inode at a huge-page index, or a private (anonymous) copy — and the raw hwpoison list
/// (folio-&gt;_hugetlb_hwpoison: which 4 KiB subpages memory_failure hit).
/// </summary>
public sealed class HugetlbFolio
{
    internal HugetlbFolio(Hugetlb pool, ulong headPfn)
    {
        Pool = pool;
        HeadPfn = headPfn;
    }

    /// <summary>The pool (hstate) it came from.</summary>
    public Hugetlb Pool { get; }

    /// <summary>The head page's pfn (2 MiB aligned).</summary>
    public ulong HeadPfn { get; }

    /// <summary>On the pool's free list.</summary>
    public bool Free { get; internal set; } = true;

    /// <summary>A private copy (MAP_PRIVATE CoW or a hole read there), not in any page cache.</summary>
    public bool Anon { get; internal set; }

    /// <summary>The hugetlbfs inode whose page cache holds it, with its huge-page index.</summary>
    internal IHugetlbCacheOwner? CacheOwner;
    internal ulong CacheIndex;

    /// <summary>Raw HWPoison subpages (pfns) recorded by memory_failure (hugetlb_update_hwpoison).</summary>
    public SortedSet<ulong> RawHwp { get; } = [];

    /// <summary>folio_test_hwpoison on the head: any subpage was hit.</summary>
    public bool HwPoison => RawHwp.Count > 0;

    /// <summary>is_raw_hwpoison_page_in_hugepage for the subpage at <paramref name="pfn"/>.</summary>
    public bool IsRawHwpoison(ulong pfn) => RawHwp.Contains(pfn);
}

/// <summary>
/// The 2 MiB hstate (mm/hugetlb.c): a pool of huge pages taken from DRAM by writing vm.nr_hugepages, handed out at
/// fault time (clear_huge_page) and given back when the last user drops them. A huge page that memory_failure poisoned
/// is never handed out again; a free one is dissolved into base pages (the poisoned subpage stays out).
/// </summary>
public sealed class Hugetlb(PhysicalMemory phys)
{
    /// <summary>HPAGE_SHIFT (x86-64 PMD size).</summary>
    public const int HPAGE_SHIFT = PageDefs.PMD_SHIFT;
    /// <summary>Pages per huge page (pages_per_huge_page).</summary>
    public const int PagesPerHuge = 1 << (HPAGE_SHIFT - PageDefs.PAGE_SHIFT);
    /// <summary>HPAGE_SIZE.</summary>
    public const ulong HPAGE_SIZE = 1UL << HPAGE_SHIFT;

    private readonly List<HugetlbFolio> _pool = [];

    /// <summary>nr_huge_pages (HugePages_Total).</summary>
    public ulong NrHugePages => (ulong)_pool.Count;

    /// <summary>free_huge_pages (HugePages_Free).</summary>
    public ulong FreeHugePages
    {
        get
        {
            Reclaim();
            return (ulong)_pool.Count(f => f.Free);
        }
    }

    /// <summary>
    /// Write vm.nr_hugepages (set_max_huge_pages): grow with 2 MiB-aligned runs from the page allocator (stopping
    /// quietly when memory runs out, as the kernel does) or shrink by dissolving free huge pages only. Returns the new
    /// count.
    /// </summary>
    public ulong SetNrHugePages(ulong count)
    {
        Reclaim();
        while ((ulong)_pool.Count < count)
        {
            var head = phys.AllocContiguousAligned(PagesPerHuge, PagesPerHuge);
            if (head < 0) break;
            var folio = new HugetlbFolio(this, (ulong)head);
            for (var i = 0; i < PagesPerHuge; i++) phys.Frame((ulong)head + (ulong)i).Huge = folio;
            _pool.Add(folio);
        }
        for (var i = _pool.Count - 1; i >= 0 && (ulong)_pool.Count > count; i--)
        {
            if (_pool[i].Free) Dissolve(_pool[i]);
        }
        return (ulong)_pool.Count;
    }

    /// <summary>alloc_hugetlb_folio: the lowest free huge page, zeroed (clear_huge_page), or null (→ VM_FAULT_OOM / −ENOMEM).</summary>
    public HugetlbFolio? Alloc(bool anon)
    {
        Reclaim();
        var f = _pool.Where(x => x.Free).OrderBy(x => x.HeadPfn).FirstOrDefault();
        if (f == null) return null;
        f.Free = false;
        f.Anon = anon;
        for (var i = 0; i < PagesPerHuge; i++) phys.WriteSpan(f.HeadPfn + (ulong)i, 0, (int)PageDefs.PAGE_SIZE).Clear();
        return f;
    }

    /// <summary>free_huge_folio: back to the free list; a HWPoison huge page is dissolved instead.</summary>
    public void Put(HugetlbFolio f)
    {
        ArgumentNullException.ThrowIfNull(f);
        f.CacheOwner = null;
        f.Anon = false;
        if (f.HwPoison) Dissolve(f);
        else f.Free = true;
    }

    /// <summary>
    /// dissolve_free_hugetlb_folio: the huge page leaves the pool and its subpages go to the page allocator, except
    /// the HWPoison ones (taken off the free lists).
    /// </summary>
    internal void Dissolve(HugetlbFolio f)
    {
        _pool.Remove(f);
        f.Free = false;
        for (var i = 0; i < PagesPerHuge; i++)
        {
            var pfn = f.HeadPfn + (ulong)i;
            var frame = phys.Frame(pfn);
            frame.Huge = null;
            // __folio_free_raw_hwp(move_flag): PG_hwpoison moves from the head to each raw error page.
            if (f.RawHwp.Contains(pfn)) frame.Flags |= PageFlags.PG_hwpoison;
            else
            {
                frame.Flags &= ~PageFlags.PG_hwpoison;
                phys.FreePage(pfn);
            }
        }
    }

    /// <summary>Private copies no process maps any more go back to the pool (the last unmap's folio_put).</summary>
    internal void Reclaim()
    {
        foreach (var f in _pool.ToArray())
        {
            if (!f.Anon || f.Free) continue;
            var mapped = false;
            for (var i = 0; i < PagesPerHuge && !mapped; i++) mapped = phys.Frame(f.HeadPfn + (ulong)i).MapCount > 0;
            if (!mapped) Put(f);
        }
    }

    /// <summary>The kernel-internal hugetlbfs instance (hugetlbfs_vfsmount) memfd_create(MFD_HUGETLB) uses, made on first use.</summary>
    internal object? InternalMount { get; set; }
}

/// <summary>A hugetlbfs inode's page cache as memory_failure sees it (hugetlbfs_error_remove_folio).</summary>
internal interface IHugetlbCacheOwner
{
    /// <summary>-&gt;error_remove_folio: drop the folio from the page cache (≤6.0) or keep it there (6.1+); 0.</summary>
    int ErrorRemoveFolio(HugetlbFolio folio);
}
