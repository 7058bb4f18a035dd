using KernelSim.Lib;

namespace KernelSim.Tests.Lib;

/// <summary>
/// The lib/kunit_iov_iter.c suite (copy_to_*, copy_from_*, extract_pages_*) over every iterator type with a
/// buffer, driven by one table (<see cref="Table"/>): the suite's two patterns and range tables, a check of the
/// whole 1 MiB image (bytes outside the ranges untouched) and the exact iov_iter_extract_pages chunking
/// (D24–D26). UBUF and IOVEC, which the kernel suite cannot test, use the kvec ranges on a user mapping.
/// </summary>
public class KunitIovIterTests
{
    /// <summary>
    /// kvec_test_ranges at 100 KiB / 8 pages per call: the empty ranges give nothing; {0x27, 0x3000} one call of 3
    /// pages; {0x5193, 0x18794} 8 pages from offset 0x193, then 8, then 4; {0x20000, 0x24000} 4; {0x24000, 0x27001}
    /// 4; {0x29000, 0xffffb} 26 calls of 8 pages and one of 7; {0xffffd, 0xffffe} one byte of page 255.
    /// </summary>
    private static readonly Chunk[] KvecChunks =
    [
        new(0x2fd9, 0x27, 0, 3),
        new(0x7e6d, 0x193, 5, 8), new(0x8000, 0, 13, 8), new(0x3794, 0, 21, 4),
        new(0x4000, 0, 32, 4),
        new(0x3001, 0, 36, 4),
        .. Enumerable.Range(0, 26).Select(k => new Chunk(0x8000, 0, 41 + 8 * k, 8)),
        new(0x6ffb, 0, 249, 7),
        new(0x1, 0xffd, 255, 1),
    ];

    /// <summary>
    /// bvec_test_ranges as iov_kunit_load_bvec merges them: {p0+2, 0}, {p1+0x27, 0x86c}, {p2+0x193, 0x601},
    /// {p3, 0x3ffb} (pages 3–6 merged), {p6+0xffd, 1}. The empty first bvec is stepped over; a piece that does
    /// not end its page ends a call.
    /// </summary>
    private static readonly Chunk[] BvecChunks =
    [
        new(0x86c, 0x27, 1, 1),
        new(0x601, 0x193, 2, 1),
        new(0x3ffb, 0, 3, 4),
        new(0x1, 0xffd, 6, 1),
    ];

    /// <summary>The one table every test here runs over.</summary>
    public static readonly KunitRow[] Table =
    [
        new(IterType.ITER_UBUF, PerRange: true, BvecRanges: false, AfterCopy.OffsetIsSize, KvecChunks),
        new(IterType.ITER_IOVEC, PerRange: false, BvecRanges: false, AfterCopy.NrSegsZero, KvecChunks),
        new(IterType.ITER_KVEC, PerRange: false, BvecRanges: false, AfterCopy.NrSegsZero, KvecChunks),
        new(IterType.ITER_BVEC, PerRange: false, BvecRanges: true, AfterCopy.NrSegsZero, BvecChunks),
        new(IterType.ITER_FOLIOQ, PerRange: true, BvecRanges: false, AfterCopy.OffsetIsEndInPage, KvecChunks),
        new(IterType.ITER_XARRAY, PerRange: true, BvecRanges: false, AfterCopy.OffsetIsSize, KvecChunks),
    ];

    private static void AssertAfterCopy(KunitRow row, IovIter iter, ulong size, (int From, int To) range)
    {
        Assert.That(iter.Count, Is.Zero, "count");
        switch (row.After)
        {
            case AfterCopy.NrSegsZero:
                Assert.That(iter.NrSegs, Is.Zero, "nr_segs");
                break;
            case AfterCopy.OffsetIsSize:
                Assert.That(iter.IovOffset, Is.EqualTo(size), "iov_offset");
                break;
            default:
                Assert.That(iter.IovOffset, Is.EqualTo((ulong)(range.To % 4096)), "iov_offset");
                break;
        }
    }

    /// <summary>The first differing index of two images, or −1.</summary>
    private static int FirstDiff(byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b) ? -1 : a.AsSpan().CommonPrefixLength(b);

