using System.Collections;
using KernelSim.Lib;

namespace KernelSim.Block;

/// <summary>enum req_op (include/linux/blk_types.h), the operations this model issues.</summary>
public enum BioOp
{
    /// <summary>REQ_OP_READ.</summary>
    REQ_OP_READ = 0,
    /// <summary>REQ_OP_WRITE.</summary>
    REQ_OP_WRITE = 1,
    /// <summary>REQ_OP_FLUSH: an empty cache flush.</summary>
    REQ_OP_FLUSH = 2,
}

/// <summary>req_flag_bits (include/linux/blk_types.h) used by the model.</summary>
[Flags]
public enum BioFlags
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>REQ_SYNC.</summary>
    REQ_SYNC = 1 << 0,
    /// <summary>REQ_META.</summary>
    REQ_META = 1 << 1,
    /// <summary>REQ_FUA: forced unit access (data is durable on completion).</summary>
    REQ_FUA = 1 << 2,
    /// <summary>REQ_PREFLUSH: flush the write cache before the data.</summary>
    REQ_PREFLUSH = 1 << 3,
    /// <summary>REQ_RAHEAD: readahead (may fail without consequence).</summary>
    REQ_RAHEAD = 1 << 4,
}

/// <summary>
/// struct bio (include/linux/blk_types.h): one block I/O — the operation and flags (bi_opf), the starting
/// 512-byte sector (bi_iter.bi_sector), the bio_vec segments (bi_io_vec) and the completion status
/// (bi_status). Completion is synchronous in this model: the driver sets <see cref="Status"/> and calls
/// <see cref="Endio"/>.
/// </summary>
public sealed class Bio
{
    /// <summary>BIO_MAX_VECS (include/linux/bio.h): the most segments one bio holds.</summary>
    public const int BIO_MAX_VECS = 256;

    private BioVec[] _vecs = [];
    private int _vcnt;
    private VecList? _vecList;

    /// <summary>bio_alloc(bdev, nr_vecs, opf): a bio for <paramref name="bdev"/> starting at <paramref name="sector"/>.</summary>
    public Bio(BlockDevice? bdev, BioOp op, long sector, BioFlags flags = BioFlags.None)
    {
        Bdev = bdev;
        Op = op;
        Sector = sector;
        Flags = flags;
    }

    /// <summary>
    /// bio_init on a completed bio's memory (what bio_alloc after bio_put may hand back): the same state as a new
    /// <see cref="Bio(BlockDevice?, BioOp, long, BioFlags)"/> — no segments, size 0, status 0, not completed, no bi_end_io.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal Bio Init(BlockDevice? bdev, BioOp op, long sector, BioFlags flags)
    {
        if (!ReferenceEquals(Bdev, bdev)) Bdev = bdev; // the same device again on most calls: no reference store
        Op = op;
        Sector = sector;
        Flags = flags;
        _vcnt = 0;
        Size = 0;
        Status = default;
        Completed = false;
        EndIo = null;
        return this;
    }

    /// <summary>bi_bdev.</summary>
    public BlockDevice? Bdev { get; set; }

    /// <summary>bio_op(bio).</summary>
    public BioOp Op { get; private set; }

    /// <summary>The REQ_* flags of bi_opf.</summary>
    public BioFlags Flags { get; set; }

    /// <summary>bi_iter.bi_sector: the first 512-byte sector.</summary>
    public long Sector { get; set; }

    /// <summary>bi_io_vec[0 .. bi_vcnt) (a live view).</summary>
    public IReadOnlyList<BioVec> Vecs => _vecList ??= new VecList(this);

    /// <summary>bi_io_vec[0 .. bi_vcnt) as a span: what a driver's segment walk reads (no interface call per segment).</summary>
    public ReadOnlySpan<BioVec> IoVec => new(_vecs, 0, _vcnt);

    /// <summary>bi_iter.bi_size: total bytes of the segments.</summary>
    public ulong Size { get; private set; }

    /// <summary>bi_status.</summary>
    public BlkStatus Status { get; set; }

    /// <summary>True once <see cref="Endio"/> ran.</summary>
    public bool Completed { get; private set; }

    /// <summary>bi_end_io: called once by <see cref="Endio"/>.</summary>
    public Action<Bio>? EndIo { get; set; }

    /// <summary>op_is_write(bio_op(bio)).</summary>
    public bool IsWrite => Op == BioOp.REQ_OP_WRITE;

    /// <summary>bio_sectors(bio): bi_size / 512.</summary>
    public ulong Sectors => Size >> 9;

    /// <summary>
    /// bio_add_page(bio, page, len, off): append a segment (merged into the previous one when it continues it
    /// physically, as bvec_try_merge_page does). Returns len, or 0 when the bio is full (BIO_MAX_VECS).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public uint AddPage(ulong pfn, uint len, uint offset)
    {
        if (len == 0) return 0;
        var n = _vcnt;
        if (n > 0)
        {
            ref var last = ref _vecs[n - 1];
            var lastEnd = (last.Pfn << Mm.PageDefs.PAGE_SHIFT) + last.Offset + last.Len;
            if (lastEnd == (pfn << Mm.PageDefs.PAGE_SHIFT) + offset)
            {
                last = last with { Len = last.Len + len };
                Size += len;
                return len;
            }
        }
        if (n >= BIO_MAX_VECS) return 0;
        if (n == _vecs.Length) GrowVecs(n);
        _vecs[n] = new BioVec(pfn, offset, len);
        _vcnt = n + 1;
        Size += len;
        return len;
    }

    // Out of line: a reused bio has its array already (bio_alloc's bvec pool).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void GrowVecs(int n) => Array.Resize(ref _vecs, Math.Min(Math.Max(4, 2 * n), BIO_MAX_VECS));

    /// <summary>bio_endio: mark complete and call bi_end_io.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Endio()
    {
        if (Completed) return;
        Completed = true;
        EndIo?.Invoke(this);
    }

    /// <inheritdoc/>
    public override string ToString() => $"bio {Op} sector={Sector} size={Size} vcnt={_vcnt} flags={Flags} status={Status}";

    /// <summary>The <see cref="Vecs"/> view over the segment array.</summary>
    private sealed class VecList(Bio bio) : IReadOnlyList<BioVec>
    {
        public BioVec this[int index] => (uint)index < (uint)bio._vcnt ? bio._vecs[index] : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => bio._vcnt;

        public IEnumerator<BioVec> GetEnumerator()
        {
            for (var i = 0; i < bio._vcnt; i++) yield return bio._vecs[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
