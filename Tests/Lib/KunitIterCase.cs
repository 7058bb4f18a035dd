using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;

namespace KernelSim.Tests.Lib;

/// <summary>What an iterator looks like after one KUnit copy of its whole count (lib/kunit_iov_iter.c checks).</summary>
public enum AfterCopy
{
    /// <summary>nr_segs 0 (the array iterators: every segment used).</summary>
    NrSegsZero,
    /// <summary>iov_offset == the range size (UBUF, XARRAY: offset from the start).</summary>
    OffsetIsSize,
    /// <summary>iov_offset == range end % PAGE_SIZE (FOLIOQ: offset in the current folio).</summary>
    OffsetIsEndInPage,
}

/// <summary>One extract_pages result: bytes, offset0 and the buffer pages listed (first index, count).</summary>
public readonly record struct Chunk(long Len, ulong Offset0, int FirstPage, int Pages)
{
    public override string ToString() => $"(0x{Len:x}, 0x{Offset0:x}, page {FirstPage}, {Pages})";
}

/// <summary>
/// One row of the iterator table the KUnit-shaped tests run over: an iterator type, how lib/kunit_iov_iter.c
/// loads it (one iterator over all ranges, or one per range), the range table, the state after a copy and the
/// exact iov_iter_extract_pages chunking (maxsize 100 KiB, 8 pages per call).
/// </summary>
public sealed record KunitRow(IterType Type, bool PerRange, bool BvecRanges, AfterCopy After, Chunk[] Chunks)
{
    public override string ToString() => Type.ToString();
}

/// <summary>
/// The 1 MiB buffer of lib/kunit_iov_iter.c (256 pages) for one iterator type, and the iterators over it:
/// UBUF/IOVEC over a user mapping, KVEC over kmalloc'd memory, BVEC over its pages, XARRAY over a page cache
/// (an AddressSpace whose folio i is buffer page i), FOLIOQ over a folio_queue of the same pages (9 segments of
/// 31 slots).
/// </summary>
public sealed class KunitIterCase
{
    public const int BufSize = 0x100000;
    public const int NPages = BufSize / 4096;

    /// <summary>kvec_test_ranges (lib/kunit_iov_iter.c).</summary>
    public static readonly (int From, int To)[] KvecRanges =
    [
        (0x00002, 0x00002), (0x00027, 0x03000), (0x05193, 0x18794), (0x20000, 0x20000),
        (0x20000, 0x24000), (0x24000, 0x27001), (0x29000, 0xffffb), (0xffffd, 0xffffe),
    ];

    /// <summary>bvec_test_ranges (lib/kunit_iov_iter.c): page, from, to.</summary>
    public static readonly (int Page, int From, int To)[] BvecRanges =
    [
        (0, 0x0002, 0x0002), (1, 0x0027, 0x0893), (2, 0x0193, 0x0794), (3, 0x0000, 0x1000),
        (4, 0x0000, 0x1000), (5, 0x0000, 0x1000), (6, 0x0000, 0x0ffb), (6, 0x0ffd, 0x0ffe),
    ];

    /// <summary>pattern(x) = x &amp; 0xff.</summary>
    public static byte Pattern(long x) => (byte)x;

    public Machine M { get; }
    public Process P { get; }
    public KunitRow Row { get; }
    /// <summary>Page frame of each buffer page (bpages[]).</summary>
    public ulong[] Pfns { get; } = new ulong[NPages];
    private readonly UserPtr _ubuf;
    private readonly KernelPtr _kbuf;
    private readonly AddressSpace? _mapping;
    private readonly FolioQueue? _folioq;

    public KunitIterCase(KunitRow row, string kernel = "6.12")
    {
        Row = row;
        M = Infrastructure.Sim.Boot(kernel);
        P = M.Spawn();
        switch (row.Type)
        {
            case IterType.ITER_UBUF:
            case IterType.ITER_IOVEC:
                _ubuf = P.MapAnonymous(BufSize);
                Assert.That(P.Fill(_ubuf, BufSize, _ => 0).Completed(BufSize), Is.True);
                for (var k = 0; k < NPages; k++) Pfns[k] = P.Mm.PfnAt(_ubuf.Value + (ulong)k * 4096)!.Value;
                break;
            case IterType.ITER_KVEC:
            case IterType.ITER_BVEC:
                _kbuf = M.Kmalloc(BufSize)!.Value;
                for (var k = 0; k < NPages; k++) Pfns[k] = M.KernelMap.Pa(_kbuf)!.Value.Pfn + (ulong)k;
                break;
            case IterType.ITER_XARRAY:
                _mapping = new AddressSpace(M.Phys, new SimpleWriteAops());
                for (var k = 0; k < NPages; k++) Pfns[k] = _mapping.GrabFolio((ulong)k)!.Pfn;
                break;
            case IterType.ITER_FOLIOQ:
                var fq = _folioq = new FolioQueue();
                for (var k = 0; k < NPages; k++)
                {
                    if (fq.Full) fq = fq.AddSegment();
                    Pfns[k] = (ulong)M.Phys.AllocPage();
                    fq.Append(Pfns[k]);
                }
                break;
        }
    }

