using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// The oracle compares and updates its byte models run by run (spans, vectorised compares); these tests hold it to the
/// byte-by-byte definitions it replaced. Thousands of random cases — models with known, one-of-two and unknown bytes,
/// buffers with unmapped pages, segments, short counts, calls that stopped, poisoned lines, file sizes — must give the
/// same mismatch lists and leave the same models. Values come from a small alphabet half of the time, so equal runs,
/// one-of-two matches and mismatches all occur often.
/// </summary>
public class OracleRangeEquivalenceTests
{
    private const int Cases = 300;

    [Test]
    public void Read_RunByRun_EqualsTheByteByByteRead()
    {
        var rng = new Random(17);
        var reports = 0;
        for (var c = 0; c < Cases; c++)
        {
            var (a, b) = Pair(rng);
            var segs = DisjointSegments(rng);
            Assert.That(CampaignOracle.RangeReadable(segs), Is.True);
            ulong total = 0;
            foreach (var (_, len) in segs) total += len;
            var pos = (ulong)rng.Next(0, (int)CampaignPlan.Region + 200);
            var n = rng.Next(4) == 0 ? (ulong)rng.Next(0, (int)total + 1) : total;
            var counted = rng.Next(5) != 0;
            var (data, present) = Buffer(rng, b, segs, pos);
            var poisoned = new HashSet<ulong>();
            if (rng.Next(3) == 0)
                for (var k = rng.Next(1, 4); k > 0; k--) poisoned.Add((pos + (ulong)rng.Next(0, (int)total + 1)) & ~63UL);
            if (rng.Next(3) == 0) a.Size = b.Size = ((ulong)rng.Next(0, 70000), (ulong)rng.Next(0, 70000));

            var fast = a.Read(segs, pos, n, UserView.Of(data, present), poisoned, counted);
            var slow = b.Read(segs, pos, n, off => off < CampaignPlan.BufSize && present[(int)(off >> 12)] ? data[off] : null, poisoned.Contains, counted);

            Assert.That(fast, Is.EqualTo(slow), $"case {c}: mismatches");
            Assert.That(a.Region.SameAs(b.Region) && a.User.SameAs(b.User), Is.True, $"case {c}: models");
            reports += slow.Count;
        }
        Assert.That(reports, Is.GreaterThan(Cases), "the cases produce mismatches to compare");
    }

    [Test]
    public void ReadOverlapping_PieceByPiece_EqualsTheByteByByteRead()
    {
        var rng = new Random(31);
        var reports = 0;
        var overlapping = 0;
        for (var c = 0; c < Cases; c++)
        {
            var (a, b) = Pair(rng);
            var segs = rng.Next(2) == 0 ? OverlappingSegments(rng) : SpreadSegments(rng);
            if (!CampaignOracle.RangeReadable(segs)) overlapping++;
            ulong total = 0;
            foreach (var (_, len) in segs) total += len;
            var pos = (ulong)rng.Next(0, (int)CampaignPlan.Region + 200);
            var n = rng.Next(3) == 0 ? (ulong)rng.Next(0, (int)total + 1) : total;
            var (data, present) = Buffer(rng, b, segs, pos);
            var poisoned = new HashSet<ulong>();
            if (rng.Next(3) == 0)
                for (var k = rng.Next(1, 4); k > 0; k--) poisoned.Add((pos + (ulong)rng.Next(0, (int)total + 1)) & ~63UL);
            if (rng.Next(3) == 0) a.Size = b.Size = ((ulong)rng.Next(0, 70000), (ulong)rng.Next(0, 70000));

            var fast = a.ReadOverlapping(segs, pos, n, UserView.Of(data, present), poisoned);
            var slow = b.Read(segs, pos, n, off => off < CampaignPlan.BufSize && present[(int)(off >> 12)] ? data[off] : null, poisoned.Contains, counted: true);

            Assert.That(fast, Is.EqualTo(slow), $"case {c}: mismatches");
            Assert.That(a.Region.SameAs(b.Region) && a.User.SameAs(b.User), Is.True, $"case {c}: models");
            reports += slow.Count;
        }
        Assert.That(reports, Is.GreaterThan(Cases), "the cases produce mismatches to compare");
        Assert.That(overlapping, Is.GreaterThan(Cases / 2), "most cases have overlapping segments");
    }

