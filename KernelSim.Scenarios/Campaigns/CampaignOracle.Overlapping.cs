namespace KernelSim.Scenarios.Campaigns;

/// <summary>The oracle's run-by-run check of a read whose segments overlap.</summary>
internal sealed partial class CampaignOracle
{
    /// <summary>
    /// The same check as the byte-by-byte <see cref="Read(IReadOnlyList{ValueTuple{ulong, ulong}}, ulong, ulong, Func{ulong, byte?}, Func{ulong, bool}, bool)"/>
    /// for a counted read whose segments lie in the buffer but overlap (readv with aliasing iovecs): a later segment's copy
    /// overwrites an earlier one's, so each buffer byte holds the region byte of the last segment that claims it. The
    /// buffer is cut into pieces over which that is one segment (or none), taken in the order the byte-by-byte check
    /// meets them (segment order, then offset, each byte where it is first met), and each piece is compared run by run.
    /// </summary>
    public List<string> ReadOverlapping(IReadOnlyList<(ulong Off, ulong Len)> segs, ulong pos, ulong n, UserView view,
        IReadOnlySet<ulong> sourcePoisoned)
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
                else ReadUnclaimed(a, pos + start[i] + (a - off), b - a, view, true, n, total, mismatches);
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
}
