using System.Globalization;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>The option kinds of util/parse-options.h that ndctl's modelled commands use.</summary>
internal enum OptKind { String, Boolean, Incr, UInteger }

/// <summary>One OPT_STRING / OPT_BOOLEAN / OPT_INCR / OPT_UINTEGER entry: short name ('\0' for none), long name, argh, help.</summary>
internal sealed record Opt(char Short, string Long, OptKind Kind, string? Argh, string Help);

/// <summary>The values parse_options stored: strings by long name, booleans and counters by long name.</summary>
internal sealed class OptValues
{
    public Dictionary<string, string?> Strings { get; } = [];

    public Dictionary<string, int> Ints { get; } = [];

    /// <summary>The string option's value (null when not given or negated).</summary>
    public string? Str(string name) => Strings.GetValueOrDefault(name);

    /// <summary>The boolean option's value, or <paramref name="dflt"/> when it was not given.</summary>
    public bool Bool(string name, bool dflt = false) => Ints.TryGetValue(name, out var v) ? v != 0 : dflt;

    /// <summary>An OPT_INCR or OPT_UINTEGER value (0 when not given).</summary>
    public int Int(string name) => Ints.GetValueOrDefault(name);
}

/// <summary>
/// util/parse-options.c (from git/perf) as ndctl uses it: short clusters ("-Nu"), "-B8" and "-B 8", long options with
/// "=value" or the next argument, unambiguous abbreviations, "--no-" negation, "--" to end options, -h / --help
/// (usage on stderr, exit 129), --list-opts (exit 130), and the errors ("unknown option `x'", "switch `B' requires a
/// value", "Ambiguous option", "did you mean `--x` (with two dashes ?)") with their exits.
/// </summary>
internal static class ParseOptions
{
    private const int UsageOptsWidth = 24, UsageGap = 2;

    /// <summary>parse_options(argc, argv, options, usagestr, 0): the values and the non-option arguments.</summary>
    public static List<string> Parse(NdctlIo io, string[] argv, Opt[] options, string[] usage, OptValues values)
    {
        var rest = new List<string>();
        for (var i = 1; i < argv.Length; i++)
        {
            var arg = argv[i];
            if (arg.Length < 2 || arg[0] != '-')
            {
                rest.Add(arg);
                continue;
            }
            if (arg[1] != '-')
            {
                string? cluster = arg[1..];
                if (cluster[0] == 'h') UsageWithOptions(io, usage, options);
                var first = true;
                while (cluster != null)
                {
                    if (!first && cluster[0] == 'h') UsageWithOptions(io, usage, options);
                    var opt = Array.Find(options, o => o.Short == cluster[0]);
                    if (opt == null)
                    {
                        io.Error($"unknown switch `{cluster[0]}'");
                        UsageWithOptions(io, usage, options);
                    }
                    var more = cluster.Length > 1 ? cluster[1..] : null;
                    if (GetValue(io, opt!, true, false, ref more, argv, ref i, values) < 0) ParseUsage(io, usage, options, opt!);
                    if (first && more != null) CheckTypos(io, arg[1..], options);
                    first = false;
                    cluster = more;
                }
                continue;
            }
            if (arg.Length == 2)
            {
                for (i++; i < argv.Length; i++) rest.Add(argv[i]);
                break;
            }
            var name = arg[2..];
            if (name is "help" or "help-all") UsageWithOptions(io, usage, options);
            if (name == "list-opts")
            {
                foreach (var o in options) io.Out.Append("--").Append(o.Long).Append(' ');
                throw new NdctlExit(130);
            }
            if (name == "list-cmds") throw new NdctlExit(130);
            var rc = ParseLong(io, name, options, argv, ref i, values, out var bad);
            if (rc == -1) ParseUsage(io, usage, options, bad);
            if (rc == -2)
            {
                io.Error($"unknown option `{name}'");
                UsageWithOptions(io, usage, options);
            }
        }
        return rest;
    }