    [Test]
    public void ReadOverlapping_StoppedCall_EqualsTheByteByByteRead()
    {
        var rng = new Random(43);
        var reports = 0;
        var excused = 0;
        for (var c = 0; c < Cases; c++)
        {
            var (a, b) = Pair(rng);
            var segs = rng.Next(2) == 0 ? OverlappingSegments(rng) : SpreadSegments(rng);
            var pos = (ulong)rng.Next(0, (int)CampaignPlan.Region + 200);
            // A call that stopped returned nothing; it may have stored any of its segments before it stopped.
            var stored = new bool[segs.Count];
            for (var k = 0; k < stored.Length; k++) stored[k] = rng.Next(3) != 0;
            var (data, present) = Buffer(rng, b, segs, pos, stored);
            var poisoned = new HashSet<ulong>();
            if (rng.Next(3) == 0) a.Size = b.Size = ((ulong)rng.Next(0, 70000), (ulong)rng.Next(0, 70000));

            var fast = a.ReadOverlapping(segs, pos, 0, UserView.Of(data, present), poisoned, counted: false);
            var slow = b.Read(segs, pos, 0, off => off < CampaignPlan.BufSize && present[(int)(off >> 12)] ? data[off] : null, poisoned.Contains, counted: false);

            Assert.That(fast, Is.EqualTo(slow), $"case {c}: mismatches");
            Assert.That(a.Region.SameAs(b.Region) && a.User.SameAs(b.User), Is.True, $"case {c}: models");
            reports += slow.Count;
            for (ulong u = 0; u < CampaignPlan.BufSize; u++) excused += b.User.IsChecked(u) ? 0 : 1;
        }
        Assert.That(reports, Is.GreaterThan(Cases / 2), "the cases produce mismatches to compare");
        Assert.That(excused, Is.GreaterThan(Cases), "bytes become unknown (a later segment's byte, or an unchecked one)");
    }

    [Test]
    public void Write_RunByRun_EqualsTheByteByByteWrite()
    {
        var rng = new Random(23);
        for (var c = 0; c < Cases; c++)
        {
            var (a, b) = Pair(rng);
            var segs = rng.Next(4) == 0 ? OverlappingSegments(rng) : DisjointSegments(rng);
            ulong total = 0;
            foreach (var (_, len) in segs) total += len;
            var pos = (ulong)rng.Next(0, (int)CampaignPlan.Region + 200);
            var n = rng.Next(3) == 0 ? (ulong)rng.Next(0, (int)total + 1) : total;
            // Poisoned source lines under the segments, so that counts ending inside them occur.
            var poisoned = new HashSet<ulong>();
            if (rng.Next(2) == 0)
                foreach (var (off, len) in segs) poisoned.Add((off + (ulong)rng.Next(0, (int)len)) & ~63UL);
            if (rng.Next(3) == 0 && poisoned.Count > 0) n = Math.Min(total, (ulong)rng.Next(0, 2) + SourceToOp(segs, poisoned.First()));
            if (rng.Next(3) == 0) a.Size = b.Size = ((ulong)rng.Next(0, 70000), (ulong)rng.Next(0, 70000));

            var accepted = a.Write(segs, pos, n, poisoned.Contains);
            var expected = ReferenceWrite(b, segs, pos, n, poisoned.Contains);

            Assert.That(accepted, Is.EqualTo(expected), $"case {c}: accepted");
            Assert.That(a.Size, Is.EqualTo(b.Size), $"case {c}: size");
            Assert.That(a.Region.SameAs(b.Region), Is.True, $"case {c}: region model");
        }
    }

