using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KernelSim.Profiles;

namespace KernelSim.Cli.Commands;

/// <summary>Options shared by several commands, with parsers that turn bad values into parse errors (exit code 2).</summary>
internal static class CommonOptions
{
    /// <summary>--kernel V: a modelled release such as 6.12 or 5.10 (see `kernelsim profiles`); a point release runs as its release.</summary>
    public static Option<KernelVersion?> Kernel(string description) => new("--kernel", "-k")
    {
        Description = $"{description} (a modelled release, {KernelProfile.Oldest} to {KernelProfile.Newest}: kernelsim profiles lists them)",
        HelpName = "version",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (TryRelease(text, out var v, out var error)) return v;
            r.AddError($"unknown kernel version '{text}': {error}");
            return null;
        },
    };

    /// <summary>
    /// A modelled release from the command line; false with the reason (naming the modelled range) when the text
    /// does not parse or names a release KernelSim does not model.
    /// </summary>
    public static bool TryRelease(string text, out KernelVersion version, out string error)
    {
        error = "";
        if (!KernelVersion.TryParse(text, out version))
        {
            error = $"expected major.minor such as 6.12, a release from {KernelProfile.Oldest} to {KernelProfile.Newest} (kernelsim profiles lists them)";
            return false;
        }
        if (KernelProfile.IsModelled(version)) return true;
        error = $"not a modelled release; KernelSim models {KernelProfile.ModelledRange} (kernelsim profiles lists them)";
        return false;
    }

    /// <summary>The note for a point release given where a release is expected (null when <paramref name="text"/> is not one).</summary>
    public static string? PointReleaseNote(string text) =>
        KernelVersion.IsPointRelease(text) && KernelVersion.TryParse(text, out var v)
            ? $"note: {text.Trim()} is a point release; it runs as Linux {v} (behaviour is modelled per release)"
            : null;

    /// <summary>Notes for every point release given to --kernel or --profiles on the parsed command line.</summary>
    public static IEnumerable<string> PointReleaseNotes(ParseResult parse)
    {
        foreach (var child in parse.CommandResult.Children)
        {
            if (child is not OptionResult { Option.Name: "--kernel" or "--profiles" } o) continue;
            foreach (var token in o.Tokens)
                foreach (var part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    if (PointReleaseNote(part) is { } note) yield return note;
        }
    }

    /// <summary>--cpu erms|fragile|none.</summary>
    public static Option<CpuModel?> Cpu() => new("--cpu")
    {
        Description = "CPU model: erms (ERMS/FSRM: copy_mc_enhanced_fast_string; the default), fragile (copy_mc_fragile quirk), none (neither: plain memcpy)",
        HelpName = "erms|fragile|none",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (CpuModel.TryGet(text, out var m)) return m;
            r.AddError($"unknown cpu '{text}': expected one of {CpuNames()}");
            return null;
        },
    };

    /// <summary>A seed (replay, shrink): a whole number from 0 to 2^64-1.</summary>
    public static Argument<ulong> Seed(string description) => new("seed")
    {
        Description = description,
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seed)) return seed;
            r.AddError($"seed '{text}': expected a whole number from 0 to {ulong.MaxValue}");
            return 0;
        },
    };

    /// <summary>--jobs N: seeds run in parallel, at least 1.</summary>
    public static Option<int> Jobs() => new("--jobs", "-j")
    {
        Description = "Seeds run in parallel, 1 or more (default: the number of cores); results are identical for any value",
        HelpName = "N",
        DefaultValueFactory = _ => Environment.ProcessorCount,
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1) return n;
            r.AddError($"--jobs '{text}': expected a whole number, 1 or more");
            return 1;
        },
    };

    /// <summary>Refuse, at parse time, a value of <paramref name="option"/> that <paramref name="valid"/> rejects.</summary>
    public static T Checked<T>(this T option, Func<string, bool> valid, string expected) where T : Option<string?>
    {
        option.Validators.Add(r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (!valid(text)) r.AddError($"{option.Name} '{text}': expected {expected}");
        });
        return option;
    }

    /// <summary>
    /// Refuse an unknown option where a file name is expected: System.CommandLine gives an argument of arity
    /// one-or-more every token it does not recognise, so `run x.yaml --bogus` would read a file named --bogus.
    /// A file whose name starts with '-' can be given as ./-name (<paramref name="files"/> says so in the message).
    /// </summary>
    public static Argument<T> NoOptions<T>(this Argument<T> argument, bool files = true)
    {
        argument.Validators.Add(r =>
        {
            foreach (var t in r.Tokens)
                if (t.Value.Length > 1 && t.Value[0] == '-')
                    r.AddError(files ? $"unknown option '{t.Value}' (a file whose name starts with '-' can be given as ./{t.Value})" : $"unknown option '{t.Value}'");
        });
        return argument;
    }

    private static string CpuNames()
    {
        var names = new List<string>();
        foreach (var c in CpuModel.Presets) names.Add(c.Name);
        return string.Join(", ", names);
    }
}
