using KernelSim.Fs;
using KernelSim.Mm;

namespace KernelSim.Lib;

/// <summary>
/// struct iov_iter (include/linux/uio.h): a position in a list of buffers. Created by the factory methods
/// (iov_iter_ubuf, iov_iter_init, iov_iter_kvec, iov_iter_bvec, iov_iter_discard; iov_iter_xarray and
/// iov_iter_folio_queue through <see cref="IovIterOps"/>, which checks the release) and moved by
/// <see cref="IovIterOps"/>. The segment pointer is modelled as <see cref="SegIndex"/> into the array the
/// iterator was created with; <c>SegIndex + NrSegs</c> is always the number of segments at creation.
/// XARRAY and FOLIOQ iterators have nr_segs 0, as in the kernel.
/// </summary>
public sealed class IovIter
{
    private readonly Iovec[]? _iov;
    private readonly Kvec[]? _kvec;
    private readonly BioVec[]? _bvec;
    private readonly ulong _initialSegs;

    private IovIter(IterType type, bool source, ulong count, ulong nrSegs, Iovec[]? iov = null, Kvec[]? kvec = null, BioVec[]? bvec = null, UserPtr ubuf = default,
        AddressSpace? xarray = null, long xarrayStart = 0, FolioQueue? folioq = null, int folioqSlot = 0)
    {
        Xarray = xarray;
        XarrayStart = xarrayStart;
        Folioq = folioq;
        FolioqSlot = folioqSlot;
        Type = type;
        DataSource = source;
        Count = count;
        NrSegs = nrSegs;
        _initialSegs = nrSegs;
        _iov = iov;
        _kvec = kvec;
        _bvec = bvec;
        UbufBase = ubuf;
    }

    /// <summary>iter_type.</summary>
    public IterType Type { get; }

    /// <summary>data_source: true (ITER_SOURCE / WRITE) when the iterator supplies data, false (ITER_DEST / READ) when it receives it.</summary>
    public bool DataSource { get; }

    /// <summary>count: bytes left in the whole iterator.</summary>
    public ulong Count { get; internal set; }

    /// <summary>iov_offset: offset in the current segment (for UBUF, from the start of the buffer).</summary>
    public ulong IovOffset { get; internal set; }

    /// <summary>nr_segs: segments left, counting the current one (1 for UBUF, 0 for DISCARD).</summary>
    public ulong NrSegs { get; internal set; }

    /// <summary>Index of the current segment in its array (the __iov / kvec / bvec pointer).</summary>
    public int SegIndex { get; internal set; }

    /// <summary>nofault: get_pages uses FOLL_NOFAULT (5.16+).</summary>
    public bool Nofault { get; set; }

    /// <summary>ubuf: the buffer of a UBUF iterator.</summary>
    public UserPtr UbufBase { get; private set; }

    /// <summary>xarray: the page cache an XARRAY iterator walks (null otherwise).</summary>
    public AddressSpace? Xarray { get; }

    /// <summary>xarray_start: the file position of the first byte of an XARRAY iterator.</summary>
    public long XarrayStart { get; }

    /// <summary>folioq: the current folio_queue segment of a FOLIOQ iterator (null otherwise).</summary>
    public FolioQueue? Folioq { get; internal set; }

    /// <summary>folioq_slot: the current slot in <see cref="Folioq"/> (may equal the slot count after the last one).</summary>
    public int FolioqSlot { get; internal set; }

    /// <summary>The iovec array of an IOVEC iterator (empty otherwise).</summary>
    public ReadOnlySpan<Iovec> IovecSegments => _iov;

    /// <summary>The kvec array of a KVEC iterator (empty otherwise).</summary>
    public ReadOnlySpan<Kvec> KvecSegments => _kvec;

    /// <summary>The bio_vec array of a BVEC iterator (empty otherwise).</summary>
    public ReadOnlySpan<BioVec> BvecSegments => _bvec;

    /// <summary>user_backed_iter(): UBUF or IOVEC.</summary>
    public bool IsUserBacked => Type is IterType.ITER_UBUF or IterType.ITER_IOVEC;

    /// <summary>iov_iter_rw(): WRITE (1) for a source, READ (0) for a destination.</summary>
    public int Rw => DataSource ? 1 : 0;

    /// <summary>
    /// iter_iov_len(): for UBUF the count, otherwise the current segment's length minus iov_offset
    /// (0 when past the last segment or for DISCARD).
    /// </summary>
    public ulong IterIovLen => Type switch
    {
        IterType.ITER_UBUF => Count,
        _ => NrSegs == 0 || SegIndex >= SegCountTotal ? 0 : SegLen(SegIndex) - IovOffset,
    };

    internal int SegCountTotal => (int)_initialSegs;

    /// <summary>Length of segment <paramref name="idx"/> (iov_len / bv_len).</summary>
    internal ulong SegLen(int idx) => Type switch
    {
        IterType.ITER_IOVEC => _iov![idx].Len,
        IterType.ITER_KVEC => _kvec![idx].Len,
        IterType.ITER_BVEC => _bvec![idx].Len,
        _ => 0,
    };

    /// <summary>Start address of segment idx (user or kernel address bits; BVEC: offset in the page run).</summary>
    internal ulong SegBase(int idx) => Type switch
    {
        IterType.ITER_IOVEC => _iov![idx].Base.Value,
        IterType.ITER_KVEC => _kvec![idx].Base.Value,
        IterType.ITER_BVEC => _bvec![idx].Offset,
        IterType.ITER_UBUF => UbufBase.Value,
        _ => 0,
    };