    [TestCaseSource(nameof(Table))]
    public void CopyTo_RangesGetTheScratchPatternInOrder_RestOfBufferZero(KunitRow row)
    {
        var c = new KunitIterCase(row);
        var scratch = c.M.Kmalloc(KunitIterCase.BufSize)!.Value;
        var pattern = new byte[KunitIterCase.BufSize];
        for (var i = 0; i < pattern.Length; i++) pattern[i] = KunitIterCase.Pattern(i);
        c.M.Phys.PokeBytes(c.M.KernelMap.Pa(scratch)!.Value, pattern);
        c.Fill(_ => 0);

        ulong done = 0;
        foreach (var (iter, size, range) in c.Load(source: false))
        {
            var copied = c.Run(() => c.M.IovIter.CopyToIter(scratch + done, size, iter));
            Assert.That(copied, Is.EqualTo(size), $"range {range}");
            AssertAfterCopy(row, iter, size, range);
            done += size;
        }
        Assert.That(done, Is.EqualTo(row.BvecRanges ? 0x4e69UL : 0xf45d7UL), "bytes in the ranges");

        var expected = new byte[KunitIterCase.BufSize];
        var patt = 0;
        foreach (var (from, to) in c.Positions())
            for (var i = from; i < to; i++) expected[i] = KunitIterCase.Pattern(patt++);
        var image = c.Image();
        Assert.That(FirstDiff(image, expected), Is.EqualTo(-1), "first byte that differs from the expected image");
    }

    [TestCaseSource(nameof(Table))]
    public void CopyFrom_ScratchGetsTheRangesConcatenated_TailZero(KunitRow row)
    {
        var c = new KunitIterCase(row);
        c.Fill(i => KunitIterCase.Pattern(i));
        var scratch = c.M.Kmalloc(KunitIterCase.BufSize)!.Value;

        ulong done = 0;
        foreach (var (iter, size, range) in c.Load(source: true))
        {
            var copied = c.Run(() => c.M.IovIter.CopyFromIter(scratch + done, size, iter));
            Assert.That(copied, Is.EqualTo(size), $"range {range}");
            AssertAfterCopy(row, iter, size, range);
            done += size;
        }

        var expected = new byte[KunitIterCase.BufSize];
        var n = 0;
        foreach (var (from, to) in c.Positions())
            for (var j = from; j < to; j++) expected[n++] = KunitIterCase.Pattern(j);
        var got = new byte[KunitIterCase.BufSize];
        c.M.Phys.PeekBytes(c.M.KernelMap.Pa(scratch)!.Value, got);
        Assert.That(FirstDiff(got, expected), Is.EqualTo(-1), "first byte that differs from the expected scratch image");
        Assert.That(c.Image()[0x27], Is.EqualTo(0x27), "the source buffer is unchanged");
    }

    [TestCaseSource(nameof(Table))]
    public void ExtractPages_ChunksExactly_ListsTheBufferPages_PinsOnlyUserPages(KunitRow row)
    {
        var c = new KunitIterCase(row);
        const ulong Sentinel = 0xaa55aa55aa55aa55UL;
        var got = new List<Chunk>();
        foreach (var (iter, size, range) in c.Load(source: row.PerRange && row.Type != IterType.ITER_UBUF))
        {
            Assert.That(c.M.IovIter.ExtractWillPin(iter), Is.EqualTo(iter.IsUserBacked));
            var left = size;
            do
            {
                var pagelist = Enumerable.Repeat(Sentinel, 8).ToArray();
                ulong[]? pages = pagelist;
                ulong offset0 = long.MaxValue;
                var len = c.Run(() => c.M.IovIter.ExtractPages(iter, ref pages, 100 * 1024, 8, out offset0));
                Assert.That(len, Is.GreaterThanOrEqualTo(0), $"range {range}");
                Assert.That(iter.Count, Is.EqualTo(left - (ulong)len), "count moves by the bytes extracted");
                if (len == 0) break;
                left -= (ulong)len;
                var n = (int)((offset0 + (ulong)len + 4095) / 4096);
                var first = c.PageIndex(pagelist[0]);
                for (var k = 0; k < n; k++) Assert.That(c.PageIndex(pagelist[k]), Is.EqualTo(first + k), $"page {k} of a chunk");
                for (var k = n; k < 8; k++) Assert.That(pagelist[k], Is.EqualTo(Sentinel), "entries past the pages listed are untouched");
                for (var k = 0; k < n; k++)
                    Assert.That(c.M.Gup.FollPinCount(pagelist[k]) > 0, Is.EqualTo(iter.IsUserBacked), "FOLL_PIN only for UBUF/IOVEC");
                got.Add(new Chunk(len, offset0, first, n));
            } while (iter.Count > 0);
            Assert.That(left, Is.Zero);
            if (row.Type == IterType.ITER_XARRAY) Assert.That(iter.IovOffset, Is.EqualTo(size));
        }
        Assert.That(got, Is.EqualTo(row.Chunks));
    }
}