    /// <summary>parse_long_opt: exact match, "=value", abbreviation (ambiguous when two match), "no-" negation.</summary>
    private static int ParseLong(NdctlIo io, string arg, Opt[] options, string[] argv, ref int i, OptValues values, out Opt? matched)
    {
        matched = null;
        var eq = arg.IndexOf('=');
        var argName = eq >= 0 ? arg[..eq] : arg;
        Opt? abbrev = null, ambiguous = null;
        bool abbrevUnset = false, ambiguousUnset = false;
        string? abbrevValue = null;
        foreach (var o in options)
        {
            var unset = false;
            string? value;
            if (arg.StartsWith(o.Long, StringComparison.Ordinal))
            {
                var r = arg[o.Long.Length..];
                if (r.Length == 0) value = null;
                else if (r[0] == '=') value = r[1..];
                else continue;
                matched = o;
                return GetValue(io, o, false, false, ref value, argv, ref i, values);
            }
            if (o.Long.StartsWith("no-", StringComparison.Ordinal))
            {
                // A long name that itself starts with "no-" also answers its positive form, negated.
                var pos = o.Long[3..];
                if (arg.StartsWith(pos, StringComparison.Ordinal))
                {
                    var r = arg[pos.Length..];
                    if (r.Length > 0 && r[0] != '=') continue;
                    value = r.Length == 0 ? null : r[1..];
                    matched = o;
                    return GetValue(io, o, false, true, ref value, argv, ref i, values);
                }
                if (pos.StartsWith(arg, StringComparison.Ordinal))
                {
                    if (abbrev != null) (ambiguous, ambiguousUnset) = (abbrev, abbrevUnset);
                    (abbrev, abbrevUnset, abbrevValue) = (o, true, null);
                    continue;
                }
            }
            if (o.Long.StartsWith(argName, StringComparison.Ordinal))
            {
                if (abbrev != null) (ambiguous, ambiguousUnset) = (abbrev, abbrevUnset);
                (abbrev, abbrevUnset, abbrevValue) = (o, false, eq >= 0 ? arg[(eq + 1)..] : null);
                continue;
            }
            if ("no-".StartsWith(arg, StringComparison.Ordinal))
            {
                if (abbrev != null) (ambiguous, ambiguousUnset) = (abbrev, abbrevUnset);
                (abbrev, abbrevUnset, abbrevValue) = (o, true, null);
                continue;
            }
            if (!arg.StartsWith("no-", StringComparison.Ordinal)) continue;
            unset = true;
            var neg = arg[3..];
            if (neg.StartsWith(o.Long, StringComparison.Ordinal))
            {
                var r = neg[o.Long.Length..];
                if (r.Length == 0) value = null;
                else if (r[0] == '=') value = r[1..];
                else continue;
                matched = o;
                return GetValue(io, o, false, unset, ref value, argv, ref i, values);
            }
            if (o.Long.StartsWith(neg, StringComparison.Ordinal))
            {
                if (abbrev != null) (ambiguous, ambiguousUnset) = (abbrev, abbrevUnset);
                (abbrev, abbrevUnset, abbrevValue) = (o, true, null);
            }
        }
        if (ambiguous != null)
            return io.Error($"Ambiguous option: {arg} (could be --{(ambiguousUnset ? "no-" : "")}{ambiguous.Long} or --{(abbrevUnset ? "no-" : "")}{abbrev!.Long})");
        if (abbrev != null)
        {
            matched = abbrev;
            return GetValue(io, abbrev, false, abbrevUnset, ref abbrevValue, argv, ref i, values);
        }
        return -2;
    }

    /// <summary>get_value: store one option (the value from the cluster rest / "=…" or the next argument).</summary>
    private static int GetValue(NdctlIo io, Opt o, bool isShort, bool unset, ref string? inline, string[] argv, ref int i, OptValues values)
    {
        int OptError(string reason) => isShort ? io.Error($"switch `{o.Short}' {reason}")
            : unset ? io.Error($"option `no-{o.Long}' {reason}") : io.Error($"option `{o.Long}' {reason}");

        if (unset && inline != null) return OptError("takes no value");
        if (!isShort && inline != null && o.Kind is OptKind.Boolean or OptKind.Incr) return OptError("takes no value");
        switch (o.Kind)
        {
            case OptKind.Boolean:
                values.Ints[o.Long] = unset ? 0 : 1;
                return 0;
            case OptKind.Incr:
                values.Ints[o.Long] = unset ? 0 : values.Int(o.Long) + 1;
                return 0;
            case OptKind.String:
            {
                if (unset)
                {
                    values.Strings[o.Long] = null;
                    return 0;
                }
                if (GetArg(o, ref inline, argv, ref i, out var v) < 0) return OptError("requires a value");
                values.Strings[o.Long] = v;
                return 0;
            }
            default:
            {
                if (unset)
                {
                    values.Ints[o.Long] = 0;
                    return 0;
                }
                if (GetArg(o, ref inline, argv, ref i, out var v) < 0) return OptError("requires a value");
                var n = CStr.StrToL(v!, 10, out var end);
                values.Ints[o.Long] = (int)(uint)n;
                return end != v!.Length ? OptError("expects a numerical value") : 0;
            }
        }
    }

