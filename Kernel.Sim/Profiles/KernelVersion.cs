using System.Globalization;

namespace KernelSim.Profiles;

/// <summary>A mainline kernel release, major.minor (e.g. 6.12).</summary>
public readonly record struct KernelVersion(int Major, int Minor) : IComparable<KernelVersion>
{
    /// <summary>Parses "6.12", "5.10.0" or "v4.17"; returns false for anything else.</summary>
    public static bool TryParse(string? text, out KernelVersion version)
    {
        version = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        if (t.StartsWith('v') || t.StartsWith('V')) t = t[1..];
        var parts = t.Split('.');
        if (parts.Length < 2 || parts.Length > 3) return false;
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)) return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)) return false;
        if (parts.Length == 3 && !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out _)) return false;
        if (major < 3 || major > 9 || minor > 99) return false;
        version = new KernelVersion(major, minor);
        return true;
    }

    /// <summary>True when <paramref name="text"/> parses and names a stable point release ("6.12.3"), which parses as its release (6.12).</summary>
    public static bool IsPointRelease(string? text) => TryParse(text, out _) && text!.Trim().Split('.').Length == 3;

    /// <summary>Parses a version or throws <see cref="ArgumentException"/> with a readable message.</summary>
    public static KernelVersion Parse(string text) =>
        TryParse(text, out var v) ? v : throw new ArgumentException($"not a kernel version: '{text}' (expected e.g. 6.12)", nameof(text));

    public int CompareTo(KernelVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    public static bool operator <(KernelVersion a, KernelVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(KernelVersion a, KernelVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(KernelVersion a, KernelVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(KernelVersion a, KernelVersion b) => a.CompareTo(b) >= 0;

    /// <summary>True when this release is in [from, to] inclusive.</summary>
    public bool Between(KernelVersion from, KernelVersion to) => this >= from && this <= to;

    public static KernelVersion V(int major, int minor) => new(major, minor);

    /// <inheritdoc/>
    public override string ToString() => $"{Major}.{Minor}";
}
