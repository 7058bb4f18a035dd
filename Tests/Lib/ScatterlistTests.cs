using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Lib;

/// <summary>One expected scatterlist entry: buffer page index, offset, length.</summary>
public readonly record struct SgEntry(int Page, uint Offset, uint Length);

/// <summary>A row of the extract_iter_to_sg table: type, release and the exact entries.</summary>
public sealed record SgRow(IterType Type, string Kernel, SgEntry[] Entries)
{
    public override string ToString() => $"{Type} {Kernel}";
}

/// <summary>
/// extract_iter_to_sg (SG3–SG5), sg_alloc_table / sg_free_table (SG1), sg_miter and sg_copy_* (SG2). Every
/// iterator covers bytes [0x100, 0x2100) of a 4-page buffer holding pattern(i) = i * 3 + (i >> 8) + 1 (not periodic in 256); IOVEC splits it
/// into two segments at 0x1100.
/// </summary>
public class ScatterlistTests
{
    private const ulong Start = 0x100, Len = 0x2000;

    private static byte Pattern(int i) => (byte)(i * 3 + (i >> 8) + 1);

    private sealed class SgCase
    {
        public Machine M { get; }
        public Process P { get; }
        public ScatterlistOps Sg { get; }
        public ulong[] Pfns { get; } = new ulong[4];
        public IovIter Iter { get; }

        public SgCase(IterType type, string kernel = "6.12", bool source = true)
        {
            M = Sim.Boot(kernel);
            P = M.Spawn();
            Sg = (ScatterlistOps)M.Services.GetService(typeof(ScatterlistOps))!;
            var data = Enumerable.Range(0, 0x4000).Select(Pattern).ToArray();
            switch (type)
            {
                case IterType.ITER_UBUF:
                case IterType.ITER_IOVEC:
                {
                    var u = P.MapAnonymous(0x4000);
                    Assert.That(P.Fill(u, 0x4000, i => Pattern((int)i)).Completed(0x4000), Is.True);
                    for (var k = 0; k < 4; k++) Pfns[k] = P.Mm.PfnAt(u.Value + (ulong)k * 4096)!.Value;
                    Iter = type == IterType.ITER_UBUF
                        ? IovIter.Ubuf(source, u + Start, Len)
                        : IovIter.Iovec(source, [new Iovec(u + Start, 0x1000), new Iovec(u + 0x1100UL, 0x1000)], Len);
                    break;
                }
                case IterType.ITER_KVEC:
                case IterType.ITER_BVEC:
                {
                    var k0 = M.Kmalloc(0x4000)!.Value;
                    M.Phys.PokeBytes(M.KernelMap.Pa(k0)!.Value, data);
                    for (var k = 0; k < 4; k++) Pfns[k] = M.KernelMap.Pa(k0)!.Value.Pfn + (ulong)k;
                    Iter = type == IterType.ITER_KVEC
                        ? IovIter.Kvec(source, [new Kvec(k0 + Start, Len)], Len)
                        : IovIter.Bvec(source, [new BioVec(Pfns[0], (uint)Start, (uint)Len)], Len);
                    break;
                }
                case IterType.ITER_FOLIOQ:
                {
                    var fq = new FolioQueue();
                    for (var k = 0; k < 4; k++) fq.Append(Pfns[k] = (ulong)M.Phys.AllocPage());
                    Poke(data);
                    Assert.That(M.IovIter.IovIterFolioQueue(source, fq, 0, Start, Len, out var it), Is.Zero);
                    Iter = it;
                    break;
                }
                case IterType.ITER_XARRAY:
                {
                    var mapping = new AddressSpace(M.Phys, new SimpleWriteAops());
                    for (var k = 0; k < 4; k++) Pfns[k] = mapping.GrabFolio((ulong)k)!.Pfn;
                    Poke(data);
                    Assert.That(M.IovIter.IovIterXarray(source, mapping, (long)Start, Len, out var it), Is.Zero);
                    Iter = it;
                    break;
                }
                default:
                    Iter = IovIter.Discard(Len);
                    break;
            }
        }

        private void Poke(byte[] data)
        {
            for (var k = 0; k < 4; k++) M.Phys.PokeBytes(PhysAddr.FromPfn(Pfns[k]), data.AsSpan(k * 4096, 4096));
        }

        public T Run<T>(Func<T> body)
        {
            var r = M.Run(P, "sg", body);
            Assert.That(r.Returned, Is.True, r.Outcome);
            return r.Value;
        }

        public SgEntry[] Entries(SgTable t) =>
            t.Sgl[..(int)t.Nents].ToArray().Select(e => new SgEntry(Array.IndexOf(Pfns, e.Pfn), e.Offset, e.Length)).ToArray();
    }

    private static readonly SgEntry[] PerPage = [new(0, 0x100, 0xf00), new(1, 0, 0x1000), new(2, 0, 0x100)];