    internal BioVec Bvec(int idx) => _bvec![idx];

    // ---- constructors (lib/iov_iter.c) ---------------------------------------------------------------

    /// <summary>iov_iter_ubuf on an existing UBUF iterator (same direction): a fresh iterator over buf, for reuse without allocating.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void ResetUbuf(UserPtr buf, ulong len)
    {
        if (Type != IterType.ITER_UBUF) throw new InvalidOperationException("ResetUbuf on a non-UBUF iterator");
        UbufBase = buf;
        Restart(len);
    }

    /// <summary>
    /// iov_iter_init on an existing one-segment IOVEC iterator (same direction) with its one iovec rewritten: a fresh
    /// iterator over buf, as new_sync_read builds it before 6.0, for reuse without allocating.
    /// </summary>
    internal void ResetIovec(UserPtr buf, ulong len)
    {
        if (Type != IterType.ITER_IOVEC || _initialSegs != 1) throw new InvalidOperationException("ResetIovec on an iterator that is not a one-segment IOVEC");
        _iov![0] = new Iovec(buf, len);
        Restart(len);
    }

    /// <summary>The position of a new one-segment iterator of <paramref name="len"/> bytes (what both resets share).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void Restart(ulong len)
    {
        Count = len;
        IovOffset = 0;
        NrSegs = 1;
        SegIndex = 0;
        Nofault = false;
        Folioq = null;
        FolioqSlot = 0;
    }

    /// <summary>iov_iter_ubuf (include/linux/uio.h, 6.0+): a single user buffer.</summary>
    public static IovIter Ubuf(bool source, UserPtr buf, ulong len) => new(IterType.ITER_UBUF, source, len, 1, ubuf: buf);

    /// <summary>iov_iter_init (lib/iov_iter.c): an IOVEC iterator over <paramref name="segs"/> (all of them are nr_segs) with the given count.</summary>
    public static IovIter Iovec(bool source, Iovec[] segs, ulong count) => new(IterType.ITER_IOVEC, source, count, (ulong)segs.Length, iov: segs);

    /// <summary>iov_iter_kvec (lib/iov_iter.c).</summary>
    public static IovIter Kvec(bool source, Kvec[] segs, ulong count) => new(IterType.ITER_KVEC, source, count, (ulong)segs.Length, kvec: segs);

    /// <summary>iov_iter_bvec (lib/iov_iter.c).</summary>
    public static IovIter Bvec(bool source, BioVec[] segs, ulong count) => new(IterType.ITER_BVEC, source, count, (ulong)segs.Length, bvec: segs);

    /// <summary>iov_iter_discard (lib/iov_iter.c): a READ iterator that drops <paramref name="count"/> bytes.</summary>
    public static IovIter Discard(ulong count) => new(IterType.ITER_DISCARD, false, count, 0);

    /// <summary>iov_iter_xarray (lib/iov_iter.c): pages of a page cache from file position <paramref name="start"/>.</summary>
    internal static IovIter NewXarray(bool source, AddressSpace mapping, long start, ulong count) =>
        new(IterType.ITER_XARRAY, source, count, 0, xarray: mapping, xarrayStart: start);

    /// <summary>iov_iter_folio_queue (lib/iov_iter.c): folios of a folio_queue from (first_slot, offset).</summary>
    internal static IovIter NewFolioQueue(bool source, FolioQueue folioq, int firstSlot, ulong offset, ulong count)
    {
        var i = new IovIter(IterType.ITER_FOLIOQ, source, count, 0, folioq: folioq, folioqSlot: firstSlot);
        i.IovOffset = offset;
        return i;
    }

    /// <summary>An empty iterator of the type import_iovec produces for nr_segs == 0.</summary>
    internal static IovIter Empty(bool source) => new(IterType.ITER_IOVEC, source, 0, 0, iov: []);

    // ---- save / restore (lib/iov_iter.c iov_iter_save_state, iov_iter_restore) -------------------------

    /// <summary>iov_iter_save_state (include/linux/uio.h).</summary>
    public IovIterState SaveState() => new(IovOffset, Count, NrSegs);

    /// <summary>
    /// iov_iter_restore (lib/iov_iter.c): restore iov_offset/count/nr_segs and move the segment pointer back by
    /// the nr_segs difference (UBUF/IOVEC/KVEC/BVEC; other types are left alone, as the kernel WARNs).
    /// </summary>
    public void Restore(IovIterState state)
    {
        if (Type is not (IterType.ITER_UBUF or IterType.ITER_IOVEC or IterType.ITER_KVEC or IterType.ITER_BVEC)) return;
        IovOffset = state.IovOffset;
        Count = state.Count;
        if (Type == IterType.ITER_UBUF) return;
        SegIndex -= (int)((long)state.NrSegs - (long)NrSegs);
        NrSegs = state.NrSegs;
    }

    /// <inheritdoc/>
    public override string ToString() => Type switch
    {
        IterType.ITER_XARRAY => $"{Type} {(DataSource ? "SOURCE" : "DEST")} count={Count} iov_offset={IovOffset} xarray_start={XarrayStart}",
        IterType.ITER_FOLIOQ => $"{Type} {(DataSource ? "SOURCE" : "DEST")} count={Count} iov_offset={IovOffset} folioq_slot={FolioqSlot}",
        _ => $"{Type} {(DataSource ? "SOURCE" : "DEST")} count={Count} iov_offset={IovOffset} nr_segs={NrSegs} seg={SegIndex}",
    };
}
