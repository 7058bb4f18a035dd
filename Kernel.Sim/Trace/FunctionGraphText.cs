using System.Text;

namespace KernelSim.Trace;

/// <summary>Renders trace records in ftrace function_graph style ("func() {", "func();", "/* event */").</summary>
public static class FunctionGraphText
{
    /// <summary>Render records as text, one line each, CPU 0, no durations (the simulation has no wall clock).</summary>
    public static string Render(IReadOnlyList<TraceRecord> records)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            switch (r.Kind)
            {
                case TraceKind.Enter:
                    // A frame with no children prints as a leaf "func();", as function_graph does.
                    if (i + 1 < records.Count && records[i + 1].Kind == TraceKind.Exit)
                    {
                        Line(sb, r.Depth, r.Name + "();");
                        i++;
                    }
                    else
                    {
                        Line(sb, r.Depth, r.Name + "() {");
                    }
                    break;
                case TraceKind.Exit:
                    Line(sb, r.Depth, "}");
                    break;
                default:
                    Line(sb, r.Depth, $"/* {r.Name}: {r.Text} */");
                    break;
            }
        }
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, int depth, string text)
    {
        sb.Append(" 0)               |  ");
        sb.Append(' ', depth * 2);
        sb.Append(text);
        sb.Append('\n');
    }
}
