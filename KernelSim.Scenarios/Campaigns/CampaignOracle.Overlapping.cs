using KernelSim.Mm;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>The oracle's run-by-run check of a read whose segments overlap.</summary>
internal sealed partial class CampaignOracle
{
    /// <summary>
    /// The same check as the byte-by-byte <see cref="Read(IReadOnlyList{ValueTuple{ulong, ulong}}, ulong, ulong, Func{ulong, byte?}, Func{ulong, bool}, bool)"/>
    /// for a read whose segments lie in the buffer but overlap (readv with aliasing iovecs): a later segment's copy
    /// overwrites an earlier one's, so each buffer byte holds the region byte of the last segment that claims it. The
    /// buffer is cut into pieces over which that is one segment (or none), taken in the order the byte-by-byte check
    /// meets them (segment order, then offset, each byte where it is first met), and each piece is compared run by run.
    /// In a call that stopped (<paramref name="counted"/> false), a byte no segment claims may hold the region byte of
    /// any segment that covers it (<see cref="ReadStopped"/>).
    /// </summary>
    public List<string> ReadOverlapping(IReadOnlyList<(ulong Off, ulong Len)> segs, ulong pos, ulong n, UserView view,
        IReadOnlySet<ulong> sourcePoisoned, bool counted = true)
    {
        var mismatches = new List<string>();
        var count = segs.Count;
        Span<ulong> start = stackalloc ulong[count];
        Span<ulong> claimedEnd = stackalloc ulong[count];
        // The cut points on the stack for up to 256 segments (a list per read was garbage per call).
        Span<ulong> cuts = count <= 256 ? stackalloc ulong[3 * count] : new ulong[3 * count];
        ulong total = 0;
        for (var j = 0; j < count; j++)
        {
            var (off, len) = segs[j];
            if (off > CampaignPlan.BufSize || len > CampaignPlan.BufSize - off) throw new ArgumentOutOfRangeException(nameof(segs), "read segments outside the buffer model");
            start[j] = total;
            claimedEnd[j] = off + (total < n ? Math.Min(len, n - total) : 0);
            cuts[3 * j] = off;
            cuts[3 * j + 1] = off + len;
            cuts[3 * j + 2] = claimedEnd[j];
            total += len;
        }
        cuts.Sort();
        if (Size is var (_, max) && n > 0 && pos + n > max)
            Report(mismatches, $"read returned {n} bytes at offset {pos} of a file of at most {max} bytes");
        var reportedLine = ulong.MaxValue;
        for (var i = 0; i < count; i++)
        {
            var (off, len) = segs[i];
            for (var c = 0; c + 1 < cuts.Length; c++)
            {
                var (a, b) = (cuts[c], cuts[c + 1]);
                if (a == b || a < off || b > off + len) continue;
                var seenBefore = false;
                for (var j = 0; j < i && !seenBefore; j++) seenBefore = a >= segs[j].Off && a < segs[j].Off + segs[j].Len;
                if (seenBefore) continue;
                var last = -1;
                for (var j = 0; j < count; j++)
                    if (a >= segs[j].Off && a < claimedEnd[j]) last = j;
                if (last >= 0) ReadClaimed(a, pos + start[last] + (a - segs[last].Off), b - a, view, sourcePoisoned, ref reportedLine, mismatches);
                else if (counted) ReadUnclaimed(a, pos + start[i] + (a - off), b - a, view, true, n, total, mismatches);
                else ReadStopped(a, b - a, i, segs, start, pos, view, mismatches);
            }
        }
        if (mismatches.Count >= MaxReported) return mismatches;
        for (var s = 0; s < count; s++)
        {
            var (off, len) = segs[s];
            CheckGuard(off >= Guard ? off - Guard : 0, off, segs, view, mismatches);
            CheckGuard(off + len, off + len + Guard, segs, view, mismatches);
        }
        return mismatches;
    }

    /// <summary>
    /// Buffer bytes [<paramref name="a"/>, +<paramref name="len"/>) of a call that stopped, which no segment claims and
    /// segment <paramref name="first"/> is the first to cover (every segment covers all of the piece or none of it): a
    /// byte the buffer model does not allow is possible when a later segment's region byte is unchecked or allows it
    /// (the byte becomes unknown), or when the first segment's does (the byte takes it); otherwise it is reported.
    /// </summary>
    private void ReadStopped(ulong a, ulong len, int first, IReadOnlyList<(ulong Off, ulong Len)> segs, ReadOnlySpan<ulong> start,
        ulong pos, UserView view, List<string> mismatches)
    {
        var bytes = view.Bytes;
        var dev = pos + start[first] + (a - segs[first].Off);
        for (ulong k = 0; k < len;)
        {
            var b = a + k;
            var chunk = Math.Min(len - k, PageDefs.PAGE_SIZE - (b & (PageDefs.PAGE_SIZE - 1)));
            k += chunk;
            if (!view.Present(b)) continue;
            var end = (int)(b + chunk);
            for (var i = User.FirstDisallowed(bytes, (int)b, end); i >= 0; i = User.FirstDisallowed(bytes, i + 1, end))
            {
                var u = (ulong)i;
                var g = bytes[i];
                var d = dev + (u - a);
                if (LaterAllows(u, g, first, segs, start, pos)) User.Forget(u);
                else if (Region.Allows(d, g) && Region.IsChecked(d)) User.Set(u, g);
                else if (!Region.IsChecked(d)) User.Forget(u);
                else Report(mismatches, $"buf+0x{u:x} = 0x{g:x2} in the range of a call that stopped, expected {User.Expected(u)} (unchanged) or file/device offset {d}'s {Region.Expected(d)}");
            }
        }
    }

    /// <summary>Whether a segment after <paramref name="first"/> covers buffer offset <paramref name="u"/> with a region byte that is unchecked or allows <paramref name="g"/>.</summary>
    private bool LaterAllows(ulong u, byte g, int first, IReadOnlyList<(ulong Off, ulong Len)> segs, ReadOnlySpan<ulong> start, ulong pos)
    {
        for (var j = first + 1; j < segs.Count; j++)
        {
            var (off, len) = segs[j];
            if (u < off || u >= off + len) continue;
            var d = pos + start[j] + (u - off);
            if (!Region.IsChecked(d) || Region.Allows(d, g)) return true;
        }
        return false;
    }
}