    [Test]
    public void LoadAndStore_RunByRun_EqualTheByteByByteOnes()
    {
        var rng = new Random(29);
        for (var c = 0; c < Cases; c++)
        {
            var (a, b) = Pair(rng);
            var len = (ulong)rng.Next(1, 9000);
            var off = (ulong)rng.Next(0, (int)(CampaignPlan.BufSize - len + 1));
            var done = rng.Next(3) == 0 ? (ulong)rng.Next(0, (int)len + 1) : len;
            if (rng.Next(2) == 0)
            {
                var fill = (byte)rng.Next(4);
                a.Store(off, len, fill, done);
                ReferenceStore(b, off, len, fill, done);
            }
            else
            {
                var data = new byte[len];
                var truth = rng.Next(2) == 0;
                for (ulong k = 0; k < len; k++)
                    data[k] = truth && b.User.TryGet(off + k, out var v) && rng.Next(200) != 0 ? v : (byte)rng.Next(4);
                var poisoned = RandomLines(rng, CampaignPlan.BufSize);
                Assert.That(a.Load(off, data, done, poisoned.Contains), Is.EqualTo(ReferenceLoad(b, off, data, done, poisoned.Contains)), $"case {c}: mismatches");
            }
            Assert.That(a.User.SameAs(b.User), Is.True, $"case {c}: user model");
        }
    }

    // ---- the byte-by-byte definitions (the oracle's code before it worked run by run) -------------------

    private static bool ReferenceWrite(CampaignOracle o, IReadOnlyList<(ulong Off, ulong Len)> segs, ulong pos, ulong n, Func<ulong, bool> sourcePoisoned)
    {
        ulong at = 0;
        var accepted = false;
        foreach (var (off, len) in segs)
        {
            for (ulong k = 0; k < len; k++, at++)
            {
                var d = pos + at;
                var src = off + k;
                var poisoned = sourcePoisoned(src & ~63UL);
                if (at < n)
                {
                    if (poisoned)
                    {
                        accepted = true;
                        o.Region.Forget(d);
                    }
                    else o.Region.CopyFrom(d, o.User, src);
                }
                else if (!poisoned && o.User.TryGet(src, out var v)) o.Region.Maybe(d, v);
                else o.Region.Forget(d);
            }
        }
        if (o.Size is var (min, max))
            o.Size = (n > 0 ? Math.Max(min, pos + n) : min, at > 0 ? Math.Max(max, pos + at) : max);
        return accepted;
    }

    private static List<string> ReferenceLoad(CampaignOracle o, ulong off, ReadOnlySpan<byte> data, ulong done, Func<ulong, bool> poisoned)
    {
        var mismatches = new List<string>();
        ulong reportedLine = ulong.MaxValue;
        for (ulong k = 0; k < (ulong)data.Length && k < done; k++)
        {
            var b = off + k;
            if ((b & ~63UL) != reportedLine && poisoned(b & ~63UL))
            {
                reportedLine = b & ~63UL;
                if (mismatches.Count < CampaignOracle.MaxReported) mismatches.Add($"load returned bytes of the poisoned line at buf+0x{reportedLine:x}");
            }
            if (!o.User.Allows(b, data[(int)k]))
            {
                if (mismatches.Count < CampaignOracle.MaxReported) mismatches.Add($"load buf+0x{b:x} = 0x{data[(int)k]:x2}, expected {o.User.Expected(b)}");
            }
            else o.User.Observe(b, data[(int)k]);
        }
        return mismatches;
    }

    private static void ReferenceStore(CampaignOracle o, ulong off, ulong len, byte fill, ulong done)
    {
        for (ulong k = 0; k < len; k++)
        {
            if (k < done) o.User.Set(off + k, fill);
            else o.User.Maybe(off + k, fill);
        }
    }

    // ---- random inputs -----------------------------------------------------------------------------------

    /// <summary>Two equal oracles whose models hold known, one-of-two and unknown bytes.</summary>
    private static (CampaignOracle A, CampaignOracle B) Pair(Random rng)
    {
        var small = rng.Next(2) == 0;
        var region = Model(rng, (int)CampaignPlan.Region, small);
        var user = Model(rng, (int)CampaignPlan.BufSize, small);
        return (new CampaignOracle(region, user), new CampaignOracle(region.Clone(), user.Clone()));
    }

    private static ByteModel Model(Random rng, int size, bool small)
    {
        var bytes = new byte[size];
        if (small) for (var i = 0; i < size; i++) bytes[i] = (byte)rng.Next(4);
        else rng.NextBytes(bytes);
        var m = new ByteModel(bytes);
        for (var r = rng.Next(0, 12); r > 0; r--)
        {
            var at = (ulong)rng.Next(0, size);
            var len = (ulong)rng.Next(1, 3000);
            var kind = rng.Next(3);
            for (ulong k = 0; k < len; k++)
            {
                if (kind == 0) m.Forget(at + k);
                else m.Maybe(at + k, (byte)rng.Next(small ? 4 : 256));
            }
        }
        return m;
    }

