using System.Text;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>
/// The strings the simulated ndctl builds over and over: sysfs paths (libndctl sprintf's "%s/%s" into a buffer per
/// object, allocating nothing), device names and short attribute values. Each is taken by content from one small
/// table per thread, so a text seen before (every seed of a campaign has the same device names and paths) comes back
/// as the same string object instead of a new one. Strings are immutable, so which object is returned changes
/// nothing but the garbage; the table is bounded (a slot holds the last string that hashed to it).
/// </summary>
internal static class NdStrings
{
    private const int Slots = 2048;
    private const int MaxCached = 160;

    [ThreadStatic] private static string?[]? _table;

    /// <summary>A string equal to <paramref name="s"/>.</summary>
    public static string Get(ReadOnlySpan<char> s)
    {
        if (s.Length == 0) return "";
        if (s.Length > MaxCached) return new string(s);
        var table = _table ??= new string?[Slots];
        uint h = 2166136261;
        foreach (var c in s) h = (h ^ c) * 16777619;
        // Two ways per set: the newest string in the first, the one it displaced in the second.
        var set = (int)(h & (Slots / 2 - 1)) * 2;
        if (table[set] is { } a && s.SequenceEqual(a)) return a;
        if (table[set + 1] is { } b && s.SequenceEqual(b)) return b;
        var str = new string(s);
        table[set + 1] = table[set];
        table[set] = str;
        return str;
    }

    /// <summary>A string of the Latin-1 text <paramref name="bytes"/> (Encoding.Latin1.GetString's text).</summary>
    public static string Latin1(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxCached) return Encoding.Latin1.GetString(bytes);
        Span<char> chars = stackalloc char[bytes.Length];
        Encoding.Latin1.GetChars(bytes, chars);
        return Get(chars);
    }

    /// <summary>"<paramref name="dir"/>/<paramref name="leaf"/>".</summary>
    public static string Path(string dir, string leaf)
    {
        var len = dir.Length + 1 + leaf.Length;
        if (len > MaxCached) return string.Concat(dir, "/", leaf);
        Span<char> buf = stackalloc char[len];
        dir.CopyTo(buf);
        buf[dir.Length] = '/';
        leaf.CopyTo(buf[(dir.Length + 1)..]);
        return Get(buf);
    }

    /// <summary>"<paramref name="head"/><paramref name="n"/><paramref name="tail"/>" (n in decimal): "namespace0.", "/dev/ndctl0".</summary>
    public static string Numbered(string head, long n, string tail)
    {
        Span<char> buf = stackalloc char[MaxCached];
        if (head.Length + 20 + tail.Length > MaxCached) return string.Concat(head, n.ToString(System.Globalization.CultureInfo.InvariantCulture), tail);
        head.CopyTo(buf);
        n.TryFormat(buf[head.Length..], out var w, default, System.Globalization.CultureInfo.InvariantCulture);
        var len = head.Length + w;
        tail.CopyTo(buf[len..]);
        return Get(buf[..(len + tail.Length)]);
    }
}
