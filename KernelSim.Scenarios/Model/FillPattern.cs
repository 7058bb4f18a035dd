using System.Globalization;
using System.Text.RegularExpressions;

namespace KernelSim.Scenarios.Model;

/// <summary>
/// The bytes a scenario stores into a buffer: "none" (leave it alone: anonymous memory stays unfaulted), a
/// byte ("0xff"), "index" (i &amp; 0xff), "i*7+3" ((i*7+3) &amp; 0xff) or "i^0x33" (i xor 0x33), where i is the
/// offset from the buffer's start.
/// </summary>
public sealed partial record FillPattern(string Text, FillKind Kind, ulong A, ulong B)
{
    public static FillPattern None { get; } = new("none", FillKind.None, 0, 0);

    public static FillPattern? TryParse(string text)
    {
        var t = text.Trim().Replace(" ", "", StringComparison.Ordinal);
        if (t is "none" or "") return None;
        if (t == "index") return new FillPattern(t, FillKind.Linear, 1, 0);
        if (t == "zero") return new FillPattern(t, FillKind.Byte, 0, 0);
        if (Yaml.YamlValues.TryParseUnsigned(t, out var b)) return b <= 0xff ? new FillPattern(t, FillKind.Byte, b, 0) : null;
        var m = Linear().Match(t);
        if (m.Success)
        {
            var mul = m.Groups[1].Success ? ulong.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
            var add = 0UL;
            if (m.Groups[2].Success && !Yaml.YamlValues.TryParseUnsigned(m.Groups[2].Value, out add)) return null;
            return new FillPattern(t, FillKind.Linear, mul, add);
        }
        m = Xor().Match(t);
        if (m.Success && Yaml.YamlValues.TryParseUnsigned(m.Groups[1].Value, out var x)) return new FillPattern(t, FillKind.Xor, x, 0);
        return null;
    }

    /// <summary>The byte at offset i.</summary>
    public byte At(ulong i) => Kind switch
    {
        FillKind.Byte => (byte)A,
        FillKind.Linear => (byte)(i * A + B),
        FillKind.Xor => (byte)(i ^ A),
        _ => 0,
    };

    /// <summary>len bytes starting at offset from.</summary>
    public byte[] Bytes(ulong from, int len)
    {
        var b = new byte[len];
        for (var k = 0; k < len; k++) b[k] = At(from + (ulong)k);
        return b;
    }

    /// <inheritdoc/>
    public override string ToString() => Text;

    [GeneratedRegex(@"^i(?:\*(\d+))?(?:\+(0x[0-9a-fA-F]+|\d+))?$")]
    private static partial Regex Linear();

    [GeneratedRegex(@"^i\^(0x[0-9a-fA-F]+|\d+)$")]
    private static partial Regex Xor();
}

/// <summary>Kinds of <see cref="FillPattern"/>.</summary>
public enum FillKind
{
    None,
    Byte,
    Linear,
    Xor,
}
