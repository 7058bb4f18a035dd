using System.Numerics;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The oracle's view of a byte range: for each byte, the one value it must hold, one of two values (the kernel
/// may or may not have stored there: bytes past a failed or short write), or "unknown" (not checked).
/// </summary>
internal sealed class ByteModel
{
    private const byte Unknown = 0, Known = 1, Either = 2;

    private readonly byte[] _data;
    private readonly byte[] _alt;
    private readonly byte[] _state;

    // The pattern the model was last rented for and the range of bytes changed since ([_lo, _hi), empty when
    // _lo >= _hi): renting it again resets only that range (see Rent).
    private ulong _seed, _salt;
    private bool _rented;
    private int _lo = int.MaxValue, _hi;

    /// <summary>Bytes [at, at+n) of the data or the state may change.</summary>
    private void Touch(int at, int n)
    {
        if (n <= 0) return;
        if (at < _lo) _lo = at;
        if (at + n > _hi) _hi = at + n;
    }

    /// <summary>Every byte known to hold <paramref name="initial"/>'s; <paramref name="owned"/>: keep that array instead of a copy.</summary>
    public ByteModel(byte[] initial, bool owned = false)
    {
        _data = owned ? initial : (byte[])initial.Clone();
        _alt = new byte[initial.Length];
        _state = new byte[initial.Length];
        Array.Fill(_state, Known);
    }

    public int Size => _data.Length;

    /// <summary>A copy of the model (tests compare two ways of updating it).</summary>
    internal ByteModel Clone()
    {
        var c = new ByteModel(_data);
        _alt.CopyTo(c._alt);
        _state.CopyTo(c._state);
        c.Touch(0, c._state.Length);
        return c;
    }

    /// <summary>Whether <paramref name="other"/> says the same of every byte (values that are not checked are ignored).</summary>
    internal bool SameAs(ByteModel other)
    {
        if (other.Size != Size) return false;
        for (var i = 0; i < _data.Length; i++)
        {
            if (_state[i] != other._state[i]) return false;
            if (_state[i] != Unknown && _data[i] != other._data[i]) return false;
            if (_state[i] == Either && _alt[i] != other._alt[i]) return false;
        }
        return true;
    }

    [ThreadStatic] private static List<ByteModel>? _pool;

    /// <summary>
    /// A model of the seed's pattern (<see cref="Pattern"/>), taken from this thread's pool of released models when one
    /// of that size is there (a seed run allocates no model arrays after the first). A released model of the same
    /// pattern (the seed's other profile) is preferred: only the bytes its run changed are reset.
    /// </summary>
    public static ByteModel Rent(ulong seed, ulong salt, int len)
    {
        var pool = _pool ??= new List<ByteModel>(4);
        var initial = PatternOf(seed, salt, len);
        var at = -1;
        for (var i = pool.Count - 1; i >= 0; i--)
        {
            if (pool[i]._data.Length != len) continue;
            if (at < 0) at = i;
            if (pool[i].Holds(seed, salt))
            {
                at = i;
                break;
            }
        }
        if (at < 0) return new ByteModel(initial.ToArray(), owned: true) { _rented = true, _seed = seed, _salt = salt };
        var m = pool[at];
        pool.RemoveAt(at);
        if (m._lo < m._hi)
        {
            // Every byte outside [_lo, _hi) still holds the pattern it was rented with and is known.
            m._state.AsSpan(m._lo, m._hi - m._lo).Fill(Known);
            if (m.Holds(seed, salt)) initial[m._lo..m._hi].CopyTo(m._data.AsSpan(m._lo));
        }
        if (!m.Holds(seed, salt)) initial.CopyTo(m._data);
        m._rented = true;
        m._seed = seed;
        m._salt = salt;
        m._lo = int.MaxValue;
        m._hi = 0;
        return m;
    }

    /// <summary>Give a rented model back to this thread's pool; the caller must not use it again.</summary>
    public void Release()
    {
        var pool = _pool ??= new List<ByteModel>(4);
        if (pool.Count < 4) pool.Add(this);
    }

    /// <summary>Whether the model was rented for (<paramref name="seed"/>, <paramref name="salt"/>)'s pattern (outside the changed range).</summary>
    private bool Holds(ulong seed, ulong salt) => _rented && _seed == seed && _salt == salt;

    /// <summary>The byte's single known value (false when unknown or one of two).</summary>
    public bool TryGet(ulong i, out byte b)
    {
        b = 0;
        if (i >= (ulong)_data.Length || _state[i] != Known) return false;
        b = _data[i];
        return true;
    }

    /// <summary>Whether the byte is checked at all (one value or one of two).</summary>
    public bool IsChecked(ulong i) => i < (ulong)_data.Length && _state[i] != Unknown;

