using System.Globalization;
using System.Text.RegularExpressions;

namespace KernelSim.Scenarios.Crosscheck;

/// <summary>What the guest printed for one step: its return value, the signals it got, its output lines.</summary>
public sealed class GuestStepOutput
{
    /// <summary>The step started.</summary>
    public bool Begun { get; set; }

    /// <summary>The return value (−errno on failure); null when the step did not come back.</summary>
    public long? Ret { get; set; }

    /// <summary>Signals as (signo, si_code, si_addr as "buf+0x10", si_addr_lsb).</summary>
    public List<(int Signo, int Code, string Addr, int Lsb)> Signals { get; } = [];

    /// <summary>Output lines (a badblocks listing).</summary>
    public List<string> Notes { get; } = [];
}

/// <summary>
/// Parses the guest's serial console: only lines between "@@KS-BEGIN" and "@@KS-END" that start with "@@KS" count
/// (kernel messages are kept off the console with loglevel=1, but a line may still interleave). A kernel panic is
/// recognised by its "Kernel panic - not syncing:" line wherever it appears.
/// </summary>
public sealed partial class GuestOutput
{
    /// <summary>Per step number.</summary>
    public SortedDictionary<int, GuestStepOutput> Steps { get; } = [];

    /// <summary>"@@KS-BEGIN" was seen (the program started).</summary>
    public bool Started { get; private set; }

    /// <summary>"@@KS-END" was seen (init got control back).</summary>
    public bool Finished { get; private set; }

    /// <summary>The signal that killed the guest program's process, or null.</summary>
    public int? KilledBy { get; private set; }

    /// <summary>Setup failures (a namespace that did not come up, a mapping that failed).</summary>
    public List<string> SetupErrors { get; } = [];

    /// <summary>The panic message when the kernel panicked.</summary>
    public string? Panic { get; private set; }

    /// <summary>The last step that began.</summary>
    public int LastBegun => Steps.Where(kv => kv.Value.Begun).Select(kv => kv.Key).DefaultIfEmpty(0).Max();

    /// <summary>Parse a console capture.</summary>
    public static GuestOutput Parse(string console)
    {
        var o = new GuestOutput();
        var inside = false;
        foreach (var raw in console.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var p = line.IndexOf("Kernel panic - not syncing: ", StringComparison.Ordinal);
            if (p >= 0 && o.Panic == null) o.Panic = line[(p + "Kernel panic - not syncing: ".Length)..].Trim();
            // The firmware's escape sequences may precede a marker on its line.
            var at = line.IndexOf("@@KS", StringComparison.Ordinal);
            if (at < 0) continue;
            line = line[at..];
            if (line.StartsWith("@@KS-BEGIN", StringComparison.Ordinal)) { inside = true; o.Started = true; continue; }
            if (line.StartsWith("@@KS-END", StringComparison.Ordinal)) { inside = false; o.Finished = true; continue; }
            if (line.StartsWith("@@KS setup-error ", StringComparison.Ordinal)) { o.SetupErrors.Add(line["@@KS setup-error ".Length..]); continue; }
            if (!inside || !line.StartsWith("@@KS ", StringComparison.Ordinal)) continue;
            var m = Exit().Match(line);
            if (m.Success)
            {
                if (m.Groups[1].Value == "signal") o.KilledBy = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                continue;
            }
            m = StepLine().Match(line);
            if (!m.Success) continue;
            var n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (!o.Steps.TryGetValue(n, out var st)) o.Steps[n] = st = new GuestStepOutput();
            var rest = m.Groups[2].Value;
            if (rest == "begin") st.Begun = true;
            else if (rest.StartsWith("ret=", StringComparison.Ordinal) && long.TryParse(rest[4..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var r)) st.Ret = r;
            else if (rest.StartsWith("note=", StringComparison.Ordinal)) st.Notes.Add(rest[5..]);
            else if (Signal().Match(rest) is { Success: true } sm)
                st.Signals.Add((int.Parse(sm.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(sm.Groups[2].Value, CultureInfo.InvariantCulture), sm.Groups[3].Value, int.Parse(sm.Groups[4].Value, CultureInfo.InvariantCulture)));
        }
        return o;
    }

    [GeneratedRegex(@"^@@KS exit (signal|status)=(\d+)$")]
    private static partial Regex Exit();

    [GeneratedRegex(@"^@@KS (\d+) (.*)$")]
    private static partial Regex StepLine();

    [GeneratedRegex(@"^signal=(\d+) code=(-?\d+) addr=(\S+) lsb=(\d+)$")]
    private static partial Regex Signal();
}
