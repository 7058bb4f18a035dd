using System.Text;
using KernelSim.Uapi;

namespace KernelSim.Block;

/// <summary>One badblocks table entry: start, length (1–512) and the acknowledged bit (BB_OFFSET/BB_LEN/BB_ACK).</summary>
/// <param name="Start">First bad block (sector &gt;&gt; shift).</param>
/// <param name="Length">Number of blocks, 1..<see cref="Badblocks.BB_MAX_LEN"/>.</param>
/// <param name="Acknowledged">BB_ACK: the bad range is recorded in metadata (pmem stores only acknowledged entries).</param>
public readonly record struct BadblockEntry(long Start, int Length, bool Acknowledged);

/// <summary>
/// struct badblocks and block/badblocks.c (the classic table, 4.6–6.6; the 6.7 rewrite keeps the same
/// user-visible rules): a sorted table of at most <see cref="MAX_BADBLOCKS"/> entries of up to
/// <see cref="BB_MAX_LEN"/> blocks each, in 512-byte sectors when <see cref="Shift"/> is 0 (pmem).
/// badblocks_set merges with neighbouring entries and fails (1) when the table is full; badblocks_clear trims or
/// splits entries (-ENOSPC when a split needs a slot that does not exist); badblocks_check returns 0 / 1 / -1.
/// One deliberate difference from the classic code: when a single set needs several new entries they are
/// inserted in ascending order (the 4.x loop inserted them all at the same index, leaving a &gt;512-sector range
/// unsorted; the 6.7 rewrite keeps the table sorted).
/// </summary>
public sealed class Badblocks
{
    /// <summary>MAX_BADBLOCKS = PAGE_SIZE / 8 (include/linux/badblocks.h).</summary>
    public const int MAX_BADBLOCKS = 512;

    /// <summary>BB_MAX_LEN: the longest range one entry holds.</summary>
    public const int BB_MAX_LEN = 512;

    private readonly List<BadblockEntry> _p = [];

    /// <summary>badblocks_init(bb, enable): shift 0 when enabled, -1 (disabled) otherwise.</summary>
    public Badblocks(bool enable = true) => Shift = enable ? 0 : -1;

    /// <summary>bb-&gt;shift: block size is 512 &lt;&lt; shift; -1 disables the table.</summary>
    public int Shift { get; set; }

    /// <summary>bb-&gt;count: entries in use.</summary>
    public int Count => _p.Count;

    /// <summary>bb-&gt;changed: set by every set/clear.</summary>
    public bool Changed { get; set; }

    /// <summary>bb-&gt;unacked_exist.</summary>
    public bool UnackedExist { get; private set; }

    /// <summary>The entries in table order.</summary>
    public IReadOnlyList<BadblockEntry> Entries => _p;

    /// <summary>Raised after each successful change (sysfs_notify_dirent on the badblocks node).</summary>
    public event Action? Notify;

