using System.Numerics;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// An ida (lib/idr.c) of a region's namespace, pfn, dax or btt ids: ida_alloc gives the lowest free id, ida_free returns
/// one. A bitmap for ids 0..63 (a region has a handful), a set above that.
/// </summary>
internal sealed class NdIda
{
    private ulong _low;
    private SortedSet<int>? _high;

    /// <summary>ida_alloc: the lowest id not in use, now in use.</summary>
    public int Alloc()
    {
        if (_low != ulong.MaxValue)
        {
            var id = BitOperations.TrailingZeroCount(~_low);
            _low |= 1UL << id;
            return id;
        }
        _high ??= [];
        var h = 64;
        while (_high.Contains(h)) h++;
        _high.Add(h);
        return h;
    }

    /// <summary>ida_free: <paramref name="id"/> is free again (nothing happens if it was not in use).</summary>
    public void Free(int id)
    {
        if (id < 0) return;
        if (id < 64) _low &= ~(1UL << id);
        else _high?.Remove(id);
    }
}
