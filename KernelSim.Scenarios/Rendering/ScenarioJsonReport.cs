using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using KernelSim.Scenarios.Runtime;
using KernelSim.Trace;

namespace KernelSim.Scenarios.Rendering;

/// <summary>
/// The machine-readable result of a run (--json): per scenario its machine, setup, steps with results,
/// details and expectations (ok or the failure), and with --trace the trace (a string for text and mermaid,
/// the trace-event object for chrome).
/// </summary>
public static class ScenarioJsonReport
{
    public static string Render(IReadOnlyList<ScenarioResult> results, TraceFormat trace)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteBoolean("passed", results.All(r => r.Passed));
            w.WriteStartArray("scenarios");
            foreach (var r in results) Scenario(w, r, trace);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    private static void Scenario(Utf8JsonWriter w, ScenarioResult r, TraceFormat trace)
    {
        var s = r.Scenario;
        w.WriteStartObject();
        w.WriteString("file", s.File);
        w.WriteNumber("document", s.Document);
        w.WriteString("name", s.Name);
        if (s.Title != null) w.WriteString("title", s.Title);
        w.WriteString("kernel", s.Machine.Kernel.ToString());
        w.WriteString("cpu", s.Machine.Cpu.Name);
        w.WriteBoolean("passed", r.Passed);
        w.WriteNumber("expectations", r.ExpectationCount);
        w.WriteNumber("failures", r.FailureCount);
        w.WriteString("machine", Expectations.ExpectationParser.StatusName(r.Machine.State.Status));
        w.WriteStartArray("setup");
        foreach (var l in r.Setup) w.WriteStringValue(l);
        w.WriteEndArray();
        w.WriteStartArray("setupErrors");
        foreach (var l in r.SetupErrors) w.WriteStringValue(l);
        w.WriteEndArray();
        w.WriteStartArray("steps");
        foreach (var st in r.Steps)
        {
            w.WriteStartObject();
            w.WriteNumber("index", st.Spec.Index);
            w.WriteString("step", st.Spec.Name);
            w.WriteNumber("line", st.Spec.Mark.Line);
            w.WriteNumber("column", st.Spec.Mark.Column);
            w.WriteString("describe", st.Spec.Step.Describe);
            if (st.Result.Ret is { } ret) w.WriteNumber("ret", ret);
            else w.WriteNull("ret");
            if (st.Result.Outcome != null) w.WriteString("outcome", st.Result.Outcome);
            if (st.Result.Signal is { } sig)
            {
                w.WriteStartObject("signal");
                w.WriteNumber("signo", sig.Signo);
                w.WriteNumber("code", sig.Code);
                w.WriteString("addr", $"0x{sig.Addr:x}");
                w.WriteNumber("addrLsb", sig.AddrLsb);
                w.WriteEndObject();
            }
            w.WriteString("result", st.Result.Text);
            w.WriteStartArray("details");
            foreach (var d in st.Details) w.WriteStringValue(d);
            w.WriteEndArray();
            w.WriteStartArray("expectations");
            foreach (var c in st.Checks)
            {
                w.WriteStartObject();
                w.WriteString("key", c.Expectation.Key);
                w.WriteNumber("line", c.Expectation.Mark.Line);
                w.WriteNumber("column", c.Expectation.Mark.Column);
                w.WriteString("expected", c.Expectation.Describe);
                w.WriteBoolean("ok", c.Failure == null);
                if (c.Failure != null) w.WriteString("failure", c.Failure);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        switch (trace)
        {
            case TraceFormat.Text:
                w.WriteString("trace", FunctionGraphText.Render(r.Machine.Tracer.Records));
                break;
            case TraceFormat.Mermaid:
                w.WriteString("trace", MermaidSequence.Render(r.Machine.Tracer.Records));
                break;
            case TraceFormat.Chrome:
                w.WritePropertyName("trace");
                using (var doc = JsonDocument.Parse(ChromeTrace.Render(r.Machine.Tracer.Records, s.Name))) doc.WriteTo(w);
                break;
        }
        w.WriteEndObject();
    }
}
