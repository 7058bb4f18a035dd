using System.Globalization;

namespace KernelSim.Scenarios.Model;

/// <summary>
/// An address in a scenario: "buf+0x1234" (a mapping of the step's actor, or a kernel buffer, plus an
/// offset), "reader:buf+16" (another actor's mapping), "buf" or an absolute "0x7ffff7ffd000" (a user address
/// of the step's actor).
/// </summary>
/// <param name="Actor">The actor named before ':' (null: the step's actor).</param>
/// <param name="Name">The mapping or kernel buffer name; null for an absolute address.</param>
/// <param name="Offset">Added to the named buffer's start, or the absolute address.</param>
/// <param name="Text">The expression as written.</param>
internal sealed record AddrExpr(string? Actor, string? Name, long Offset, string Text)
{
    /// <summary>Parse an address expression; null with a reason when malformed.</summary>
    public static AddrExpr? TryParse(string text, out string reason)
    {
        reason = "";
        var t = text.Trim();
        string? actor = null;
        var colon = t.IndexOf(':');
        if (colon >= 0)
        {
            actor = t[..colon].Trim();
            t = t[(colon + 1)..].Trim();
            if (!IsName(actor))
            {
                reason = $"'{actor}' is not an actor name";
                return null;
            }
        }
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || (t.Length > 0 && char.IsAsciiDigit(t[0])))
        {
            if (!Yaml.YamlValues.TryParseUnsigned(t, out var abs))
            {
                reason = $"'{text}' is not an address (expected name+offset or 0x…)";
                return null;
            }
            return new AddrExpr(actor, null, unchecked((long)abs), text.Trim());
        }
        var plus = t.IndexOfAny(['+', '-']);
        var name = (plus < 0 ? t : t[..plus]).Trim();
        if (!IsName(name))
        {
            reason = $"'{text}' is not an address (expected name+offset, e.g. buf+0x200)";
            return null;
        }
        long off = 0;
        if (plus >= 0)
        {
            var num = t[(plus + 1)..].Trim();
            if (!Yaml.YamlValues.TryParseSize(num, out var u) || u > long.MaxValue)
            {
                reason = $"'{text}': bad offset '{num}'";
                return null;
            }
            off = t[plus] == '-' ? -(long)u : (long)u;
        }
        return new AddrExpr(actor, name, off, text.Trim());
    }

    /// <summary>Names: letters, digits, '_' and '-', starting with a letter.</summary>
    public static bool IsName(string s)
    {
        if (s.Length == 0 || !char.IsAsciiLetter(s[0])) return false;
        foreach (var c in s) if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-' && c != '.') return false;
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>"buf+0x1000" for a name and an offset (as the report prints a resolved address).</summary>
    public static string Format(string name, long offset) =>
        offset == 0 ? name : offset > 0 ? $"{name}+0x{offset.ToString("x", CultureInfo.InvariantCulture)}" : $"{name}-0x{(-offset).ToString("x", CultureInfo.InvariantCulture)}";
}