    /// <summary>Whether <paramref name="got"/> is a value the byte may hold (always true when unknown or outside).</summary>
    public bool Allows(ulong i, byte got)
    {
        if (i >= (ulong)_data.Length) return true;
        return _state[i] switch
        {
            Known => got == _data[i],
            Either => got == _data[i] || got == _alt[i],
            _ => true,
        };
    }

    /// <summary>What the byte must hold, for a report: "0x12" or "0x12 or 0x34".</summary>
    public string Expected(ulong i) => _state[i] switch
    {
        Known => $"0x{_data[i]:x2}",
        Either => $"0x{_data[i]:x2} or 0x{_alt[i]:x2}",
        _ => "anything",
    };

    public void Set(ulong i, byte b)
    {
        if (i >= (ulong)_data.Length) return;
        Touch((int)i, 1);
        _data[i] = b;
        _state[i] = Known;
    }

    /// <summary>The byte now holds what <paramref name="from"/> byte <paramref name="j"/> holds (one value, two, or unknown).</summary>
    public void CopyFrom(ulong i, ByteModel from, ulong j)
    {
        if (i >= (ulong)_data.Length) return;
        Touch((int)i, 1);
        if (j >= (ulong)from._data.Length)
        {
            _state[i] = Unknown;
            return;
        }
        _data[i] = from._data[j];
        _alt[i] = from._alt[j];
        _state[i] = from._state[j];
    }

    /// <summary>
    /// The kernel may or may not have stored <paramref name="b"/> here: the byte holds its old value or
    /// <paramref name="b"/> (unknown when it already had two other candidates).
    /// </summary>
    public void Maybe(ulong i, byte b)
    {
        if (i >= (ulong)_data.Length) return;
        Touch((int)i, 1);
        MaybeAt((int)i, b);
    }

    private void MaybeAt(int i, byte b)
    {
        switch (_state[i])
        {
            case Known when _data[i] != b:
                _alt[i] = b;
                _state[i] = Either;
                break;
            case Either when _data[i] != b && _alt[i] != b:
                _state[i] = Unknown;
                break;
        }
    }

    /// <summary>A byte seen to hold <paramref name="got"/> (an allowed value): from now on it holds that one.</summary>
    public void Observe(ulong i, byte got)
    {
        if (i < (ulong)_data.Length && _state[i] != Unknown) Set(i, got);
    }

    public void Forget(ulong i)
    {
        if (i >= (ulong)_data.Length) return;
        Touch((int)i, 1);
        _state[i] = Unknown;
    }

    public void Forget(ulong from, ulong len)
    {
        if (Clamp(from, len) is not (var n and > 0)) return;
        Touch((int)from, n);
        _state.AsSpan((int)from, n).Fill(Unknown);
    }

    /// <summary>How many of the <paramref name="len"/> bytes from <paramref name="at"/> lie inside the model.</summary>
    private int Clamp(ulong at, ulong len) => at >= (ulong)_data.Length ? 0 : (int)Math.Min(len, (ulong)_data.Length - at);

    /// <summary><see cref="Set"/> for each byte of <paramref name="got"/>, from <paramref name="at"/>.</summary>
    public void SetRange(ulong at, ReadOnlySpan<byte> got)
    {
        var n = Clamp(at, (ulong)got.Length);
        if (n == 0) return;
        Touch((int)at, n);
        got[..n].CopyTo(_data.AsSpan((int)at));
        _state.AsSpan((int)at, n).Fill(Known);
    }

    /// <summary><see cref="Set"/> of <paramref name="b"/> for <paramref name="len"/> bytes from <paramref name="at"/>.</summary>
    public void Fill(ulong at, ulong len, byte b)
    {
        var n = Clamp(at, len);
        if (n == 0) return;
        Touch((int)at, n);
        _data.AsSpan((int)at, n).Fill(b);
        _state.AsSpan((int)at, n).Fill(Known);
    }

    /// <summary><see cref="Maybe"/> of <paramref name="b"/> for <paramref name="len"/> bytes from <paramref name="at"/>.</summary>
    public void MaybeFill(ulong at, ulong len, byte b)
    {
        var n = Clamp(at, len);
        if (n > 0) Touch((int)at, n);
        for (var i = (int)at; i < (int)at + n; i++) MaybeAt(i, b);
    }

