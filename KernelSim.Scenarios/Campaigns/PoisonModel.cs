namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The oracle's model of media poison over the region, line by line (64 bytes), for the final check: a line
/// must be poisoned (injected, and no write has reached its page since), must be clean (never injected, or a write
/// the kernel reported complete covered it while its sector was a known badblock: pmem_do_write clears such a
/// range before or after writing it, and fails the bio when the clear fails), or may be either (a write reached its
/// page: writeback or a recovery write may have cleared it). Poison persists across a reboot, so the check also
/// runs after a panic.
/// </summary>
internal sealed class PoisonModel
{
    private const byte Clean = 0, Poisoned = 1, Either = 2;

    private readonly byte[] _state = new byte[CampaignPlan.Region / 64];
    private readonly int[] _step = new int[CampaignPlan.Region / 64];

    [ThreadStatic] private static PoisonModel? _pooled;

    /// <summary>A model with every line clean: this thread's released one, reset, when there is one (its 5 KB are not garbage per seed run).</summary>
    public static PoisonModel Rent()
    {
        var m = _pooled;
        if (m == null) return new PoisonModel();
        _pooled = null;
        m._state.AsSpan().Clear();
        m._step.AsSpan().Clear();
        return m;
    }

    /// <summary>Give a rented model back to this thread; the caller must not use it again.</summary>
    public void Release() => _pooled = this;

    /// <summary>Step <paramref name="step"/> injected poison into the line holding region byte <paramref name="off"/>.</summary>
    public void Injected(ulong off, int step) => Set(off / 64, Poisoned, step);

    /// <summary>
    /// Step <paramref name="step"/> wrote [pos, pos+len): the lines of the <paramref name="granule"/>-byte blocks it
    /// reached (pages for writeback and DAX, sectors for O_DIRECT) may have been cleared.
    /// </summary>
    public void Touched(ulong pos, ulong len, int step, ulong granule)
    {
        if (len == 0 || pos >= CampaignPlan.Region) return;
        var end = Math.Min(CampaignPlan.Region, (pos + len + granule - 1) & ~(granule - 1));
        for (var line = (pos & ~(granule - 1)) / 64; line < end / 64; line++)
            if (_state[line] == Poisoned) Set(line, Either, step);
    }

    /// <summary>Step <paramref name="step"/> completed a write over [pos, pos+len), which the kernel had listed as bad: its lines must be clean.</summary>
    public void Cleared(ulong pos, ulong len, int step)
    {
        for (var line = pos / 64; line < (pos + len + 63) / 64 && line < (ulong)_state.Length; line++) Set(line, Clean, step + 1);
    }

    private void Set(ulong line, byte state, int step)
    {
        _state[line] = state;
        _step[line] = step;
    }

    /// <summary>What a line of the media is now, for <see cref="Check(ReadOnlySpan{byte}, List{string})"/>.</summary>
    public const byte LineClean = 0, LinePoisoned = 1, LineNotOnMedia = 2;

    /// <summary>
    /// <see cref="Check(Func{ulong, bool}, Func{ulong, bool}, List{string}, bool)"/> with the media's lines given as a table
    /// (<paramref name="lines"/>[i] for the line at region offset 64·i: <see cref="LineClean"/>, <see cref="LinePoisoned"/>
    /// or <see cref="LineNotOnMedia"/>): the same mismatches in the same order, without two calls per line.
    /// </summary>
    public void Check(ReadOnlySpan<byte> lines, List<string> mismatches)
    {
        for (var line = 0; line < _state.Length && mismatches.Count < CampaignOracle.MaxReported; line++)
        {
            var st = _state[line];
            var now = lines[line];
            if (st == Either || now == LineNotOnMedia || st == now) continue;
            var off = (ulong)line * 64;
            if (st == Poisoned)
                mismatches.Add($"media line at file/device offset {off} holds no poison, but nothing was written near it since step {_step[line]} poisoned it");
            else
                mismatches.Add(_step[line] == 0
                    ? $"media line at file/device offset {off} is poisoned, but no step poisoned it"
                    : $"media line at file/device offset {off} is still poisoned after step {_step[line] - 1} completed a write over its known-bad sector");
        }
    }

    /// <summary>
    /// Compare with the media (<paramref name="poisoned"/>: whether the line at a region offset is poisoned now;
    /// <paramref name="skip"/>: lines not on the media). One mismatch per line, at most <see cref="CampaignOracle.MaxReported"/>.
    /// </summary>
    /// <paramref name="anyPoisoned"/> false: no line is poisoned now, so only lines that must be poisoned can differ.
    public void Check(Func<ulong, bool> poisoned, Func<ulong, bool> skip, List<string> mismatches, bool anyPoisoned = true)
    {
        for (var line = 0; line < _state.Length && mismatches.Count < CampaignOracle.MaxReported; line++)
        {
            if (!anyPoisoned)
            {
                var next = _state.AsSpan(line).IndexOf(Poisoned);
                if (next < 0) break;
                line += next;
            }
            var off = (ulong)line * 64;
            if (_state[line] == Either || skip(off)) continue;
            var now = poisoned(off);
            if (_state[line] == Poisoned && !now)
                mismatches.Add($"media line at file/device offset {off} holds no poison, but nothing was written near it since step {_step[line]} poisoned it");
            else if (_state[line] == Clean && now)
                mismatches.Add(_step[line] == 0
                    ? $"media line at file/device offset {off} is poisoned, but no step poisoned it"
                    : $"media line at file/device offset {off} is still poisoned after step {_step[line] - 1} completed a write over its known-bad sector");
        }
    }
}
