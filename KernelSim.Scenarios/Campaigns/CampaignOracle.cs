namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The oracle of a seed run: a model of the file/device region and of the user buffer (what every byte must
/// be, or unknown). It says what each operation must have left in user space and on the media and reports
/// every byte that differs (at most <see cref="MaxReported"/> per check). Only bytes the kernel claims to have
/// moved are compared: a short count leaves the rest unknown.
/// </summary>
internal sealed class CampaignOracle(ByteModel region, ByteModel user)
{
    /// <summary>Mismatches reported per check (the rest are not listed).</summary>
    public const int MaxReported = 4;

    /// <summary>The oracle of a seed: the region and the buffer hold the seed's patterns (salts 0xD0D0 and 0xB0B0).</summary>
    public CampaignOracle(ulong seed)
        : this(new ByteModel(ByteModel.Pattern(seed, 0xD0D0, (int)CampaignPlan.Region)),
            new ByteModel(ByteModel.Pattern(seed, 0xB0B0, (int)CampaignPlan.BufSize)))
    {
    }

    /// <summary>The file/device region.</summary>
    public ByteModel Region { get; } = region;

    /// <summary>The user buffer.</summary>
    public ByteModel User { get; } = user;

    /// <summary>
    /// A write of the buffer segments <paramref name="segs"/> to region offset <paramref name="pos"/> moved
    /// <paramref name="n"/> bytes: the region holds the source bytes over the count; the rest of the range is
    /// unknown (the kernel may have written some of it). A poisoned source line (offset in the operation, from
    /// <paramref name="poisonedSource"/>) inside the count makes its region line unknown. Returns true when
    /// the write accepted such a line.
    /// </summary>
    public bool Write(IReadOnlyList<(ulong Off, ulong Len)> segs, ulong pos, ulong n, IReadOnlyList<ulong> poisonedSource)
    {
        ulong at = 0;
        foreach (var (off, len) in segs)
        {
            for (ulong k = 0; k < len; k++, at++)
            {
                var d = pos + at;
                if (at < n && User.TryGet(off + k, out var v)) Region.Set(d, v);
                else Region.Forget(d);
            }
        }
        var accepted = false;
        foreach (var ps in poisonedSource)
        {
            if (ps >= n) continue;
            accepted = true;
            Region.Forget(pos + (ps & ~63UL), 64);
        }
        return accepted;
    }

    /// <summary>
    /// A read from region offset <paramref name="pos"/> into the buffer segments claims <paramref name="n"/>
    /// bytes: each of them must equal the region (<paramref name="bufByte"/> gives the buffer's byte, null when
    /// unmapped); the rest of the range becomes unknown. Segments may overlap: the later one wins, so the expected
    /// bytes are built in order before comparing. A read that returns bytes of a poisoned media line
    /// (<paramref name="poisonedMedia"/>, region offsets of lines) is corruption too. Returns the mismatches.
    /// </summary>
    public List<string> Read(IReadOnlyList<(ulong Off, ulong Len)> segs, ulong pos, ulong n, Func<ulong, byte?> bufByte,
        IReadOnlyList<ulong> poisonedMedia)
    {
        var mismatches = new List<string>();
        var expected = new Dictionary<ulong, (bool Known, byte Value, ulong DevOff)>();
        ulong at = 0;
        foreach (var (off, len) in segs)
        {
            for (ulong k = 0; k < len; k++, at++)
            {
                byte want = 0;
                var known = at < n && Region.TryGet(pos + at, out want);
                expected[off + k] = (known, want, pos + at);
            }
        }
        foreach (var (off, e) in expected)
        {
            if (!e.Known)
            {
                User.Forget(off);
                continue;
            }
            var got = bufByte(off);
            if (got != e.Value && mismatches.Count < MaxReported)
                mismatches.Add($"buf+0x{off:x} = {(got is { } g ? $"0x{g:x2}" : "unmapped")}, file/device offset {e.DevOff} holds 0x{e.Value:x2}");
            User.Set(off, e.Value);
        }
        foreach (var line in poisonedMedia)
            if (n > 0 && line + 64 > pos && line < pos + n && mismatches.Count < MaxReported)
                mismatches.Add($"O_DIRECT read returned bytes of the poisoned line at device offset {line}");
        return mismatches;
    }

    /// <summary>A user-mode load of buffer offset <paramref name="off"/> that did <paramref name="done"/> bytes: they must equal the buffer.</summary>
    public List<string> Load(ulong off, ReadOnlySpan<byte> data, ulong done)
    {
        var mismatches = new List<string>();
        for (ulong k = 0; k < (ulong)data.Length; k++)
            if (k < done && User.TryGet(off + k, out var want) && data[(int)k] != want && mismatches.Count < MaxReported)
                mismatches.Add($"load buf+0x{off + k:x} = 0x{data[(int)k]:x2}, expected 0x{want:x2}");
        return mismatches;
    }

    /// <summary>A user-mode store of <paramref name="len"/> bytes of <paramref name="fill"/> that did <paramref name="done"/>: the rest is unknown.</summary>
    public void Store(ulong off, ulong len, byte fill, ulong done)
    {
        for (ulong k = 0; k < len; k++)
        {
            if (k < done) User.Set(off + k, fill);
            else User.Forget(off + k);
        }
    }

    /// <summary>Region bytes that are no longer known (a failed fsync dropped the pages; the host truncated the file).</summary>
    public void Lost(ulong pos, ulong len) => Region.Forget(pos, len);

    /// <summary>The final check of the whole user buffer (null: unmapped, not compared).</summary>
    public void CheckBuffer(IReadOnlyList<byte?> got, List<string> mismatches)
    {
        for (ulong k = 0; k < CampaignPlan.BufSize && mismatches.Count < MaxReported; k++)
            if (got[(int)k] is { } g && User.TryGet(k, out var want) && g != want)
                mismatches.Add($"user buffer buf+0x{k:x} = 0x{g:x2}, expected 0x{want:x2}");
    }

    /// <summary>The final check of the file's bytes (<paramref name="what"/>: "file", "host file").</summary>
    public void CheckFile(ReadOnlySpan<byte> data, string what, List<string> mismatches)
    {
        for (var k = 0; k < data.Length && mismatches.Count < MaxReported; k++)
            if (Region.TryGet((ulong)k, out var want) && data[k] != want)
                mismatches.Add($"{what} offset {k} = 0x{data[k]:x2}, expected 0x{want:x2}");
    }

    /// <summary>The final check of the media, line by line (one mismatch per line); <paramref name="skipLine"/> lines are not compared.</summary>
    public void CheckMedia(ReadOnlySpan<byte> media, Func<ulong, bool> skipLine, List<string> mismatches)
    {
        for (ulong line = 0; line < CampaignPlan.Region && mismatches.Count < MaxReported; line += 64)
        {
            if (skipLine(line)) continue;
            for (var k = line; k < line + 64; k++)
                if (Region.TryGet(k, out var want) && media[(int)k] != want)
                {
                    mismatches.Add($"media offset {k} = 0x{media[(int)k]:x2}, expected 0x{want:x2}");
                    break;
                }
        }
    }
}