    /// <summary><see cref="CopyFrom"/> for <paramref name="len"/> bytes: this model's bytes from <paramref name="at"/> take <paramref name="from"/>'s from <paramref name="j"/>.</summary>
    public void CopyRange(ulong at, ByteModel from, ulong j, ulong len)
    {
        var n = Clamp(at, len);
        if (n == 0) return;
        Touch((int)at, n);
        // Source bytes past the source model are unknown.
        var m = Math.Min(n, from.Clamp(j, (ulong)n));
        if (m > 0)
        {
            from._data.AsSpan((int)j, m).CopyTo(_data.AsSpan((int)at));
            from._alt.AsSpan((int)j, m).CopyTo(_alt.AsSpan((int)at));
            from._state.AsSpan((int)j, m).CopyTo(_state.AsSpan((int)at));
        }
        if (m < n) _state.AsSpan((int)at + m, n - m).Fill(Unknown);
    }

    /// <summary>
    /// For <paramref name="len"/> bytes from <paramref name="at"/>: the kernel may or may not have stored <paramref name="from"/>'s
    /// byte from <paramref name="j"/> there (<see cref="Maybe"/> when that byte is known, else the byte becomes unknown).
    /// </summary>
    public void MaybeCopyRange(ulong at, ByteModel from, ulong j, ulong len)
    {
        var n = Clamp(at, len);
        if (n > 0) Touch((int)at, n);
        var k = 0;
        // Where both models know every byte of a vector's width (the common case), MaybeAt is: a byte equal to the
        // source stays known, any other becomes one of two with the source byte as its second value. The alternative
        // of a known byte is never read, so the whole width takes the source bytes as alternatives.
        if (Vector.IsHardwareAccelerated && ReferenceEquals(from, this) is false && j < (ulong)from._data.Length)
        {
            var w = Vector<byte>.Count;
            var m = Math.Min(n, (int)((ulong)from._data.Length - j));
            var known = new Vector<byte>(Known);
            var either = new Vector<byte>(Either);
            for (; k + w <= m; k += w)
            {
                int d = (int)at + k, src = (int)j + k;
                var dstState = new Vector<byte>(_state, d);
                if (dstState != known || new Vector<byte>(from._state, src) != known)
                {
                    MaybeCopyBytes(d, from, src, w);
                    continue;
                }
                var srcData = new Vector<byte>(from._data, src);
                srcData.CopyTo(_alt, d);
                Vector.ConditionalSelect(Vector.Equals(new Vector<byte>(_data, d), srcData), known, either).CopyTo(_state, d);
            }
        }
        for (; k < n; k++)
        {
            var src = j + (ulong)k;
            if (src < (ulong)from._data.Length && from._state[src] == Known) MaybeAt((int)at + k, from._data[src]);
            else _state[(int)at + k] = Unknown;
        }
    }

    /// <summary><see cref="MaybeCopyRange"/>'s byte-by-byte rule for <paramref name="n"/> bytes that lie inside both models.</summary>
    private void MaybeCopyBytes(int at, ByteModel from, int src, int n)
    {
        for (var k = 0; k < n; k++)
        {
            if (from._state[src + k] == Known) MaybeAt(at + k, from._data[src + k]);
            else _state[at + k] = Unknown;
        }
    }

    /// <summary>
    /// <see cref="Observe"/> each byte of <paramref name="got"/> from <paramref name="at"/> up to the first one the model does
    /// not allow: that byte's index in <paramref name="got"/> (it is left as it was), or −1 when every byte was allowed.
    /// Runs equal to the model's first value, and runs of unknown bytes, are taken with vectorised searches.
    /// </summary>
    public int ObserveUntilDisallowed(ulong at, ReadOnlySpan<byte> got)
    {
        var n = Clamp(at, (ulong)got.Length);
        var a = (int)Math.Min(at, (ulong)_data.Length);
        Touch(a, n);
        var data = _data.AsSpan(a, n);
        var state = _state.AsSpan(a, n);
        for (var i = 0; i < n; i++)
        {
            var eq = got[i..n].CommonPrefixLength(data[i..]);
            if (eq > 0)
            {
                // Equal to the first value: one of two becomes that one; known and unknown stay.
                state.Slice(i, eq).Replace(Either, Known);
                i += eq;
                if (i >= n) break;
            }
            switch (state[i])
            {
                case Known:
                    return i;
                case Either when got[i] != _alt[a + i]:
                    return i;
                case Either:
                {
                    // A run equal to the second values: up to the first known byte (which must hold its one value),
                    // each one of two becomes that one; unknown bytes stay.
                    var run = got[i..n].CommonPrefixLength(_alt.AsSpan(a + i, n - i));
                    var known = state.Slice(i, run).IndexOf(Known);
                    var m = known < 0 ? run : known;
                    for (var k = i; k < i + m; k++)
                    {
                        if (state[k] != Either) continue;
                        data[k] = got[k];
                        state[k] = Known;
                    }
                    i += m - 1;
                    break;
                }
                default:
                    // Unknown bytes allow anything and stay unknown: skip the run of them.
                    var next = state[i..].IndexOfAnyExcept(Unknown);
                    if (next < 0) return -1;
                    i += next - 1;
                    break;
            }
        }
        return -1;
    }