    /// <summary>The one table: what extract_iter_to_sg lists for each iterator type (sg_max 8).</summary>
    public static readonly SgRow[] Table =
    [
        new(IterType.ITER_UBUF, "6.12", PerPage),
        new(IterType.ITER_IOVEC, "6.12", [new(0, 0x100, 0xf00), new(1, 0, 0x100), new(1, 0x100, 0xf00), new(2, 0, 0x100)]),
        new(IterType.ITER_KVEC, "7.1", PerPage),
        new(IterType.ITER_KVEC, "6.12", [new(0, 0x100, 0x2000), new(1, 0, 0x1100), new(2, 0, 0x100)]),
        new(IterType.ITER_BVEC, "6.12", [new(0, 0x100, 0x2000)]),
        new(IterType.ITER_FOLIOQ, "6.12", PerPage),
        new(IterType.ITER_XARRAY, "6.12", [new(0, 0x100, 0xf00), new(1, 0x100, 0xf00), new(2, 0x100, 0x200)]),
    ];

    [TestCaseSource(nameof(Table))]
    public void ExtractIterToSg_ListsExactEntries_AdvancesIterator_PinsOnlyUserPages(SgRow row)
    {
        var c = new SgCase(row.Type, row.Kernel);
        var t = new SgTable();
        Assert.That(c.Sg.SgAllocTable(t, 8), Is.Zero);
        t.Nents = 0; // callers start an empty list, as the netfs and crypto users do
        t.OrigNents = 0;

        Assert.That(c.Run(() => c.Sg.ExtractIterToSg(c.Iter, Len, t, 8)), Is.EqualTo((long)Len));
        Assert.That(c.Entries(t), Is.EqualTo(row.Entries));
        Assert.That(c.Iter.Count, Is.Zero);
        var userBacked = c.Iter.IsUserBacked;
        Assert.That(c.M.IovIter.ExtractWillPin(c.Iter), Is.EqualTo(userBacked));
        foreach (var e in t.Sgl[..(int)t.Nents]) Assert.That(c.M.Gup.PageMaybeDmaPinned(e.Pfn), Is.EqualTo(userBacked));

        // sg_copy_to_buffer reads what the entries say (sg_mark_end on the last one first, as callers do).
        t.MarkEnd((int)t.Nents - 1);
        var buf = c.M.Kmalloc(Len)!.Value;
        var listed = row.Entries.Sum(e => (long)e.Length);
        Assert.That(c.Run(() => c.Sg.SgCopyToBuffer(t, t.Nents, buf, Len)), Is.EqualTo((ulong)Math.Min(listed, (long)Len)));
        var expected = row.Entries.SelectMany(e => Enumerable.Range((int)(e.Page * 4096 + e.Offset), (int)e.Length)).Take((int)Len).Select(Pattern).ToArray();
        Assert.That(Sim.ReadKernel(c.M, buf, (int)Len), Is.EqualTo(expected));
        var logical = Enumerable.Range((int)Start, (int)Len).Select(Pattern).ToArray();
        Assert.That(expected.SequenceEqual(logical), Is.EqualTo(row.Type != IterType.ITER_XARRAY),
            "only XARRAY's entries (SG5) describe other bytes than the iterator's");
    }

    [TestCase("6.12", 0x2000L, 0UL, new uint[] { 0x2000, 0x1100 })]
    [TestCase("7.1", 0x1f00L, 0x100UL, new uint[] { 0xf00, 0x1000 })]
    public void ExtractKvecToSg_SgMaxCutsTheSegment_BeforeTheFixTheWholeSegmentCounts(string kernel, long ret, ulong countAfter, uint[] lengths)
    {
        var c = new SgCase(IterType.ITER_KVEC, kernel);
        var t = new SgTable();
        Assert.That(c.Sg.SgAllocTable(t, 8), Is.Zero);
        t.Nents = 0;
        t.OrigNents = 0;
        Assert.That(c.Run(() => c.Sg.ExtractIterToSg(c.Iter, Len, t, 2)), Is.EqualTo(ret));
        Assert.That(c.Entries(t).Select(e => e.Length), Is.EqualTo(lengths));
        Assert.That(c.Iter.Count, Is.EqualTo(countAfter));
    }

    [Test]
    public void ExtractUserToSg_MaxsizeBeyondCount_ExtractsThenUndoesEverything_ReturnsZero()
    {
        var c = new SgCase(IterType.ITER_UBUF);
        var t = new SgTable();
        Assert.That(c.Sg.SgAllocTable(t, 8), Is.Zero);
        t.Nents = 0;
        t.OrigNents = 0;
        Assert.That(c.Run(() => c.Sg.ExtractIterToSg(c.Iter, Len + 0x1000, t, 8)), Is.Zero,
            "the second iov_iter_extract_pages returns 0 and the failure path runs");
        Assert.That(t.Nents, Is.Zero);
        Assert.That(c.Pfns.Count(p => c.M.Gup.FollPinCount(p) != 0), Is.Zero, "every pin dropped");
        Assert.That(c.Iter.Count, Is.Zero, "but the iterator stays advanced");
    }