    private static int GetArg(Opt o, ref string? inline, string[] argv, ref int i, out string? value)
    {
        if (inline != null)
        {
            value = inline;
            inline = null;
            return 0;
        }
        if (i + 1 < argv.Length)
        {
            value = argv[++i];
            return 0;
        }
        value = null;
        return -1;
    }

    /// <summary>check_typos: "-block" (a long name given with one dash) is refused with exit 129.</summary>
    private static void CheckTypos(NdctlIo io, string arg, Opt[] options)
    {
        if (arg.Length < 3) return;
        if (arg.StartsWith("no-", StringComparison.Ordinal) || options.Any(o => o.Long.StartsWith(arg, StringComparison.Ordinal)))
        {
            io.Error($"did you mean `--{arg}` (with two dashes ?)");
            throw new NdctlExit(129);
        }
    }

    /// <summary>usage_with_options: the usage lines and every option's help on stderr, then exit(129).</summary>
    public static void UsageWithOptions(NdctlIo io, string[] usage, Opt[] options)
    {
        UsageHeader(io, usage);
        io.Err.Append('\n');
        foreach (var o in options) OptionHelp(io, o);
        io.Err.Append('\n');
        throw new NdctlExit(129);
    }

    /// <summary>parse_options_usage after a bad value: the usage lines and the one option's help, exit(129).</summary>
    private static void ParseUsage(NdctlIo io, string[] usage, Opt[] options, Opt? o)
    {
        UsageHeader(io, usage);
        io.Err.Append('\n');
        if (o != null) OptionHelp(io, o);
        throw new NdctlExit(129);
    }

    private static void UsageHeader(NdctlIo io, string[] usage)
    {
        io.Err.Append("\n usage: ").Append(usage[0]).Append('\n');
        foreach (var u in usage.Skip(1)) io.Err.Append("    or: ").Append(u).Append('\n');
    }

    /// <summary>print_option_help: "    -b, --bus &lt;bus-id&gt;" padded to column 24 + 2, then the help.</summary>
    private static void OptionHelp(NdctlIo io, Opt o)
    {
        var s = "    " + (o.Short != '\0' ? "-" + o.Short : "    ") + (o.Short != '\0' ? ", " : "") + "--" + o.Long;
        if (o.Kind == OptKind.String) s += $" <{o.Argh}>";
        if (o.Kind == OptKind.UInteger) s += " <n>";
        int pad;
        if (s.Length <= UsageOptsWidth) pad = UsageOptsWidth - s.Length;
        else
        {
            s += "\n";
            pad = UsageOptsWidth;
        }
        io.Err.Append(s).Append(' ', pad + UsageGap).Append(o.Help).Append('\n');
    }
}

/// <summary>The C library number parsers ndctl relies on (strtoul/strtoull with base 0 or 10, strtod, sscanf "%d").</summary>
internal static class CStr
{
    /// <summary>strtoul-style: leading blanks, sign, base prefix (0x, 0 octal when base 0); <paramref name="end"/> is the index after the digits (0 when none).</summary>
    public static long StrToL(ReadOnlySpan<char> s, int radix, out int end)
    {
        var i = 0;
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        var neg = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
        if ((radix == 0 || radix == 16) && i + 1 < s.Length && s[i] == '0' && (s[i + 1] | 0x20) == 'x' && i + 2 < s.Length && Uri.IsHexDigit(s[i + 2]))
        {
            radix = 16;
            i += 2;
        }
        else if (radix == 0) radix = i < s.Length && s[i] == '0' ? 8 : 10;
        var start = i;
        ulong v = 0;
        while (i < s.Length)
        {
            var d = char.IsDigit(s[i]) ? s[i] - '0' : char.IsLetter(s[i]) ? (s[i] | 0x20) - 'a' + 10 : 99;
            if (d >= radix) break;
            v = unchecked(v * (ulong)radix + (ulong)d);
            i++;
        }
        end = i == start ? 0 : i;
        return neg ? -(long)v : (long)v;
    }

    /// <summary>strtoull(s, NULL, 0) of an attribute's text.</summary>
    public static ulong ToULong(string s) => unchecked((ulong)StrToL(s, 0, out _));

    /// <summary>strtod(s, NULL) (0 when no number).</summary>
    public static double StrToD(string s)
    {
        var t = s.Trim();
        var n = t.Length;
        while (n > 0 && !double.TryParse(t[..n], NumberStyles.Float, CultureInfo.InvariantCulture, out _)) n--;
        return n == 0 ? 0 : double.Parse(t[..n], NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
