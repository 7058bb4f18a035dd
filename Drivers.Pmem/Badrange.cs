using KernelSim.Block;

namespace KernelSim.Drivers.Pmem;

/// <summary>One bus-level bad range: system physical byte address and length (struct badrange_entry).</summary>
/// <param name="Start">First bad byte (system physical address).</param>
/// <param name="Length">Length in bytes.</param>
public readonly record struct BadrangeEntry(ulong Start, ulong Length);

/// <summary>
/// drivers/nvdimm/badrange.c: the bus's list of known-bad physical byte ranges, in insertion order. badrange_add
/// drops an entry with the same start (updating its length); badrange_forget trims, deletes or splits entries;
/// <see cref="Populate"/> (badblocks_populate → __add_badblock_range) converts the part overlapping a range into
/// 512-byte sectors rounded outward.
/// </summary>
public sealed class Badrange
{
    private readonly List<BadrangeEntry> _list = [];

    /// <summary>The entries in list order.</summary>
    public IReadOnlyList<BadrangeEntry> Entries => _list;

    /// <summary>badrange_add (add_badrange): an entry with the same start only has its length updated. Returns 0.</summary>
    public int Add(ulong addr, ulong length)
    {
        if (length == 0) return 0;
        for (var i = 0; i < _list.Count; i++)
        {
            if (_list[i].Start != addr) continue;
            if (_list[i].Length != length) _list[i] = new BadrangeEntry(addr, length);
            return 0;
        }
        _list.Add(new BadrangeEntry(addr, length));
        return 0;
    }

    /// <summary>
    /// badrange_forget(badrange, start, len): delete entries inside [start, start+len), move the start of entries
    /// overlapping the beginning, shorten entries overlapping the end, split entries containing the range (the right
    /// half is appended). Like the kernel, an entry whose first byte is the last cleared byte is left alone.
    /// </summary>
    public void Forget(ulong start, ulong len)
    {
        if (len == 0) return;
        var clrEnd = start + len - 1;
        for (var i = 0; i < _list.Count; i++)
        {
            var bre = _list[i];
            var breEnd = bre.Start + bre.Length - 1;
            if (breEnd < start) continue;
            if (bre.Start > clrEnd) continue;
            if (bre.Start >= start && breEnd <= clrEnd)
            {
                _list.RemoveAt(i);
                i--;
                continue;
            }
            if (start <= bre.Start && clrEnd > bre.Start)
            {
                _list[i] = new BadrangeEntry(clrEnd + 1, bre.Length - (clrEnd - bre.Start + 1));
                continue;
            }
            if (bre.Start < start && breEnd <= clrEnd)
            {
                _list[i] = new BadrangeEntry(bre.Start, start - bre.Start);
                continue;
            }
            if (bre.Start < start && breEnd > clrEnd)
            {
                var newStart = clrEnd + 1;
                _list.Add(new BadrangeEntry(newStart, breEnd - newStart + 1));
                _list[i] = new BadrangeEntry(bre.Start, start - bre.Start);
            }
        }
    }

    /// <summary>
    /// badblocks_populate(badrange, bb, range): for every entry overlapping the inclusive physical range
    /// [<paramref name="rangeStart"/>, <paramref name="rangeEnd"/>], add the overlapping part to <paramref name="bb"/>
    /// relative to rangeStart (add-only: nothing is ever removed).
    /// </summary>
    public void Populate(Badblocks bb, ulong rangeStart, ulong rangeEnd)
    {
        var rangeLen = rangeEnd - rangeStart + 1;
        // By index over the entries there now (adding badblocks never changes this list): no snapshot array per call.
        for (int i = 0, n = _list.Count; i < n; i++)
        {
            var bre = _list[i];
            var breEnd = bre.Start + bre.Length - 1;
            if (breEnd < rangeStart) continue;
            if (bre.Start > rangeEnd) continue;
            if (bre.Start >= rangeStart)
            {
                var len = breEnd <= rangeEnd ? bre.Length : rangeStart + rangeLen - bre.Start;
                AddBadblockRange(bb, bre.Start - rangeStart, len);
                continue;
            }
            var l = breEnd < rangeEnd ? bre.Start + bre.Length - rangeStart : rangeLen;
            AddBadblockRange(bb, 0, l);
        }
    }

    /// <summary>
    /// __add_badblock_range(bb, ns_offset, len) (drivers/nvdimm/badrange.c): sectors ⌊off/512⌋ to ⌈(off+len)/512⌉,
    /// set acknowledged (set_badblock; a full table is only logged by the kernel).
    /// </summary>
    public static void AddBadblockRange(Badblocks bb, ulong nsOffset, ulong len)
    {
        var startSector = nsOffset / 512;
        var endSector = (nsOffset + len) / 512;
        if ((nsOffset + len) % 512 != 0) endSector++;
        var num = endSector - startSector;
        var s = (long)startSector;
        while (num > 0)
        {
            var done = Math.Min(num, (ulong)int.MaxValue);
            bb.Set(s, (long)done, acknowledged: true);
            num -= done;
            s += (long)done;
        }
    }
}
