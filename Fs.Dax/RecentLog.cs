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
    /// <summary>Count has reached the capacity: from now on every Add overwrites the oldest entry.</summary>
    private bool _full;

    /// <summary>How many entries the log holds (at most the capacity).</summary>
    public int Count { get; private set; }

    /// <summary>Entry <paramref name="index"/>, 0 being the oldest kept.</summary>
    public T this[int index] => (uint)index < (uint)Count
        ? _items[(_start + index) % _items.Length]
        : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Append an entry, dropping the oldest when full.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Add(T item)
    {
        if (!_full)
        {
            AddGrowing(item);
            return;
        }
        // Full ring (the steady state of a busy log): overwrite the oldest, no division per call.
        _items[_start] = item;
        if (++_start == _items.Length) _start = 0;
    }

    /// <summary>
    /// <see cref="Add"/> of an entry the caller then fills in place through the returned reference (before anything
    /// reads the log): a large entry is written once, into the array, instead of built on the stack and copied.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal ref T AddSlot()
    {
        if (!_full)
        {
            AddGrowing(default(T)!);
            return ref _items[(_start + Count - 1) % _items.Length];
        }
        ref T slot = ref _items[_start];
        if (++_start == _items.Length) _start = 0;
        return ref slot;
    }

    /// <summary>Until the log is full: grow the array as needed and append after the last entry.</summary>
    private void AddGrowing(T item)
    {
        if (Count == _items.Length && Count < capacity) Grow();
        if (Count < _items.Length)
        {
            var at = _start + Count++;
            _items[at < _items.Length ? at : at - _items.Length] = item;
            _full = Count == capacity;
            return;
        }
        _items[_start] = item;
        if (++_start == _items.Length) _start = 0;
    }

    // Only while not yet full, so _start is still 0 and the entries are in order.
    private void Grow() => Array.Resize(ref _items, Math.Min(capacity, Math.Max(4, 2 * _items.Length)));

    /// <summary>Forget every entry.</summary>
    public void Clear()
    {
        Array.Clear(_items);
        _start = 0;
        Count = 0;
        _full = false;
    }

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