    [Test]
    public void ExtractIterToSg_Discard_Eio_WithWarning()
    {
        var c = new SgCase(IterType.ITER_DISCARD);
        var t = new SgTable();
        Assert.That(c.Sg.SgAllocTable(t, 4), Is.Zero);
        Assert.That(c.Run(() => c.Sg.ExtractIterToSg(c.Iter, Len, t, 4)), Is.EqualTo(-Errno.EIO));
        Assert.That(c.M.State.Dmesg, Has.Some.Contains("WARNING: at lib/scatterlist.c extract_iter_to_sg"));
    }

    [Test]
    public void ExtractIterToSg_And_ExtractPages_Before63_Enosys()
    {
        var c = new SgCase(IterType.ITER_KVEC, "6.2");
        var t = new SgTable();
        Assert.That(c.Sg.SgAllocTable(t, 4), Is.Zero);
        Assert.That(c.Run(() => c.Sg.ExtractIterToSg(c.Iter, Len, t, 4)), Is.EqualTo(-Errno.ENOSYS));
        ulong[]? pages = null;
        Assert.That(c.Run(() => c.M.IovIter.ExtractPages(c.Iter, ref pages, Len, 4, out _)), Is.EqualTo(-Errno.ENOSYS));
        Assert.That(c.Iter.Count, Is.EqualTo(Len));
    }

    [Test]
    public void SgAllocTable_ZeroEntries_Einval_ThenTableOf300_LastMarked_FreeEmptiesIt()
    {
        var c = new SgCase(IterType.ITER_KVEC);
        var t = new SgTable();
        Assert.That(c.Sg.SgAllocTable(t, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(c.Sg.SgAllocTable(t, 300), Is.Zero);
        Assert.That((t.Nents, t.OrigNents, t.Sgl.Length), Is.EqualTo((300u, 300u, 300)));
        Assert.That(t.IsLast(299), Is.True);
        Assert.That(t.IsLast(298), Is.False);
        c.Sg.SgFreeTable(t);
        Assert.That((t.Sgl.Length, t.OrigNents, t.Nents), Is.EqualTo((0, 0u, 300u)), "sg_free_table leaves nents");
    }

    [Test]
    public void SgMiter_OnePiecePerPage_ConsumedShortensAPiece()
    {
        var c = new SgCase(IterType.ITER_KVEC);
        var t = new SgTable();
        Assert.That(c.Sg.SgAllocTable(t, 2), Is.Zero);
        t.SetPage(0, c.Pfns[0], 0x2000, 0x100);
        t.SetPage(1, c.Pfns[3], 0x10, 0);
        var miter = new SgMappingIter();
        c.Sg.SgMiterStart(miter, t, 2, SgMiterFlags.SG_MITER_FROM_SG);
        var pieces = new List<(int, ulong, ulong)>();
        while (c.Sg.SgMiterNext(miter))
        {
            pieces.Add((Array.IndexOf(c.Pfns, miter.Page), miter.Addr.Value % 4096, miter.Length));
            if (pieces.Count == 1) miter.Consumed = 0x80;
        }
        c.Sg.SgMiterStop(miter);
        Assert.That(pieces, Is.EqualTo(new[] { (0, 0x100UL, 0xf00UL), (0, 0x180UL, 0xe80UL), (1, 0UL, 0x1000UL), (2, 0UL, 0x100UL), (3, 0UL, 0x10UL) }));
    }

    [Test]
    public void SgCopyBuffer_FromThenTo_RoundTrips_SkipPastTheListCopiesNothing()
    {
        var c = new SgCase(IterType.ITER_KVEC);
        var t = new SgTable();
        Assert.That(c.Sg.SgAllocTable(t, 2), Is.Zero);
        t.SetPage(0, c.Pfns[0], 0x1800, 0x800);
        t.SetPage(1, c.Pfns[3], 0x100, 0x10);
        var src = Sim.KernelBuffer(c.M, 0x2000, seed: 9);
        var dst = c.M.Kmalloc(0x2000)!.Value;
        Assert.That(c.Run(() => c.Sg.SgCopyFromBuffer(t, 2, src, 0x2000)), Is.EqualTo(0x1900UL), "the list holds 0x1900 bytes");
        Assert.That(c.Run(() => c.Sg.SgCopyToBuffer(t, 2, dst, 0x2000)), Is.EqualTo(0x1900UL));
        Assert.That(Sim.ReadKernel(c.M, dst, 0x1900), Is.EqualTo(Sim.ReadKernel(c.M, src, 0x1900)));
        var page3 = new byte[0x20];
        c.M.Phys.PeekBytes(PhysAddr.FromPfn(c.Pfns[3]), page3);
        Assert.That(page3[..0x10], Is.EqualTo(Enumerable.Range(0, 0x10).Select(i => Pattern(3 * 4096 + i))), "bytes before the entry untouched");
        Assert.That(page3[0x10..], Is.EqualTo(Sim.ReadKernel(c.M, src + 0x1800UL, 0x10)));
        Assert.That(c.Run(() => c.Sg.SgCopyBuffer(t, 2, dst, 0x10, 0x1900, toBuffer: true)), Is.Zero);
        Assert.That(c.Run(() => c.Sg.SgCopyBuffer(t, 2, dst, 0x10, 0x18f8, toBuffer: true)), Is.EqualTo(8UL));
    }
}