    /// <summary>Write the whole buffer (through physical memory).</summary>
    public void Fill(Func<int, byte> f)
    {
        var page = new byte[4096];
        for (var k = 0; k < NPages; k++)
        {
            for (var j = 0; j < 4096; j++) page[j] = f(k * 4096 + j);
            M.Phys.PokeBytes(PhysAddr.FromPfn(Pfns[k]), page);
        }
    }

    /// <summary>Read the whole buffer (through physical memory).</summary>
    public byte[] Image()
    {
        var all = new byte[BufSize];
        for (var k = 0; k < NPages; k++) M.Phys.PeekBytes(PhysAddr.FromPfn(Pfns[k]), all.AsSpan(k * 4096, 4096));
        return all;
    }

    /// <summary>The buffer positions the ranges cover, in iteration order (BVEC: page × 4096 + offset).</summary>
    public IEnumerable<(int From, int To)> Positions() => Row.BvecRanges
        ? BvecRanges.Select(r => (r.Page * 4096 + r.From, r.Page * 4096 + r.To))
        : KvecRanges;

    /// <summary>
    /// The iterators the KUnit test uses, in order, with the size each must copy: one over all ranges
    /// (iov_kunit_load_kvec / _bvec, and IOVEC built the same way) or one per range (iov_iter_xarray(from, size),
    /// iov_iter_folio_queue(0, 0, to) + iov_iter_advance(from), and iov_iter_ubuf(buf + from, size)).
    /// </summary>
    public IEnumerable<(IovIter Iter, ulong Size, (int From, int To) Range)> Load(bool source)
    {
        if (!Row.PerRange)
        {
            var iter = Row.Type switch
            {
                IterType.ITER_KVEC => IovIter.Kvec(source, KvecRanges.Select(r => new Kvec(_kbuf + (ulong)r.From, (ulong)(r.To - r.From))).ToArray(), Total()),
                IterType.ITER_IOVEC => IovIter.Iovec(source, KvecRanges.Select(r => new Iovec(_ubuf + (ulong)r.From, (ulong)(r.To - r.From))).ToArray(), Total()),
                _ => IovIter.Bvec(source, LoadBvec(), Total()),
            };
            yield return (iter, iter.Count, (0, 0));
            yield break;
        }
        foreach (var r in KvecRanges)
        {
            var size = (ulong)(r.To - r.From);
            IovIter iter;
            switch (Row.Type)
            {
                case IterType.ITER_XARRAY:
                    Assert.That(M.IovIter.IovIterXarray(source, _mapping!, r.From, size, out iter), Is.Zero);
                    break;
                case IterType.ITER_FOLIOQ:
                    Assert.That(M.IovIter.IovIterFolioQueue(source, _folioq!, 0, 0, (ulong)r.To, out iter), Is.Zero);
                    M.IovIter.Advance(iter, (ulong)r.From);
                    break;
                default:
                    iter = IovIter.Ubuf(source, _ubuf + (ulong)r.From, size);
                    break;
            }
            yield return (iter, size, r);
        }
    }

    private ulong Total() => (ulong)Positions().Sum(r => r.To - r.From);

    /// <summary>iov_kunit_load_bvec: a range starting at 0 right after one ending a page is merged into the previous bvec.</summary>
    private BioVec[] LoadBvec()
    {
        var list = new List<BioVec>();
        ulong? canMerge = null;
        foreach (var r in BvecRanges)
        {
            var page = Pfns[r.Page];
            if (r.From == 0 && r.From != r.To && page == canMerge)
                list[^1] = list[^1] with { Len = list[^1].Len + (uint)r.To };
            else
                list.Add(new BioVec(page, (uint)r.From, (uint)(r.To - r.From)));
            canMerge = (r.To & 0xfff) == 0 ? page + (ulong)(r.To / 4096) : null;
        }
        return list.ToArray();
    }

    /// <summary>Run kernel code in the process's context (user-backed iterators need current).</summary>
    public T Run<T>(Func<T> body)
    {
        var r = M.Run(P, "kunit", body);
        Assert.That(r.Returned, Is.True, r.Outcome);
        return r.Value;
    }

    /// <summary>The buffer page index of a frame (−1 if not a buffer page).</summary>
    public int PageIndex(ulong pfn) => Array.IndexOf(Pfns, pfn);
}