    /// <summary>
    /// badblocks_check(bb, s, sectors, &amp;first_bad, &amp;bad_sectors): 0 when nothing in [s, s+sectors) is bad, 1 when
    /// every overlapping entry is acknowledged, -1 when one is not. first_bad/bad_sectors describe the lowest
    /// overlapping entry (0 when none).
    /// </summary>
    public int Check(long s, long sectors, out long firstBad, out int badSectors)
    {
        firstBad = 0;
        badSectors = 0;
        if (sectors < 0 || s < 0) return 0;
        var target = s + sectors;
        if (Shift > 0)
        {
            s >>= Shift;
            target += (1L << Shift) - 1;
            target >>= Shift;
        }
        var lo = 0;
        var hi = _p.Count;
        var rv = 0;
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            if (_p[mid].Start < target) lo = mid;
            else hi = mid;
        }
        if (hi > lo)
        {
            while (lo >= 0 && _p[lo].Start + _p[lo].Length > s)
            {
                if (_p[lo].Start < target)
                {
                    rv = rv != -1 && _p[lo].Acknowledged ? 1 : -1;
                    firstBad = _p[lo].Start;
                    badSectors = _p[lo].Length;
                }
                lo--;
            }
        }
        return rv;
    }

    /// <summary>badblocks_check without the first-bad outputs.</summary>
    public int Check(long s, long sectors) => Check(s, sectors, out _, out _);

    /// <summary>
    /// badblocks_set(bb, s, sectors, acknowledged): add a range, merging with the entry before and after it.
    /// Returns 0, or 1 when the table filled up (the part that fitted stays recorded). A disabled table (shift
    /// &lt; 0) accepts and ignores the range; a non-positive length is a no-op.
    /// </summary>
    public int Set(long s, long sectors, bool acknowledged)
    {
        if (Shift < 0) return 0;
        if (sectors <= 0 || s < 0) return 0;
        if (Shift > 0)
        {
            var next = s + sectors;
            s >>= Shift;
            next += (1L << Shift) - 1;
            next >>= Shift;
            sectors = next - s;
        }
        var rv = 0;
        var lo = 0;
        var hi = _p.Count;
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            if (_p[mid].Start <= s) lo = mid;
            else hi = mid;
        }
        if (hi > lo && _p[lo].Start > s) hi = lo;

        if (hi > lo)
        {
            // A range that might merge with the start of the new one.
            var a = _p[lo].Start;
            var e = a + _p[lo].Length;
            var ack = _p[lo].Acknowledged;
            if (e >= s)
            {
                ack = s == a && s + sectors >= e ? acknowledged : ack && acknowledged;
                if (e < s + sectors) e = s + sectors;
                if (e - a <= BB_MAX_LEN)
                {
                    _p[lo] = new BadblockEntry(a, (int)(e - a), ack);
                    s = e;
                }
                else
                {
                    if (_p[lo].Length != BB_MAX_LEN) _p[lo] = new BadblockEntry(a, BB_MAX_LEN, ack);
                    s = a + BB_MAX_LEN;
                }
                sectors = e - s;
            }
        }
        if (sectors > 0 && hi < _p.Count)
        {
            // 'hi' is the first range starting after s: maybe merge with its start.
            var a = _p[hi].Start;
            var e = a + _p[hi].Length;
            var ack = _p[hi].Acknowledged;
            if (a <= s + sectors)
            {
                if (e <= s + sectors)
                {
                    e = s + sectors;
                    ack = acknowledged;
                }
                else
                {
                    ack = ack && acknowledged;
                }
                a = s;
                if (e - a <= BB_MAX_LEN)
                {
                    _p[hi] = new BadblockEntry(a, (int)(e - a), ack);
                    s = e;
                }
                else
                {
                    _p[hi] = new BadblockEntry(a, BB_MAX_LEN, ack);
                    s = a + BB_MAX_LEN;
                }
                sectors = e - s;
                lo = hi;
                hi++;
            }
        }
        if (sectors == 0 && hi < _p.Count && lo < _p.Count)
        {
            // Maybe combine lo and hi ('s' is at the end of 'lo').
            var a = _p[hi].Start;
            var newlen = _p[lo].Length + _p[hi].Length - (s - a);
            if (s >= a && newlen < BB_MAX_LEN)
            {
                var ack = _p[lo].Acknowledged && _p[hi].Acknowledged;
                _p[lo] = new BadblockEntry(_p[lo].Start, (int)newlen, ack);
                _p.RemoveAt(hi);
            }
        }
        while (sectors > 0)
        {
            if (_p.Count >= MAX_BADBLOCKS)
            {
                rv = 1;
                break;
            }
            var thisSectors = (int)Math.Min(sectors, BB_MAX_LEN);
            _p.Insert(hi, new BadblockEntry(s, thisSectors, acknowledged));
            hi++;
            sectors -= thisSectors;
            s += thisSectors;
        }
        Changed = true;
        if (!acknowledged) UnackedExist = true;
        else UpdateAcked();
        Notify?.Invoke();
        return rv;
    }

    /// <summary>
    /// badblocks_clear(bb, s, sectors): remove [s, s+sectors) from the table, trimming or splitting entries.
    /// Returns 0, or -ENOSPC when splitting an entry needs a slot and the table is full (nothing is changed).
    /// </summary>
    public int Clear(long s, long sectors)
    {
        if (sectors <= 0 || s < 0) return 0;
        var target = s + sectors;
        if (Shift > 0)
        {
            s += (1L << Shift) - 1;
            s >>= Shift;
            target >>= Shift;
        }
        var lo = 0;
        var hi = _p.Count;
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            if (_p[mid].Start < target) lo = mid;
            else hi = mid;
        }
        if (hi > lo)
        {
            if (_p[lo].Start + _p[lo].Length > target && _p[lo].Start < target)
            {
                // Partial overlap: keep the tail of this range.
                var ack = _p[lo].Acknowledged;
                var a = _p[lo].Start;
                var end = a + _p[lo].Length;
                if (a < s)
                {
                    if (_p.Count >= MAX_BADBLOCKS) return -Errno.ENOSPC;
                    _p.Insert(lo, new BadblockEntry(a, (int)(s - a), ack));
                    lo++;
                }
                _p[lo] = new BadblockEntry(target, (int)(end - target), ack);
                hi = lo;
                lo--;
            }
            while (lo >= 0 && _p[lo].Start + _p[lo].Length > s && _p[lo].Start < target)
            {
                if (_p[lo].Start < s)
                {
                    var start = _p[lo].Start;
                    _p[lo] = new BadblockEntry(start, (int)(s - start), _p[lo].Acknowledged);
                    break;
                }
                lo--;
            }
            if (hi - lo > 1) _p.RemoveRange(lo + 1, hi - lo - 1);
        }
        UpdateAcked();
        Changed = true;
        Notify?.Invoke();
        return 0;
    }

    /// <summary>ack_all_badblocks: mark every entry acknowledged (only when nothing changed since the last ack).</summary>
    public void AckAll()
    {
        if (Changed || !UnackedExist) return;
        for (var i = 0; i < _p.Count; i++) _p[i] = _p[i] with { Acknowledged = true };
        UnackedExist = false;
    }

    private void UpdateAcked()
    {
        if (!UnackedExist) return;
        foreach (var e in _p)
        {
            if (!e.Acknowledged) return;
        }
        UnackedExist = false;
    }

    /// <summary>
    /// badblocks_show(bb, page, unack): one "&lt;start&gt; &lt;length&gt;\n" line per entry (in 512-byte sectors),
    /// only unacknowledged entries when <paramref name="unack"/>; output stops once it reaches PAGE_SIZE.
    /// </summary>
    public string Show(bool unack = false)
    {
        if (Shift < 0) return "";
        var sb = new StringBuilder();
        for (var i = 0; sb.Length < 4096 && i < _p.Count; i++)
        {
            var e = _p[i];
            if (unack && e.Acknowledged) continue;
            sb.Append(e.Start << Shift).Append(' ').Append((uint)e.Length << Shift).Append('\n');
        }
        if (unack && sb.Length == 0) UnackedExist = false;
        var text = sb.ToString();
        return text.Length > 4095 ? text[..4095] : text; // snprintf into a PAGE_SIZE buffer
    }

    /// <summary>
    /// badblocks_store(bb, page, len, unack): parse "%llu %d%c" — a third field must be '\n', the length must be
    /// positive — then badblocks_set(…, acknowledged = !unack). Returns the input length, -EINVAL on a parse
    /// error, -ENOSPC when the table is full.
    /// </summary>
    public long Store(string page, bool unack = false)
    {
        page ??= "";
        var n = Scan(page, out var sector, out var length, out var newline);
        switch (n)
        {
            case 3:
                if (newline != '\n') return -Errno.EINVAL;
                goto case 2;
            case 2:
                if (length <= 0) return -Errno.EINVAL;
                break;
            default:
                return -Errno.EINVAL;
        }
        if (Set((long)sector, length, !unack) != 0) return -Errno.ENOSPC;
        return Encoding.UTF8.GetByteCount(page);
    }

    /// <summary>The kernel's vsscanf for "%llu %d%c": the number of conversions that succeeded.</summary>
    private static int Scan(string s, out ulong sector, out int length, out char next)
    {
        sector = 0;
        length = 0;
        next = '\0';
        var i = 0;
        SkipSpace(s, ref i);
        if (!ParseNumber(s, ref i, out var v1)) return 0;
        sector = unchecked((ulong)v1);
        SkipSpace(s, ref i); // ' ' in the format matches any amount of white space
        if (!ParseNumber(s, ref i, out var v2)) return 1;
        length = unchecked((int)v2);
        if (i >= s.Length || s[i] == '\0') return 2;
        next = s[i];
        return 3;
    }

    private static void SkipSpace(string s, ref int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
    }

    /// <summary>simple_strtoull-like: optional sign, decimal digits; wraps on overflow.</summary>
    private static bool ParseNumber(string s, ref int i, out long value)
    {
        value = 0;
        var neg = false;
        var j = i;
        if (j < s.Length && (s[j] == '-' || s[j] == '+'))
        {
            neg = s[j] == '-';
            j++;
        }
        var start = j;
        ulong v = 0;
        while (j < s.Length && s[j] >= '0' && s[j] <= '9')
        {
            v = unchecked(v * 10 + (ulong)(s[j] - '0'));
            j++;
        }
        if (j == start) return false;
        i = j;
        value = unchecked(neg ? -(long)v : (long)v);
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => $"badblocks count={Count}";
}
