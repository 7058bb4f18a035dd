using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace KernelSim.Trace;

/// <summary>
/// Renders trace records as Chrome trace-event JSON (the "JSON Object Format" that chrome://tracing and
/// Perfetto open): one process per traced machine, one track (tid) per layer ("syscall", "fs", "iov_iter",
/// "x86", "mce", "mm", …) named with thread_name metadata, B/E duration events for function frames and "i"
/// instant events for traps, signals and printk. Timestamps are the records' sequence numbers (the simulated
/// clock, shown as microseconds); the output is deterministic byte for byte.
/// </summary>
public static class ChromeTrace
{
    /// <summary>The trace of one machine as a complete JSON document.</summary>
    public static string Render(IReadOnlyList<TraceRecord> records, string processName = "kernelsim") =>
        Render([new ChromeTraceProcess(processName, records)]);

    /// <summary>Several traces (e.g. one per scenario) in one document, one pid each (1, 2, …).</summary>
    public static string Render(IReadOnlyList<ChromeTraceProcess> processes)
    {
        var sb = new StringBuilder();
        sb.Append("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
        var first = true;
        for (var p = 0; p < processes.Count; p++)
            AppendProcess(sb, p + 1, processes[p], ref first);
        sb.Append("\n]}\n");
        return sb.ToString();
    }

    private static void AppendProcess(StringBuilder sb, int pid, ChromeTraceProcess process, ref bool first)
    {
        var records = process.Records;
        // Tracks in order of first appearance.
        var tids = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var r in records)
        {
            if (tids.ContainsKey(r.Layer)) continue;
            tids.Add(r.Layer, tids.Count + 1);
            order.Add(r.Layer);
        }
        Event(sb, ref first, $"{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":{pid},\"tid\":0,\"args\":{{\"name\":{Str(process.Name)}}}}}");
        foreach (var layer in order)
        {
            var tid = tids[layer];
            Event(sb, ref first, $"{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"args\":{{\"name\":{Str(layer)}}}}}");
            Event(sb, ref first, $"{{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"args\":{{\"sort_index\":{tid}}}}}");
        }
        // B/E per track stay balanced: an E without its B (records cleared mid-frame) is dropped, frames still
        // open at the end are closed at the last timestamp.
        var depth = new int[order.Count + 1];
        var open = new Stack<(string Name, string Layer)>();
        long lastTs = 0;
        foreach (var r in records)
        {
            var tid = tids[r.Layer];
            var ts = r.Seq.ToString(CultureInfo.InvariantCulture);
            lastTs = r.Seq;
            switch (r.Kind)
            {
                case TraceKind.Enter:
                    depth[tid]++;
                    open.Push((r.Name, r.Layer));
                    Event(sb, ref first, $"{{\"name\":{Str(r.Name)},\"cat\":{Str(r.Layer)},\"ph\":\"B\",\"ts\":{ts},\"pid\":{pid},\"tid\":{tid}}}");
                    break;
                case TraceKind.Exit:
                    if (depth[tid] == 0 || open.Count == 0) break;
                    depth[tid]--;
                    open.Pop();
                    Event(sb, ref first, $"{{\"name\":{Str(r.Name)},\"cat\":{Str(r.Layer)},\"ph\":\"E\",\"ts\":{ts},\"pid\":{pid},\"tid\":{tid}}}");
                    break;
                default:
                    Event(sb, ref first, $"{{\"name\":{Str(r.Name + ": " + r.Text)},\"cat\":{Str(r.Name)},\"ph\":\"i\",\"s\":\"t\",\"ts\":{ts},\"pid\":{pid},\"tid\":{tid},\"args\":{{\"text\":{Str(r.Text ?? "")}}}}}");
                    break;
            }
        }
        while (open.Count > 0)
        {
            var (name, layer) = open.Pop();
            var tid = tids[layer];
            Event(sb, ref first, $"{{\"name\":{Str(name)},\"cat\":{Str(layer)},\"ph\":\"E\",\"ts\":{(lastTs + 1).ToString(CultureInfo.InvariantCulture)},\"pid\":{pid},\"tid\":{tid}}}");
        }
    }

    private static void Event(StringBuilder sb, ref bool first, string json)
    {
        if (!first) sb.Append(",\n");
        first = false;
        sb.Append(json);
    }

    private static string Str(string s) => "\"" + JsonEncodedText.Encode(s, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString() + "\"";
}
