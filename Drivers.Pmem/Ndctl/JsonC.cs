using System.Globalization;
using System.Text;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>
/// The json-c values ndctl builds (json_object_new_string/int/int64/uint64/double/boolean, objects and arrays) and
/// json-c's JSON_C_TO_STRING_PRETTY serialiser (json_object_to_json_string_ext): two spaces per level,
/// <c>"key":value</c> without a space, "/" escaped as "\/", doubles as %.17g with ".0" added when integral, and the
/// custom serialisers ndctl installs for -u (util/json.c display_size, display_hex).
/// </summary>
internal abstract class JsonC
{
    /// <summary>json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY).</summary>
    public string ToPretty()
    {
        var sb = new StringBuilder();
        Write(sb, 0);
        return sb.ToString();
    }

    /// <summary><see cref="ToPretty"/> appended to <paramref name="sb"/> (the program's stdout) without a string of its own.</summary>
    public void WritePretty(StringBuilder sb) => Write(sb, 0);

    internal abstract void Write(StringBuilder sb, int level);

    protected static void Indent(StringBuilder sb, int level) => sb.Append(' ', level * 2);

    /// <summary>json_escape_str without JSON_C_TO_STRING_NOSLASHESCAPE.</summary>
    internal static void Escape(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '/': sb.Append("\\/"); break;
                case '\b': sb.Append("\\b"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}

/// <summary>json_object_new_object: keys in insertion order; adding an existing key replaces its value in place.</summary>
internal sealed class JObject : JsonC
{
    private readonly List<KeyValuePair<string, JsonC>> _items = [];

    /// <summary>json_object_object_add.</summary>
    public JObject Add(string key, JsonC value)
    {
        var i = IndexOf(key);
        if (i >= 0) _items[i] = new(key, value);
        else _items.Add(new(key, value));
        return this;
    }

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public JsonC? this[string key] => IndexOf(key) is var i and >= 0 ? _items[i].Value : null;

    /// <summary>The index of <paramref name="key"/> in insertion order, or −1 (a loop: no closure per call).</summary>
    private int IndexOf(string key)
    {
        for (var i = 0; i < _items.Count; i++)
            if (_items[i].Key == key) return i;
        return -1;
    }

    public IEnumerable<string> Keys => _items.Select(kv => kv.Key);

    internal override void Write(StringBuilder sb, int level)
    {
        sb.Append("{\n");
        for (var i = 0; i < _items.Count; i++)
        {
            if (i > 0) sb.Append(",\n");
            Indent(sb, level + 1);
            Escape(sb, _items[i].Key);
            sb.Append(':');
            _items[i].Value.Write(sb, level + 1);
        }
        if (_items.Count > 0) sb.Append('\n');
        Indent(sb, level);
        sb.Append('}');
    }
}

/// <summary>json_object_new_array.</summary>
internal sealed class JArray : JsonC
{
    public List<JsonC> Items { get; } = [];

    public JArray Add(JsonC v)
    {
        Items.Add(v);
        return this;
    }

    internal override void Write(StringBuilder sb, int level)
    {
        sb.Append("[\n");
        for (var i = 0; i < Items.Count; i++)
        {
            if (i > 0) sb.Append(",\n");
            Indent(sb, level + 1);
            Items[i].Write(sb, level + 1);
        }
        if (Items.Count > 0) sb.Append('\n');
        Indent(sb, level);
        sb.Append(']');
    }
}

/// <summary>json_object_new_string.</summary>
internal sealed class JString(string s) : JsonC
{
    public string Value => s;

    internal override void Write(StringBuilder sb, int level) => Escape(sb, s);
}

/// <summary>json_object_new_boolean.</summary>
internal sealed class JBool(bool b) : JsonC
{
    internal override void Write(StringBuilder sb, int level) => sb.Append(b ? "true" : "false");
}

/// <summary>json_object_new_int / new_int64 (signed) or util_json_new_u64 (unsigned).</summary>
internal sealed class JInt : JsonC
{
    private readonly string _text;

    public JInt(long v) => _text = v.ToString(CultureInfo.InvariantCulture);

    public JInt(ulong v) => _text = v.ToString(CultureInfo.InvariantCulture);

    internal override void Write(StringBuilder sb, int level) => sb.Append(_text);
}

/// <summary>json_object_new_double: "%.17g", then ".0" when the text has no '.' or exponent.</summary>
internal sealed class JDouble(double d) : JsonC
{
    internal override void Write(StringBuilder sb, int level)
    {
        var t = d.ToString("g17", CultureInfo.InvariantCulture);
        if (!t.Contains('.') && !t.Contains('e') && (char.IsDigit(t[0]) || t.Length > 1 && t[0] == '-' && char.IsDigit(t[1])))
            t += ".0";
        sb.Append(t);
    }
}

/// <summary>
/// util_json_object_size: an int64; with UTIL_JSON_HUMAN the display_size serialiser (bytes under 5000 KiB as a
/// number, else a string "X.YY MiB (X.YY MB)" / GiB (GB) / TiB (TB) with mdadm's rounding).
/// </summary>
internal sealed class JSize(ulong bytes, bool human) : JsonC
{
    internal override void Write(StringBuilder sb, int level)
    {
        var inv = CultureInfo.InvariantCulture;
        if (!human || bytes < 5000UL * 1024)
        {
            sb.Append(((long)bytes).ToString(inv));
            return;
        }
        long b = (long)bytes;
        const long K = 1024, M = K * 1024, G = M * 1024, T = G * 1024;
        string iec, jedec;
        if (b < 2 * G)
        {
            var c = (b * 200 / M + 1) / 2;
            iec = string.Create(inv, $"{c / 100}.{c % 100:D2} MiB");
            var j = (b / (1000000 / 200) + 1) / 2;
            jedec = string.Create(inv, $"{j / 100}.{j % 100:D2} MB");
        }
        else if (b < 2 * T)
        {
            var c = (b * 200 / G + 1) / 2;
            iec = string.Create(inv, $"{c / 100}.{c % 100:D2} GiB");
            var j = (b / (1000000000 / 200) + 1) / 2;
            jedec = string.Create(inv, $"{j / 100}.{j % 100:D2} GB");
        }
        else
        {
            var c = (b * 200 / T + 1) / 2;
            iec = string.Create(inv, $"{c / 100}.{c % 100:D2} TiB");
            var j = (b / (1000000000000 / 200) + 1) / 2;
            jedec = string.Create(inv, $"{j / 100}.{j % 100:D2} TB");
        }
        sb.Append('"').Append(iec).Append(" (").Append(jedec).Append(")\"");
    }
}

/// <summary>util_json_object_hex: a u64; with UTIL_JSON_HUMAN the display_hex serialiser ("%#llx" quoted: "0x…", "0" for zero).</summary>
internal sealed class JHex(ulong v, bool human) : JsonC
{
    internal override void Write(StringBuilder sb, int level)
    {
        if (!human) sb.Append(v.ToString(CultureInfo.InvariantCulture));
        else sb.Append(v == 0 ? "\"0\"" : string.Create(CultureInfo.InvariantCulture, $"\"0x{v:x}\""));
    }
}
