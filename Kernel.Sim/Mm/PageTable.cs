using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelSim.Mm;

/// <summary>
/// The page table of one <see cref="MmStruct"/>: a <see cref="Pte"/> per 4 KiB virtual page, and a software TLB in
/// front of it for the copy hot path. The TLB caches what <see cref="TryTranslate"/> found (vpn → pfn, and whether a
/// store may skip the walk because the PTE is already writable and dirty). Every change to an entry goes through
/// this class and flushes the whole TLB first (flush_tlb_mm / flush_tlb_range after a PTE change in the kernel), so no
/// caller can change a PTE behind it: munmap, mprotect, CoW, memory_failure's unmap, migration, mkclean, fork and
/// mremap all write entries with the indexer or <see cref="Remove(ulong)"/>. Only <see cref="TryTranslate"/> changes
/// an entry in place, and only to set the dirty bit, which never changes a translation.
/// </summary>
internal sealed class PageTable : IPoolBorrower
{
    /// <summary>Direct-mapped TLB size: a 1 MiB buffer (256 pages) fits without evicting itself.</summary>
    internal const int TlbEntries = 256;
    /// <summary>The TLB's size until two pages compete for an entry (a small experiment's 64 KiB buffer fits).</summary>
    private const int SmallTlbEntries = 16;
    // Shared by every table until its first entry (never written: the indexer's setter replaces it first), then one lent
    // by the machine's frame pool or a new one. An address space that never maps a page allocates none.
    private static readonly Dictionary<ulong, Pte> NoPtes = [];
    private Dictionary<ulong, Pte> _map = NoPtes;
    // Shared by every table until its first walk fills an entry: an address space that never touches user memory
    // allocates no TLB (8 KiB at full size). Its one entry keeps Gen 0, which never matches _gen, so nothing hits in it.
    private static readonly TlbEntry[] NoTlb = new TlbEntry[1];
    private TlbEntry[] _tlb = NoTlb;
    // Entries are valid while their Gen equals _gen; a flush is one increment (entries start at Gen 0).
    private ulong _gen = 1;
    // The last run of pages TryTranslatePages found on consecutive frames (valid while _rangeGen == _gen; starts invalid).
    private ulong _rangeVpn, _rangePages, _rangePfn, _rangeGen;
    private bool _rangeWrite;
    // The machine's memory, whose frame pool (if any) lends TLBs and the entry dictionary and takes them back when the
    // machine is released.
    private readonly PhysicalMemory? _phys;

    /// <summary>A page table whose TLBs and entry dictionary come from <paramref name="phys"/>'s frame pool when it has one.</summary>
    internal PageTable(PhysicalMemory? phys = null) => _phys = phys;

    /// <inheritdoc/>
    public bool Lent { get; set; }

    private struct TlbEntry
    {
        public ulong Vpn;
        public ulong Pfn;
        public ulong Gen;
        /// <summary>The PTE is writable and dirty: a store can use the entry without walking.</summary>
        public bool WriteDirty;
    }

    /// <summary>Number of entries (present or hwpoison).</summary>
    public int Count => _map.Count;

    /// <summary>The virtual page numbers with an entry.</summary>
    public Dictionary<ulong, Pte>.KeyCollection Keys => _map.Keys;

    /// <summary>The entries.</summary>
    public Dictionary<ulong, Pte>.ValueCollection Values => _map.Values;

    /// <summary>The entry for vpn, if any (a copy: change it with the indexer).</summary>
    public bool TryGetValue(ulong vpn, out Pte pte) => _map.TryGetValue(vpn, out pte);

    /// <summary>True if vpn has an entry.</summary>
    public bool ContainsKey(ulong vpn) => _map.ContainsKey(vpn);

    /// <summary>Read or replace the entry for vpn; replacing flushes the TLB.</summary>
    public Pte this[ulong vpn]
    {
        get => _map[vpn];
        set
        {
            Flush();
            if (ReferenceEquals(_map, NoPtes)) _map = NewMap();
            _map[vpn] = value;
        }
    }

