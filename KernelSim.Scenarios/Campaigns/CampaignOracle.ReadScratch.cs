using KernelSim.Mm;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>The oracle's per-thread scratch of a read: which bytes its segments cover, and their overlaps.</summary>
internal sealed partial class CampaignOracle
{
    /// <summary>
    /// The bytes a read's segments cover, by buffer offset, in the order first seen (what a Dictionary keyed by
    /// offset gave, without hashing every byte): arrays indexed by offset and stamped per read, one set per thread.
    /// With them, the region offsets of the later segments that overlap a byte in a call that stopped: a chain per
    /// byte in arrays reused from read to read (a list per byte was garbage per read).
    /// </summary>
    private sealed class ReadScratch
    {
        [ThreadStatic] private static ReadScratch? _thread;

        private int _stamp;
        private int[] _seen = [];
        private bool[] _claimed = [];
        private ulong[] _dev = [];
        private ulong[] _order = [];

        // Overlaps: _ovHead[off] is 1 + the newest entry of off's chain (0: none); entry e holds its key, region
        // offset and the next (older) entry or -1. Begin clears the heads the previous read set.
        private int[] _ovHead = [];
        private ulong[] _ovKey = [];
        private ulong[] _ovDev = [];
        private int[] _ovNext = [];
        private int _ovCount;

        public int Count { get; private set; }

        public static ReadScratch Begin(IReadOnlyList<(ulong Off, ulong Len)> segs)
        {
            var s = _thread ??= new ReadScratch();
            for (var e = 0; e < s._ovCount; e++) s._ovHead[s._ovKey[e]] = 0;
            s._ovCount = 0;
            ulong end = 0, total = 0;
            for (var i = 0; i < segs.Count; i++)
            {
                var (off, len) = segs[i];
                end = Math.Max(end, off + len);
                total += len;
            }
            if (end > int.MaxValue / 2) throw new ArgumentOutOfRangeException(nameof(segs), "read segments outside the buffer model");
            if ((ulong)s._seen.Length < end)
            {
                var size = (int)Math.Max(end, CampaignPlan.BufSize);
                s._seen = new int[size];
                s._claimed = new bool[size];
                s._dev = new ulong[size];
                s._ovHead = new int[size];
                s._stamp = 0;
            }
            if ((ulong)s._order.Length < total) s._order = new ulong[Math.Max(total, CampaignPlan.BufSize)];
            if (++s._stamp == int.MaxValue)
            {
                Array.Clear(s._seen);
                s._stamp = 1;
            }
            s.Count = 0;
            return s;
        }

        public bool Contains(ulong off) => off < (ulong)_seen.Length && _seen[off] == _stamp;

        /// <summary>expected[off] = (claimed, dev): keeps the first-seen position.</summary>
        public void Set(ulong off, bool claimed, ulong dev)
        {
            if (_seen[off] != _stamp)
            {
                _seen[off] = _stamp;
                _order[Count++] = off;
            }
            _claimed[off] = claimed;
            _dev[off] = dev;
        }

        /// <summary>expected.TryAdd(off, (claimed, dev)).</summary>
        public bool TryAdd(ulong off, bool claimed, ulong dev)
        {
            if (_seen[off] == _stamp) return false;
            Set(off, claimed, dev);
            return true;
        }

        public ulong KeyAt(int index) => _order[index];

        /// <summary>Region offset <paramref name="dev"/> of a later segment also covers buffer offset <paramref name="off"/>.</summary>
        public void AddOverlap(ulong off, ulong dev)
        {
            if (_ovCount == _ovKey.Length)
            {
                var size = Math.Max(64, 2 * _ovCount);
                Array.Resize(ref _ovKey, size);
                Array.Resize(ref _ovDev, size);
                Array.Resize(ref _ovNext, size);
            }
            var e = _ovCount++;
            _ovKey[e] = off;
            _ovDev[e] = dev;
            _ovNext[e] = _ovHead[off] - 1;
            _ovHead[off] = e + 1;
        }

        /// <summary>The newest overlap entry of <paramref name="off"/>, or −1.</summary>
        public int FirstOverlap(ulong off) => off < (ulong)_ovHead.Length ? _ovHead[off] - 1 : -1;

        /// <summary>The next (older) overlap entry of the same offset, or −1.</summary>
        public int NextOverlap(int entry) => _ovNext[entry];

        public ulong OverlapDev(int entry) => _ovDev[entry];

        public (bool Claimed, ulong DevOff) Get(ulong off) => (_claimed[off], _dev[off]);
    }
}
