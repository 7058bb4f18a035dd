using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using KernelSim.Uapi;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Yaml;

/// <summary>Scalar conversions for scenario files: numbers (decimal, 0x hex, K/M/G sizes), booleans, errno and signal names.</summary>
internal static class YamlValues
{
    public static string Scalar(string file, YamlNode node, string what) =>
        node is YamlScalarNode { Value: { } v } ? v : throw new ScenarioException(file, node.Start, $"{what}: expected a single value");

    public static IReadOnlyList<YamlNode> List(YamlNode node) => node is YamlSequenceNode s ? s.Children.ToList() : [node];

    /// <summary>Parse "4096", "0x1000", "8K", "4KiB", "256M", "1G".</summary>
    public static bool TryParseSize(string text, out ulong value)
    {
        value = 0;
        var t = text.Trim().Replace("_", "", StringComparison.Ordinal);
        ulong mul = 1;
        foreach (var (suffix, m) in new[] { ("KiB", 1UL << 10), ("MiB", 1UL << 20), ("GiB", 1UL << 30), ("K", 1UL << 10), ("M", 1UL << 20), ("G", 1UL << 30) })
        {
            if (!t.EndsWith(suffix, StringComparison.Ordinal) || t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) continue;
            mul = m;
            t = t[..^suffix.Length];
            break;
        }
        if (!TryParseUnsigned(t, out var v)) return false;
        if (v != 0 && mul > ulong.MaxValue / v) return false;
        value = v * mul;
        return true;
    }

    public static bool TryParseUnsigned(string t, out ulong value)
    {
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        return ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A signed number: "-14", "0x10", "-0x10".</summary>
    public static bool TryParseLong(string text, out long value)
    {
        value = 0;
        var t = text.Trim();
        var neg = t.StartsWith('-');
        if (neg || t.StartsWith('+')) t = t[1..];
        if (!TryParseUnsigned(t, out var u) || u > long.MaxValue) return false;
        value = neg ? -(long)u : (long)u;
        return true;
    }

    public static ulong Size(string file, YamlNode node, string what)
    {
        var s = Scalar(file, node, what);
        return TryParseSize(s, out var v) ? v : throw new ScenarioException(file, node.Start, $"{what}: '{s}' is not a size (e.g. 4096, 0x1000, 8K, 256M)");
    }

    public static long Long(string file, YamlNode node, string what)
    {
        var s = Scalar(file, node, what);
        return TryParseLong(s, out var v) ? v : throw new ScenarioException(file, node.Start, $"{what}: '{s}' is not a number");
    }

    /// <summary>The words <see cref="Bool"/> reads as true and as false.</summary>
    public static readonly string[] TrueWords = ["true", "yes", "on"], FalseWords = ["false", "no", "off"];

    public static bool Bool(string file, YamlNode node, string what)
    {
        var s = Scalar(file, node, what);
        if (TrueWords.Contains(s)) return true;
        if (FalseWords.Contains(s)) return false;
        throw new ScenarioException(file, node.Start, $"{what}: '{s}' is not a boolean (true/false, on/off)");
    }

    /// <summary>"EFAULT" (or "-EFAULT") → 14.</summary>
    public static bool TryErrno(string name, out int errno)
    {
        errno = 0;
        var n = name.TrimStart('-');
        var f = typeof(Errno).GetField(n);
        if (f is not { IsLiteral: true } || f.FieldType != typeof(int) || !n.StartsWith('E')) return false;
        errno = (int)f.GetRawConstantValue()!;
        return true;
    }

    /// <summary>"SIGBUS" → 7.</summary>
    public static bool TrySignal(string name, out int signo)
    {
        signo = name switch { "SIGBUS" => Sig.SIGBUS, "SIGSEGV" => Sig.SIGSEGV, "SIGKILL" => Sig.SIGKILL, _ => 0 };
        return signo != 0;
    }

    /// <summary>"BUS_MCEERR_AR" → 4 (for the given signal).</summary>
    public static bool TrySiCode(int signo, string name, out int code)
    {
        foreach (var c in new[] { Sig.SI_KERNEL, Sig.SEGV_MAPERR, Sig.SEGV_ACCERR, Sig.BUS_ADRERR, Sig.BUS_MCEERR_AR, Sig.BUS_MCEERR_AO })
        {
            if (Sig.CodeName(signo, c) != name) continue;
            code = c;
            return true;
        }
        if (TryParseLong(name, out var l) && l is >= int.MinValue and <= int.MaxValue)
        {
            code = (int)l;
            return true;
        }
        code = 0;
        return false;
    }

    /// <summary>A constant of a uapi class by name ("MADV_HWPOISON", "PR_MCE_KILL_EARLY") or a number.</summary>
    public static bool TryConstant([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] Type uapi, string text, out long value)
    {
        if (TryParseLong(text, out value)) return true;
        var f = uapi.GetField(text);
        if (f is not { IsLiteral: true }) return false;
        var raw = f.GetRawConstantValue();
        switch (raw)
        {
            case int i: value = i; return true;
            case uint u: value = u; return true;
            case ulong ul when ul <= long.MaxValue: value = (long)ul; return true;
            default: return false;
        }
    }
}