    /// <summary>
    /// Deterministic content for a seed: xoshiro256** output words, little endian. Each profile of a seed and each
    /// workload step asks for the same few patterns, so the last ones drawn on this thread are kept and copied.
    /// </summary>
    public static byte[] Pattern(ulong seed, ulong salt, int len) => PatternOf(seed, salt, len).ToArray();

    /// <summary>The pattern from this thread's cache (read only; valid until the thread draws other patterns).</summary>
    internal static ReadOnlySpan<byte> PatternOf(ulong seed, ulong salt, int len)
    {
        var cache = _patterns ??= new (ulong, ulong, byte[])[4];
        foreach (var (s, t, p) in cache)
            if (p != null && s == seed && t == salt && p.Length == len) return p;
        // The evicted entry's array is reused when it fits: a seed draws two new 64 KiB patterns, which would
        // otherwise be 128 KB of garbage per seed.
        var b = Slot(cache, seed, salt, len);
        new KernelSim.Lib.SimRandom(seed ^ salt).NextBytes(b);
        return b;
    }

    /// <summary>
    /// Draw two equal-length patterns of a seed into this thread's cache at once (<see cref="KernelSim.Lib.SimRandom.NextBytes(KernelSim.Lib.SimRandom, Span{byte}, KernelSim.Lib.SimRandom, Span{byte})"/>),
    /// unless either is there already; <see cref="PatternOf"/> then finds them. The same bytes as drawing each alone.
    /// </summary>
    internal static void Prefetch(ulong seed, ulong saltA, ulong saltB, int len)
    {
        var cache = _patterns ??= new (ulong, ulong, byte[])[4];
        foreach (var (s, t, p) in cache)
            if (p != null && s == seed && (t == saltA || t == saltB) && p.Length == len) return;
        var a = Slot(cache, seed, saltA, len);
        var b = Slot(cache, seed, saltB, len);
        KernelSim.Lib.SimRandom.NextBytes(new KernelSim.Lib.SimRandom(seed ^ saltA), a, new KernelSim.Lib.SimRandom(seed ^ saltB), b);
    }

    /// <summary>The next cache entry, now for (seed, salt), with its array (the evicted one's when it fits).</summary>
    private static byte[] Slot((ulong Seed, ulong Salt, byte[] Bytes)[] cache, ulong seed, ulong salt, int len)
    {
        var old = cache[_nextPattern].Bytes;
        var b = old != null && old.Length == len ? old : new byte[len];
        cache[_nextPattern] = (seed, salt, b);
        _nextPattern = (_nextPattern + 1) % cache.Length;
        return b;
    }

    [ThreadStatic] private static (ulong Seed, ulong Salt, byte[] Bytes)[]? _patterns;
    [ThreadStatic] private static int _nextPattern;

    /// <summary>
    /// The first offset from <paramref name="start"/> where <paramref name="got"/> holds a value the model does not
    /// allow, or −1. Runs equal to the model's first value, and runs of unknown bytes, are skipped with vectorised searches.
    /// </summary>
    public int FirstDisallowed(ReadOnlySpan<byte> got, int start = 0) => FirstDisallowed(got, start, got.Length);

    /// <summary><see cref="FirstDisallowed(ReadOnlySpan{byte}, int)"/> before offset <paramref name="end"/>.</summary>
    public int FirstDisallowed(ReadOnlySpan<byte> got, int start, int end)
    {
        var n = Math.Min(Math.Min(end, got.Length), _data.Length);
        for (var i = start; i < n; i++)
        {
            i += got[i..n].CommonPrefixLength(_data.AsSpan(i, n - i));
            if (i >= n) break;
            if (_state[i] == Known || (_state[i] == Either && got[i] != _alt[i])) return i;
            if (_state[i] == Either)
            {
                // A run equal to the second values (a write that may or may not have stored, and did): its bytes are
                // allowed up to the first known one, which must hold its one value (checked from there on).
                var run = got[i..n].CommonPrefixLength(_alt.AsSpan(i, n - i));
                var known = _state.AsSpan(i, run).IndexOf(Known);
                i += (known < 0 ? run : known) - 1;
                continue;
            }
            // Unknown bytes allow anything: skip the run of them.
            var next = _state.AsSpan(i, n - i).IndexOfAnyExcept(Unknown);
            if (next < 0) break;
            i += next - 1;
        }
        return -1;
    }
}
