using System.Text;

namespace KernelSim.Trace;

/// <summary>
/// Renders trace records as a Mermaid sequence diagram with one lifeline per layer: "user" (the process in
/// user mode) first, then every layer in order of first appearance ("syscall", "fs", "iov_iter", "x86",
/// "mce", "mm", …). A call that crosses into another layer is an arrow labelled with the function; calls
/// inside a layer are folded into it; the return of a system call to user space is a dashed arrow; events
/// (traps, signals, printk) are notes over the layer that was running.
/// </summary>
public static class MermaidSequence
{
    /// <summary>The name of the user-space lifeline.</summary>
    public const string User = "user";

    /// <summary>Render the records as the body of a ```mermaid block (starting with "sequenceDiagram").</summary>
    public static string Render(IReadOnlyList<TraceRecord> records)
    {
        var participants = new List<string> { User };
        foreach (var r in records)
            if (!participants.Contains(r.Layer)) participants.Add(r.Layer);
        var sb = new StringBuilder();
        sb.Append("sequenceDiagram\n");
        foreach (var p in participants) sb.Append("    participant ").Append(Id(p)).Append('\n');
        var stack = new Stack<string>();
        foreach (var r in records)
        {
            switch (r.Kind)
            {
                case TraceKind.Enter:
                    {
                        var from = stack.Count > 0 ? stack.Peek() : User;
                        if (from != r.Layer) sb.Append("    ").Append(Id(from)).Append("->>").Append(Id(r.Layer)).Append(": ").Append(Text(r.Name)).Append('\n');
                        stack.Push(r.Layer);
                        break;
                    }
                case TraceKind.Exit:
                    {
                        if (stack.Count == 0) break;
                        var layer = stack.Pop();
                        if (stack.Count == 0) sb.Append("    ").Append(Id(layer)).Append("-->>").Append(User).Append(": ").Append(Text(r.Name + " returns")).Append('\n');
                        break;
                    }
                default:
                    sb.Append("    Note over ").Append(Id(r.Layer)).Append(": ").Append(Text(r.Name + ": " + r.Text)).Append('\n');
                    break;
            }
        }
        return sb.ToString();
    }

    private static string Id(string layer)
    {
        var sb = new StringBuilder(layer.Length);
        foreach (var c in layer) sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        return sb.ToString();
    }

    /// <summary>Message text: Mermaid entity codes for the characters that end or break a message.</summary>
    private static string Text(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        foreach (var c in s)
        {
            switch (c)
            {
                case ';': sb.Append("#59;"); break;
                case '#': sb.Append("#35;"); break;
                case '<': sb.Append("#lt;"); break;
                case '>': sb.Append("#gt;"); break;
                case '\n': case '\r': sb.Append(' '); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }
}