    /// <summary>The buffer a "kernel" left: mostly what the models say (region bytes inside the segments), with flips and unmapped pages.</summary>
    private static (byte[] Data, bool[] Present) Buffer(Random rng, CampaignOracle o, IReadOnlyList<(ulong Off, ulong Len)> segs, ulong pos,
        bool[]? stored = null)
    {
        var data = new byte[CampaignPlan.BufSize];
        var flip = rng.Next(4) switch { 0 => 0, 1 => 3, 2 => 50, _ => 2 };
        for (ulong i = 0; i < CampaignPlan.BufSize; i++)
            data[i] = o.User.TryGet(i, out var v) ? v : (byte)rng.Next(4);
        ulong at = 0;
        for (var s = 0; s < segs.Count; s++)
        {
            var (off, len) = segs[s];
            if (stored != null && !stored[s])
            {
                at += len;
                continue;
            }
            for (ulong k = 0; k < len; k++, at++)
                data[off + k] = o.Region.TryGet(pos + at, out var v) ? v : (byte)rng.Next(4);
        }
        for (var i = 0; i < data.Length; i++)
            if (flip > 0 && rng.Next(flip == 2 ? 1000 : 100) < flip) data[i] = (byte)rng.Next(4);
        var present = new bool[CampaignPlan.BufSize >> 12];
        for (var p = 0; p < present.Length; p++) present[p] = rng.Next(8) != 0;
        return (data, present);
    }

    private static List<(ulong Off, ulong Len)> DisjointSegments(Random rng)
    {
        var segs = new List<(ulong Off, ulong Len)>();
        var count = rng.Next(1, 5);
        for (var tries = 0; segs.Count < count && tries < 50; tries++)
        {
            var len = (ulong)rng.Next(1, rng.Next(2) == 0 ? 300 : 16385);
            var off = (ulong)rng.Next(0, (int)(CampaignPlan.BufSize - len + 1));
            if (!segs.Exists(s => off < s.Off + s.Len && s.Off < off + len)) segs.Add((off, len));
        }
        return segs;
    }

    /// <summary>The operation offset of the first byte of buffer line <paramref name="line"/> (or of the segment start inside it).</summary>
    private static ulong SourceToOp(IReadOnlyList<(ulong Off, ulong Len)> segs, ulong line)
    {
        ulong at = 0;
        foreach (var (off, len) in segs)
        {
            if (line + 64 > off && line < off + len) return at + (line > off ? line - off : 0);
            at += len;
        }
        return 0;
    }

    private static List<(ulong Off, ulong Len)> OverlappingSegments(Random rng)
    {
        var segs = new List<(ulong Off, ulong Len)>();
        var off = (ulong)rng.Next(0, 30000);
        for (var k = rng.Next(2, 5); k > 0; k--) segs.Add((off + (ulong)rng.Next(0, 500), (ulong)rng.Next(1, 3000)));
        return segs;
    }

    /// <summary>Two to five segments anywhere in a window of the buffer: some overlap, some touch, some are apart.</summary>
    private static List<(ulong Off, ulong Len)> SpreadSegments(Random rng)
    {
        var segs = new List<(ulong Off, ulong Len)>();
        var window = (ulong)rng.Next(500, 40000);
        var start = (ulong)rng.Next(0, (int)(CampaignPlan.BufSize - window));
        for (var k = rng.Next(2, 6); k > 0; k--)
        {
            var off = start + (ulong)rng.Next(0, (int)window);
            segs.Add((off, Math.Min((ulong)rng.Next(1, 9000), CampaignPlan.BufSize - off)));
        }
        return segs;
    }

    private static HashSet<ulong> RandomLines(Random rng, ulong size)
    {
        var set = new HashSet<ulong>();
        if (rng.Next(2) == 0)
            for (var k = rng.Next(1, 6); k > 0; k--) set.Add((ulong)rng.Next(0, (int)size) & ~63UL);
        return set;
    }
}