    /// <summary>Remove the entry for vpn (flushes the TLB).</summary>
    public bool Remove(ulong vpn)
    {
        Flush();
        return _map.Remove(vpn);
    }

    /// <summary>Remove the entry for vpn and return it (flushes the TLB).</summary>
    public bool Remove(ulong vpn, out Pte pte)
    {
        Flush();
        return _map.Remove(vpn, out pte);
    }

    /// <summary>Remove every entry (flushes the TLB).</summary>
    public void Clear()
    {
        Flush();
        _map.Clear();
    }

    /// <summary>Enumerate (vpn, entry) pairs.</summary>
    public Dictionary<ulong, Pte>.Enumerator GetEnumerator() => _map.GetEnumerator();

    /// <summary>flush_tlb_mm: forget every cached translation.</summary>
    public void Flush() => _gen++;

    /// <summary>
    /// The pfn for an access if the page is present and the PTE permits it (no fault needed); a store marks the PTE
    /// dirty. A TLB hit returns what the walk returned last time for the same page and access, with no change since.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryTranslate(ulong va, bool write, out ulong pfn)
    {
        var vpn = va >> PageDefs.PAGE_SHIFT;
        var tlb = _tlb;
        ref var e = ref tlb[(int)(vpn & (ulong)(tlb.Length - 1))];
        if (Hits(e, vpn, write, _gen))
        {
            pfn = e.Pfn;
            return true;
        }
        return Walk(vpn, write, out pfn);
    }

    /// <summary>
    /// <see cref="TryTranslate"/> of the pages vpn, vpn+1, … in order into <paramref name="pfns"/>, stopping at the
    /// first that fails; returns how many were translated. Each page is looked up, walked and marked dirty exactly as
    /// one <see cref="TryTranslate"/> call would (a walk may grow the TLB, so it is reloaded after one).
    /// <paramref name="linear"/> tells whether the frames found are consecutive (pfns[i] = pfns[0] + i); then only
    /// pfns[0] need be filled in: a range inside the last linear range translated, with no change to any entry since
    /// (the same generation) and a store only if that one was a store, is answered from it at once. Every page of it
    /// would translate to the same frame with nothing to mark dirty (a store's walk marked them all), so skipping the
    /// per-page lookups changes nothing but the time.
    /// </summary>
    public int TryTranslatePages(ulong vpn, bool write, Span<ulong> pfns, out bool linear)
    {
        if (_rangeGen == _gen && vpn >= _rangeVpn && vpn - _rangeVpn + (ulong)pfns.Length <= _rangePages && (!write || _rangeWrite) && pfns.Length != 0)
        {
            pfns[0] = _rangePfn + (vpn - _rangeVpn);
            linear = true;
            return pfns.Length;
        }
        var first = vpn;
        var tlb = _tlb;
        var gen = _gen;
        ulong next = 0, breaks = 0;
        for (var i = 0; i < pfns.Length; i++, vpn++)
        {
            ref var e = ref tlb[(int)(vpn & (ulong)(tlb.Length - 1))];
            ulong pfn;
            if (Hits(e, vpn, write, gen)) pfn = e.Pfn;
            else if (Walk(vpn, write, out pfn)) tlb = _tlb;
            else
            {
                linear = false;
                return i;
            }
            pfns[i] = pfn;
            breaks |= i == 0 ? 0 : pfn ^ next;
            next = pfn + 1;
        }
        linear = breaks == 0;
        if (linear && pfns.Length != 0)
        {
            _rangeVpn = first;
            _rangePages = (ulong)pfns.Length;
            _rangePfn = pfns[0];
            _rangeWrite = write;
            _rangeGen = gen;
        }
        return pfns.Length;
    }

