using KernelSim.Mm;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The oracle of a seed run: a model of the file/device region and of the user buffer (what every byte must
/// be, one of two values, or unknown) and of the file size. It says what each operation must have left in user
/// space and on the media and reports every byte that differs (at most <see cref="MaxReported"/> per check).
/// Poison is the hardware's: the workload tells each check which lines are poisoned (in buffer or region space),
/// and a byte the kernel claims to have moved out of a poisoned line is corruption.
/// </summary>
internal sealed partial class CampaignOracle(ByteModel region, ByteModel user)
{
    /// <summary>Mismatches reported per check (the rest are not listed).</summary>
    public const int MaxReported = 4;

    /// <summary>Bytes on each side of a read's range that must be unchanged (a copy past the count or the range).</summary>
    public const ulong Guard = 64;

    /// <summary>
    /// The oracle of a seed: the region and the buffer hold the seed's patterns (salts 0xD0D0 and 0xB0B0), in models
    /// rented from the thread's pool (<see cref="Release"/> gives them back).
    /// </summary>
    public CampaignOracle(ulong seed)
        : this(RentRegion(seed), ByteModel.Rent(seed, 0xB0B0, (int)CampaignPlan.BufSize))
    {
    }

    /// <summary>The region's model; both patterns of the seed are drawn together first (they have the same size).</summary>
    private static ByteModel RentRegion(ulong seed)
    {
        if (CampaignPlan.Region == CampaignPlan.BufSize) ByteModel.Prefetch(seed, 0xD0D0, 0xB0B0, (int)CampaignPlan.Region);
        return ByteModel.Rent(seed, 0xD0D0, (int)CampaignPlan.Region);
    }

    /// <summary>The seed run is over: its models go back to the thread's pool; the oracle must not be used again.</summary>
    public void Release()
    {
        Region.Release();
        User.Release();
    }

    /// <summary>The file/device region.</summary>
    public ByteModel Region { get; } = region;

    /// <summary>The user buffer.</summary>
    public ByteModel User { get; } = user;

    /// <summary>The file's size bounds (null: not modelled, e.g. a block device or a file the host truncates).</summary>
    public (ulong Min, ulong Max)? Size { get; set; }

    /// <summary>
    /// A write of the buffer segments <paramref name="segs"/> to region offset <paramref name="pos"/> moved
    /// <paramref name="n"/> bytes: the region holds the source bytes over the count;
    /// past it each byte holds its old value or the source's (raw_copy_from_user stores nothing past what it
    /// reports, but a failed O_DIRECT or DAX write may have stored blocks before it failed). A source byte in a
    /// poisoned buffer line (<paramref name="sourcePoisoned"/>, by buffer offset) inside the count makes its region
    /// byte unknown. Returns true when the write accepted such a byte.
    /// </summary>
    public bool Write(IReadOnlyList<(ulong Off, ulong Len)> segs, ulong pos, ulong n, Func<ulong, bool> sourcePoisoned)
    {
        ulong at = 0;
        var accepted = false;
        // By index: a foreach over the interface would box the array's enumerator (garbage per call).
        for (var s = 0; s < segs.Count; s++)
        {
            var (off, len) = segs[s];
            // Line by line of the source (the poisoned-line test is per line); the lines between poisoned ones are
            // copied as one run (each byte's update depends only on its own source byte and whether it is counted).
            ulong runK = 0, runAt = at;
            for (ulong k = 0; k < len;)
            {
                var src = off + k;
                var chunk = Math.Min(len - k, 64 - (src & 63));
                if (sourcePoisoned(src & ~63UL))
                {
                    CopyRun(off + runK, pos + runAt, k - runK, runAt, n);
                    if (at < n) accepted = true;
                    Region.Forget(pos + at, chunk);
                    runK = k + chunk;
                    runAt = at + chunk;
                }
                k += chunk;
                at += chunk;
            }
            CopyRun(off + runK, pos + runAt, len - runK, runAt, n);
        }
        if (Size is var (min, max))
        {
            var total = at;
            Size = (n > 0 ? Math.Max(min, pos + n) : min, total > 0 ? Math.Max(max, pos + total) : max);
        }
        return accepted;
    }

    /// <summary>
    /// <see cref="Write"/>'s copy of <paramref name="len"/> source bytes from buffer offset <paramref name="src"/> to region
    /// offset <paramref name="d"/>, the <paramref name="at"/>-th byte of the write onward: those inside the count are
    /// stored, the rest may or may not have been.
    /// </summary>
    private void CopyRun(ulong src, ulong d, ulong len, ulong at, ulong n)
    {
        if (len == 0) return;
        var counted = at < n ? Math.Min(len, n - at) : 0;
        Region.CopyRange(d, User, src, counted);
        Region.MaybeCopyRange(d + counted, User, src + counted, len - counted);
    }

    /// <summary>
    /// A read from region offset <paramref name="pos"/> into the buffer segments claims <paramref name="n"/>
    /// bytes: each of them must be a value the region allows (<paramref name="bufByte"/> gives the buffer's byte,
    /// null when unmapped), and must not come from a poisoned line of the source (<paramref name="sourcePoisoned"/>,
    /// region offsets of lines: the media for O_DIRECT and DAX, the page-cache page or the media for buffered
    /// reads). Bytes past the count and <see cref="Guard"/> bytes on each side of each segment must be unchanged
    /// (copy_to_user stores nothing past what it reports). A call that failed or never returned
    /// (<paramref name="counted"/> false: an error, a panic, a livelock) may have stored some of its bytes before it
    /// stopped: each byte of its range is then its old value or the region's. Segments may overlap: the later one
    /// wins, so the expected bytes are built in order before comparing. Returns the mismatches.
    /// </summary>
    public List<string> Read(IReadOnlyList<(ulong Off, ulong Len)> segs, ulong pos, ulong n, Func<ulong, byte?> bufByte,
        Func<ulong, bool> sourcePoisoned, bool counted = true)
    {
        var mismatches = new List<string>();
        var expected = ReadScratch.Begin(segs);
        ulong at = 0;
        for (var s = 0; s < segs.Count; s++)
        {
            var (off, len) = segs[s];
            for (ulong k = 0; k < len; k++, at++)
            {
                if (at < n) expected.Set(off + k, true, pos + at);
                // Overlapping segments of a call that stopped: any of them may have been stored last.
                else if (!expected.TryAdd(off + k, false, pos + at) && !counted) expected.AddOverlap(off + k, pos + at);
            }
        }
        var total = at;
        if (Size is var (_, max) && n > 0 && pos + n > max)
            Report(mismatches, $"read returned {n} bytes at offset {pos} of a file of at most {max} bytes");
        ulong reportedLine = ulong.MaxValue;
        for (var idx = 0; idx < expected.Count; idx++)
        {
            var off = expected.KeyAt(idx);
            var e = expected.Get(off);
            var got = bufByte(off);
            if (!e.Claimed)
            {
                if (got is not { } g0 || User.Allows(off, g0)) continue;
                if (!counted && OverlapAllows(expected, off, g0)) User.Forget(off);
                else if (!counted && Region.Allows(e.DevOff, g0) && Region.IsChecked(e.DevOff)) User.Set(off, g0);
                else if (!counted && !Region.IsChecked(e.DevOff)) User.Forget(off);
                else if (!counted)
                    Report(mismatches, $"buf+0x{off:x} = 0x{g0:x2} in the range of a call that stopped, expected {User.Expected(off)} (unchanged) or file/device offset {e.DevOff}'s {Region.Expected(e.DevOff)}");
                else
                    Report(mismatches, $"buf+0x{off:x} = 0x{g0:x2} past the count ({n} of {total}), expected {User.Expected(off)} (unchanged)");
                continue;
            }
            var line = e.DevOff & ~63UL;
            if (line != reportedLine && sourcePoisoned(line))
            {
                reportedLine = line;
                Report(mismatches, $"read returned bytes of the poisoned line at file/device offset {line}");
            }
            if (got is not { } g)
            {
                if (Region.IsChecked(e.DevOff)) Report(mismatches, $"buf+0x{off:x} = unmapped, file/device offset {e.DevOff} holds {Region.Expected(e.DevOff)}");
                User.Forget(off);
                continue;
            }
            if (!Region.Allows(e.DevOff, g))
                Report(mismatches, $"buf+0x{off:x} = 0x{g:x2}, file/device offset {e.DevOff} holds {Region.Expected(e.DevOff)}");
            else Region.Observe(e.DevOff, g);
            User.Set(off, g);
        }
        for (var s = 0; s < segs.Count; s++)
        {
            var (off, len) = segs[s];
            CheckGuard(off >= Guard ? off - Guard : 0, off, expected, bufByte, mismatches);
            CheckGuard(off + len, off + len + Guard, expected, bufByte, mismatches);
        }
        return mismatches;
    }

    /// <summary>
    /// Whether another overlapping segment of a call that stopped may have stored <paramref name="got"/> at buffer
    /// offset <paramref name="off"/>: its region byte is not checked or allows it (false when no other segment covers it).
    /// </summary>
    private bool OverlapAllows(ReadScratch expected, ulong off, byte got)
    {
        for (var e = expected.FirstOverlap(off); e >= 0; e = expected.NextOverlap(e))
        {
            var d = expected.OverlapDev(e);
            if (!Region.IsChecked(d) || Region.Allows(d, got)) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether <see cref="Read(IReadOnlyList{ValueTuple{ulong, ulong}}, ulong, ulong, UserView, IReadOnlySet{ulong}, bool)"/>
    /// can check a read of these segments: they lie in the buffer and do not overlap.
    /// </summary>
    public static bool RangeReadable(IReadOnlyList<(ulong Off, ulong Len)> segs)
    {
        for (var i = 0; i < segs.Count; i++)
        {
            var (off, len) = segs[i];
            if (off > CampaignPlan.BufSize || len > CampaignPlan.BufSize - off) return false;
            for (var j = 0; j < i; j++)
                if (off < segs[j].Off + segs[j].Len && segs[j].Off < off + len) return false;
        }
        return true;
    }

    /// <summary>
    /// The same check as <see cref="Read(IReadOnlyList{ValueTuple{ulong, ulong}}, ulong, ulong, Func{ulong, byte?}, Func{ulong, bool}, bool)"/>
    /// (same verdicts, same messages, same model updates) for segments that lie in the buffer and do not overlap
    /// (<see cref="RangeReadable"/>), read from <paramref name="view"/>: each byte is then in one segment, in operation
    /// order, so the bytes are compared run by run (a line of the source, a page of the buffer) instead of one by one.
    /// </summary>
    public List<string> Read(IReadOnlyList<(ulong Off, ulong Len)> segs, ulong pos, ulong n, UserView view,
        IReadOnlySet<ulong> sourcePoisoned, bool counted)
    {
        var mismatches = new List<string>();
        ulong total = 0;
        for (var s = 0; s < segs.Count; s++) total += segs[s].Len;
        if (Size is var (_, max) && n > 0 && pos + n > max)
            Report(mismatches, $"read returned {n} bytes at offset {pos} of a file of at most {max} bytes");
        var reportedLine = ulong.MaxValue;
        ulong at = 0;
        for (var s = 0; s < segs.Count; s++)
        {
            var (off, len) = segs[s];
            var claimed = at < n ? Math.Min(len, n - at) : 0;
            ReadClaimed(off, pos + at, claimed, view, sourcePoisoned, ref reportedLine, mismatches);
            ReadUnclaimed(off + claimed, pos + at + claimed, len - claimed, view, counted, n, total, mismatches);
            at += len;
        }
        if (mismatches.Count >= MaxReported) return mismatches;
        for (var s = 0; s < segs.Count; s++)
        {
            var (off, len) = segs[s];
            CheckGuard(off >= Guard ? off - Guard : 0, off, segs, view, mismatches);
            CheckGuard(off + len, off + len + Guard, segs, view, mismatches);
        }
        return mismatches;
    }

    /// <summary>Bytes the read claims: buffer [off, +len) holds region [dev, +len).</summary>
    private void ReadClaimed(ulong off, ulong dev, ulong len, UserView view, IReadOnlySet<ulong> sourcePoisoned,
        ref ulong reportedLine, List<string> mismatches)
    {
        var bytes = view.Bytes;
        var byLine = sourcePoisoned.Count > 0;
        for (ulong k = 0; k < len;)
        {
            var b = off + k;
            var d = dev + k;
            // One run: up to the end of the buffer page, and of the source line when any line is poisoned.
            var chunk = Math.Min(len - k, PageDefs.PAGE_SIZE - (b & (PageDefs.PAGE_SIZE - 1)));
            if (byLine)
            {
                chunk = Math.Min(chunk, 64 - (d & 63));
                var line = d & ~63UL;
                if (line != reportedLine && sourcePoisoned.Contains(line))
                {
                    reportedLine = line;
                    Report(mismatches, $"read returned bytes of the poisoned line at file/device offset {line}");
                }
            }
            if (!view.Present(b))
            {
                for (ulong j = 0; j < chunk && mismatches.Count < MaxReported; j++)
                    if (Region.IsChecked(d + j)) mismatches.Add($"buf+0x{b + j:x} = unmapped, file/device offset {d + j} holds {Region.Expected(d + j)}");
                User.Forget(b, chunk);
            }
            else
            {
                var got = bytes.Slice((int)b, (int)chunk);
                for (var j = Region.ObserveUntilDisallowed(d, got); j >= 0; j = Next(Region, d, got, j))
                    if (mismatches.Count < MaxReported) mismatches.Add($"buf+0x{b + (ulong)j:x} = 0x{got[j]:x2}, file/device offset {d + (ulong)j} holds {Region.Expected(d + (ulong)j)}");
                User.SetRange(b, got);
            }
            k += chunk;
        }
    }

    /// <summary>Bytes of the read's range past its count: buffer [off, +len), whose region bytes are [dev, +len).</summary>
    private void ReadUnclaimed(ulong off, ulong dev, ulong len, UserView view, bool counted, ulong n, ulong total, List<string> mismatches)
    {
        var bytes = view.Bytes;
        for (ulong k = 0; k < len;)
        {
            var b = off + k;
            var chunk = Math.Min(len - k, PageDefs.PAGE_SIZE - (b & (PageDefs.PAGE_SIZE - 1)));
            k += chunk;
            // An unmapped byte is not compared; a counted read only reports, and stops when nothing more is reported.
            if (!view.Present(b) || (counted && mismatches.Count >= MaxReported)) continue;
            var end = (int)(b + chunk);
            for (var i = User.FirstDisallowed(bytes, (int)b, end); i >= 0; i = User.FirstDisallowed(bytes, i + 1, end))
            {
                var u = (ulong)i;
                var g = bytes[i];
                var d = dev + (u - off);
                if (counted) Report(mismatches, $"buf+0x{u:x} = 0x{g:x2} past the count ({n} of {total}), expected {User.Expected(u)} (unchanged)");
                else if (Region.Allows(d, g) && Region.IsChecked(d)) User.Set(u, g);
                else if (!Region.IsChecked(d)) User.Forget(u);
                else Report(mismatches, $"buf+0x{u:x} = 0x{g:x2} in the range of a call that stopped, expected {User.Expected(u)} (unchanged) or file/device offset {d}'s {Region.Expected(d)}");
            }
        }
    }

    private void CheckGuard(ulong from, ulong to, IReadOnlyList<(ulong Off, ulong Len)> segs, UserView view, List<string> mismatches)
    {
        var bytes = view.Bytes;
        var end = (int)Math.Min(to, CampaignPlan.BufSize);
        if (from >= (ulong)end) return;
        // Only the bytes the model does not allow can be reported: found with the vectorised search, not byte by byte.
        for (var i = User.FirstDisallowed(bytes, (int)from, end); i >= 0 && mismatches.Count < MaxReported; i = User.FirstDisallowed(bytes, i + 1, end))
        {
            var b = (ulong)i;
            if (!view.Present(b)) continue;
            var inRange = false;
            for (var s = 0; s < segs.Count; s++)
            {
                var (off, len) = segs[s];
                inRange |= b >= off && b < off + len;
            }
            if (!inRange) mismatches.Add($"buf+0x{b:x} = 0x{bytes[(int)b]:x2} outside the read's range, expected {User.Expected(b)} (unchanged)");
        }
    }

    private void CheckGuard(ulong from, ulong to, ReadScratch inRange, Func<ulong, byte?> bufByte, List<string> mismatches)
    {
        for (var b = from; b < to && b < CampaignPlan.BufSize; b++)
            if (!inRange.Contains(b) && bufByte(b) is { } g && !User.Allows(b, g))
                Report(mismatches, $"buf+0x{b:x} = 0x{g:x2} outside the read's range, expected {User.Expected(b)} (unchanged)");
    }

    private static void Report(List<string> mismatches, string m)
    {
        if (mismatches.Count < MaxReported) mismatches.Add(m);
    }

    /// <summary>
    /// A user-mode load of buffer offset <paramref name="off"/> that did <paramref name="done"/> bytes: they must equal
    /// the buffer, and none may come from a poisoned line (<paramref name="poisoned"/>, buffer offsets of lines: the
    /// load must have raised a machine check there).
    /// </summary>
    public List<string> Load(ulong off, ReadOnlySpan<byte> data, ulong done, Func<ulong, bool> poisoned)
    {
        var mismatches = new List<string>();
        var count = (int)Math.Min((ulong)data.Length, done);
        ulong reportedLine = ulong.MaxValue;
        // Line by line (the poisoned-line test is per line), each line's bytes compared as a range.
        for (var k = 0; k < count;)
        {
            var b = off + (ulong)k;
            var chunk = (int)Math.Min((ulong)(count - k), 64 - (b & 63));
            if ((b & ~63UL) != reportedLine && poisoned(b & ~63UL))
            {
                reportedLine = b & ~63UL;
                Report(mismatches, $"load returned bytes of the poisoned line at buf+0x{reportedLine:x}");
            }
            var got = data.Slice(k, chunk);
            for (var j = User.ObserveUntilDisallowed(b, got); j >= 0; j = Next(User, b, got, j))
                if (mismatches.Count < MaxReported) mismatches.Add($"load buf+0x{b + (ulong)j:x} = 0x{got[j]:x2}, expected {User.Expected(b + (ulong)j)}");
            k += chunk;
        }
        return mismatches;
    }

    /// <summary>After the disallowed byte <paramref name="j"/>: observe on from the next one; the next disallowed index or −1.</summary>
    private static int Next(ByteModel m, ulong at, ReadOnlySpan<byte> got, int j)
    {
        var r = m.ObserveUntilDisallowed(at + (ulong)j + 1, got[(j + 1)..]);
        return r < 0 ? -1 : j + 1 + r;
    }

    /// <summary>A user-mode store of <paramref name="len"/> bytes of <paramref name="fill"/> that did <paramref name="done"/>: past it, old or <paramref name="fill"/>.</summary>
    public void Store(ulong off, ulong len, byte fill, ulong done)
    {
        var stored = Math.Min(len, done);
        User.Fill(off, stored, fill);
        User.MaybeFill(off + stored, len - stored, fill);
    }

    /// <summary>Region bytes that are no longer known (a failed fsync dropped the pages; the host truncated the file).</summary>
    public void Lost(ulong pos, ulong len) => Region.Forget(pos, len);

    /// <summary>The final check of the whole user buffer (pages not present are not compared).</summary>
    public void CheckBuffer(UserView got, List<string> mismatches)
    {
        var bytes = got.Bytes;
        for (var k = User.FirstDisallowed(bytes); k >= 0 && mismatches.Count < MaxReported;)
        {
            if (got.Present((ulong)k))
            {
                mismatches.Add($"user buffer buf+0x{k:x} = 0x{bytes[k]:x2}, expected {User.Expected((ulong)k)}");
                k = User.FirstDisallowed(bytes, k + 1);
                continue;
            }
            // A page that is not present is not compared: go on at the next page (its stale bytes would otherwise be
            // found disallowed one at a time).
            var next = (k | (int)(PageDefs.PAGE_SIZE - 1)) + 1;
            k = next < bytes.Length ? User.FirstDisallowed(bytes, next) : -1;
        }
    }

    /// <summary>The final check of the whole user buffer (null: unmapped, not compared).</summary>
    public void CheckBuffer(IReadOnlyList<byte?> got, List<string> mismatches)
    {
        for (ulong k = 0; k < CampaignPlan.BufSize && mismatches.Count < MaxReported; k++)
            if (got[(int)k] is { } g && !User.Allows(k, g))
                mismatches.Add($"user buffer buf+0x{k:x} = 0x{g:x2}, expected {User.Expected(k)}");
    }

    /// <summary>
    /// The final check of the file's bytes and size (<paramref name="what"/>: "file", "host file"); <paramref name="size"/>
    /// when <paramref name="data"/> is only the file's head.
    /// </summary>
    public void CheckFile(ReadOnlySpan<byte> data, string what, List<string> mismatches, long size = -1)
    {
        CheckSize(size < 0 ? data.Length : size, what, mismatches);
        for (var k = Region.FirstDisallowed(data); k >= 0 && mismatches.Count < MaxReported; k = Region.FirstDisallowed(data, k + 1))
            mismatches.Add($"{what} offset {k} = 0x{data[k]:x2}, expected {Region.Expected((ulong)k)}");
    }

    /// <summary>The file's size (i_size) against the model's bounds.</summary>
    public void CheckSize(long size, string what, List<string> mismatches)
    {
        if (Size is var (min, max) && (size < 0 || (ulong)size < min || (ulong)size > max))
            Report(mismatches, $"{what} size = {size}, expected {(min == max ? $"{min}" : $"{min}..{max}")}");
    }

    /// <summary>The final check of the media, line by line (one mismatch per line); <paramref name="skipLine"/> lines are not compared.</summary>
    public void CheckMedia(ReadOnlySpan<byte> media, Func<ulong, bool> skipLine, List<string> mismatches)
    {
        var k = Region.FirstDisallowed(media);
        while (k >= 0 && mismatches.Count < MaxReported)
        {
            var line = (ulong)k & ~63UL;
            if (!skipLine(line)) mismatches.Add($"media offset {k} = 0x{media[k]:x2}, expected {Region.Expected((ulong)k)}");
            k = line + 64 < (ulong)media.Length ? Region.FirstDisallowed(media, (int)line + 64) : -1;
        }
    }
}
