using KernelSim.Profiles;
using KernelSim.Trace;

namespace KernelSim.Cli.Rendering.Html;

/// <summary>
/// A step's trace as a collapsible function tree: a function with callees is a &lt;details&gt; (open), a leaf a
/// line, an event a comment, as ftrace's function_graph shows them. Each kernel function links to its source at
/// the release (Elixir identifier search); the simulator's stand-ins (daxfs_*, which play ext4/XFS) do not link.
/// </summary>
internal static class FunctionTree
{
    /// <summary>At most this many records per step are drawn; the rest are counted.</summary>
    public const int MaxRecords = 4000;

    /// <summary>The Elixir cross-reference URL of a kernel identifier at a release.</summary>
    public static string SourceUrl(KernelVersion v, string function) =>
        $"https://elixir.bootlin.com/linux/v{v.Major}.{v.Minor}/A/ident/{Uri.EscapeDataString(function)}";

    /// <summary>True for names that are kernel functions (a C identifier that is not one of the simulator's own).</summary>
    public static bool IsKernelFunction(string name)
    {
        if (name.Length == 0 || name.StartsWith("daxfs_", StringComparison.Ordinal) || name is "kernel" or "user_load") return false;
        foreach (var c in name)
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        return !char.IsAsciiDigit(name[0]);
    }

    /// <summary>Write the tree of <paramref name="records"/> (one step's slice of the trace).</summary>
    public static void Write(HtmlBuilder h, IReadOnlyList<TraceRecord> records, KernelVersion v)
    {
        var calls = records.Count(r => r.Kind == TraceKind.Enter);
        h.Open("details", ("class", "trace")).Element("summary", $"trace: {calls} function call(s), {records.Count - 2 * calls} event(s) (ftrace function_graph)");
        h.Open("div", ("class", "tree"));
        var open = 0;
        var n = Math.Min(records.Count, MaxRecords);
        for (var i = 0; i < n; i++)
        {
            var r = records[i];
            switch (r.Kind)
            {
                case TraceKind.Enter when i + 1 < records.Count && records[i + 1].Kind == TraceKind.Exit:
                    h.Open("div", ("class", "leaf"));
                    Function(h, r, v);
                    h.Text("();").Close("div");
                    i++;
                    break;
                case TraceKind.Enter:
                    h.Open("details", ("open", "")).Open("summary");
                    Function(h, r, v);
                    h.Text("() {").Close("summary");
                    open++;
                    break;
                case TraceKind.Exit:
                    // A slice can start inside a call: an exit with nothing open closes nothing.
                    if (open == 0) break;
                    h.Element("div", "}", ("class", "leaf")).Close("details");
                    open--;
                    break;
                default:
                    h.Element("div", $"/* {r.Name}: {r.Text} */", ("class", "event"));
                    break;
            }
        }
        for (; open > 0; open--) h.Close("details");
        if (records.Count > n) h.Element("div", $"… {records.Count - n} more record(s) not shown (kernelsim run FILE --trace text prints them all)", ("class", "event"));
        h.Close("div").Close("details");
    }

    private static void Function(HtmlBuilder h, TraceRecord r, KernelVersion v)
    {
        if (IsKernelFunction(r.Name))
            h.Element("a", r.Name, ("href", SourceUrl(v, r.Name)), ("title", $"{r.Name} in Linux {v} ({r.Layer})"));
        else
            h.Element("span", r.Name, ("class", "sim"), ("title", "the simulator's stand-in (no kernel source)"));
    }
}