    /// <summary>
    /// <see cref="TryTranslate"/> for the pages from <paramref name="vpn"/> on while they hit in the TLB: their pfns go to
    /// <paramref name="pfns"/> and the number of leading hits is returned (a hit changes nothing, so a caller may translate a
    /// run of them at once and leave the first miss to <see cref="TryTranslate"/>; get_user_pages_fast's walk of a buffer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int TranslateHits(ulong vpn, bool write, Span<ulong> pfns)
    {
        var tlb = _tlb;
        var gen = _gen;
        var mask = (ulong)(tlb.Length - 1);
        var i = 0;
        for (; i < pfns.Length; i++, vpn++)
        {
            ref var e = ref tlb[(int)(vpn & mask)];
            if (!Hits(e, vpn, write, gen)) break;
            pfns[i] = e.Pfn;
        }
        return i;
    }

    /// <summary><see cref="TranslateHits"/> out of line (a long run).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal int TranslateHitsRun(ulong vpn, bool write, Span<ulong> pfns) => TranslateHits(vpn, write, pfns);

    /// <summary>The TLB entry holds vpn's translation for this access: valid in this generation, and for a store, writable and dirty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Hits(in TlbEntry e, ulong vpn, bool write, ulong gen) => e.Gen == gen && e.Vpn == vpn && (!write || e.WriteDirty);

    /// <summary>The entry dictionary, empty: lent by the machine's frame pool (cleared), or new.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Dictionary<ulong, Pte> NewMap() => _phys?.LendPtes(this) ?? [];

    /// <summary>A TLB of <paramref name="entries"/> entries, every one invalid (Gen 0): lent by the machine's frame pool, or new.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private TlbEntry[] NewTlb(int entries) => _phys?.LendTlb(this, entries == TlbEntries) as TlbEntry[] ?? new TlbEntry[entries];

    /// <summary>
    /// The first TLB (small), or a full-size one in place of the small one, which goes back to the pool cleared if it came
    /// from there (no caller holds a TLB across a walk: <see cref="TryTranslatePages"/> reloads it after one).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowTlb()
    {
        var old = _tlb;
        _tlb = NewTlb(ReferenceEquals(old, NoTlb) ? SmallTlbEntries : TlbEntries);
        if (Lent && !ReferenceEquals(old, NoTlb))
        {
            Array.Clear(old);
            _phys!.GiveBackTlb(old);
        }
    }

    /// <summary>
    /// The machine is released: the TLB and the entry dictionary go back (cleared) to <paramref name="pool"/> for its next
    /// machine, and this table keeps none (a lookup walks again and finds no entry). A dictionary grown past
    /// <see cref="FramePool.MaxPteCapacity"/> is left to the GC.
    /// </summary>
    public void ReturnLent(FramePool pool)
    {
        var t = _tlb;
        _tlb = NoTlb;
        _gen++;
        if (!ReferenceEquals(t, NoTlb))
        {
            Array.Clear(t);
            pool.ReturnTlb(t, t.Length == TlbEntries);
        }
        var m = _map;
        _map = NoPtes;
        if (!ReferenceEquals(m, NoPtes) && m.EnsureCapacity(0) <= FramePool.MaxPteCapacity)
        {
            m.Clear();
            pool.ReturnPtes(m);
        }
    }

    private bool Walk(ulong vpn, bool write, out ulong pfn)
    {
        ref var pte = ref CollectionsMarshal.GetValueRefOrNullRef(_map, vpn);
        if (Unsafe.IsNullRef(ref pte) || !pte.Present || pte.ProtNone || (write && !pte.Writable))
        {
            pfn = 0;
            return false;
        }
        if (write) pte.Dirty = true;
        pfn = pte.Pfn;
        ref var e = ref _tlb[(int)(vpn & (ulong)(_tlb.Length - 1))];
        if (_tlb.Length < TlbEntries && (ReferenceEquals(_tlb, NoTlb) || e.Gen == _gen && e.Vpn != vpn))
        {
            // First fill, or a conflict in the small TLB: grow (dropping cached entries is a flush; a miss only walks again).
            GrowTlb();
            e = ref _tlb[(int)(vpn & (ulong)(_tlb.Length - 1))];
        }
        e.Vpn = vpn;
        e.Pfn = pfn;
        e.WriteDirty = pte.Writable && pte.Dirty;
        e.Gen = _gen;
        return true;
    }
}
