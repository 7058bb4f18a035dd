using System.Collections;

namespace KernelSim.Fs.Dax;

/// <summary>
/// The last <c>capacity</c> entries added, oldest first: a ring buffer, so adding to a full log drops the oldest
/// entry without moving the others (a per-call cost the I/O path must not pay). The array grows by doubling up to the
/// capacity, so a log that sees a few entries (one mount's first writes) does not allocate room for all of them.
/// </summary>
public sealed class RecentLog<T>(int capacity) : IReadOnlyList<T>
{
    private T[] _items = [];
    private int _start;

    /// <summary>How many entries the log holds (at most the capacity).</summary>
    public int Count { get; private set; }

    /// <summary>Entry <paramref name="index"/>, 0 being the oldest kept.</summary>
    public T this[int index] => (uint)index < (uint)Count
        ? _items[(_start + index) % _items.Length]
        : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Append an entry, dropping the oldest when full.</summary>
    public void Add(T item)
    {
        if (Count == _items.Length && Count < capacity) Grow();
        if (Count < _items.Length)
        {
            var at = _start + Count++;
            _items[at < _items.Length ? at : at - _items.Length] = item;
            return;
        }
        _items[_start] = item;
        if (++_start == _items.Length) _start = 0; // no division per call
    }

    // Only while not yet full, so _start is still 0 and the entries are in order.
    private void Grow() => Array.Resize(ref _items, Math.Min(capacity, Math.Max(4, 2 * _items.Length)));

    /// <summary>Forget every entry.</summary>
    public void Clear()
    {
        Array.Clear(_items);
        _start = 0;
        Count = 0;
    }

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
