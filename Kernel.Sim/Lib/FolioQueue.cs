using KernelSim.Fs;
using KernelSim.Mm;

namespace KernelSim.Lib;

/// <summary>
/// One segment of a struct folio_queue (include/linux/folio_queue.h, 6.12+): up to <see cref="NrSlots"/>
/// folios, each a physically contiguous run of 2^order pages given by its first page frame, with
/// next/prev links to the neighbouring segments. An ITER_FOLIOQ iterator walks the chain
/// (<see cref="IovIterOps.IovIterFolioQueue"/>). Appending does not check capacity, as in the kernel: call
/// <see cref="Full"/> and extend the chain first.
/// </summary>
public sealed class FolioQueue
{
    /// <summary>PAGEVEC_SIZE (include/linux/pagevec.h, 31 in 6.12): slots per segment.</summary>
    public const int PAGEVEC_SIZE = 31;

    private readonly ulong[] _pfn = new ulong[PAGEVEC_SIZE];
    private readonly byte[] _order = new byte[PAGEVEC_SIZE];
    private readonly bool[] _present = new bool[PAGEVEC_SIZE];

    /// <summary>next: the following segment or null.</summary>
    public FolioQueue? Next { get; private set; }

    /// <summary>prev: the preceding segment or null.</summary>
    public FolioQueue? Prev { get; private set; }

    /// <summary>folioq_count: folios appended (not decreased by <see cref="Clear"/>).</summary>
    public int Count { get; private set; }

    /// <summary>folioq_nr_slots: the capacity of this segment.</summary>
    public static int NrSlots => PAGEVEC_SIZE;

    /// <summary>folioq_full: every slot has been appended to.</summary>
    public bool Full => Count >= NrSlots;

    /// <summary>
    /// folioq_append: put the folio whose first page is <paramref name="pfn"/> (2^<paramref name="order"/>
    /// contiguous pages) in the next slot; returns the slot.
    /// </summary>
    public int Append(ulong pfn, int order = 0)
    {
        var slot = Count++;
        _pfn[slot] = pfn;
        _order[slot] = (byte)order;
        _present[slot] = true;
        return slot;
    }

    /// <summary>folioq_append of a page-cache folio (order 0 in this model).</summary>
    public int Append(Folio folio) => Append(folio.Pfn);

    /// <summary>Link a new empty segment after this one (the caller's kzalloc + folioq_init + next/prev assignment).</summary>
    public FolioQueue AddSegment()
    {
        var n = new FolioQueue { Prev = this };
        Next = n;
        return n;
    }

    /// <summary>folioq_clear: empty a slot (iteration stops at an empty slot); the count is unchanged.</summary>
    public void Clear(int slot) => _present[slot] = false;

    /// <summary>folioq_folio: the first page frame of the folio in <paramref name="slot"/>, or null when empty.</summary>
    public ulong? Folio(int slot) => slot < PAGEVEC_SIZE && _present[slot] ? _pfn[slot] : null;

    /// <summary>folioq_folio_order: 0 for a slot never appended to.</summary>
    public int FolioOrder(int slot) => slot < PAGEVEC_SIZE ? _order[slot] : 0;

    /// <summary>folioq_folio_size: PAGE_SIZE &lt;&lt; order.</summary>
    public ulong FolioSize(int slot) => PageDefs.PAGE_SIZE << FolioOrder(slot);

    internal ulong Pfn(int slot) => _pfn[slot];

    internal bool Present(int slot) => slot < PAGEVEC_SIZE && _present[slot];
}
