using System.Buffers;
using System.Text;
using System.Text.Json;
using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Tests.Campaigns;

/// <summary>The streamed results file writes its lines with a Utf8JsonWriter: byte for byte what the serializer writes.</summary>
public class CampaignJsonWriterTests
{
    private static readonly string[] Texts =
    [
        "", "plain", "quote \" and backslash \\", "new\nline\ttab\r", "control \u0001\u001f", "<tag> & 'apos' +plus",
        "accents éàü", "emoji \U0001F600", "surrogate \ud800 alone", "read(buf+0x10, 8) = 0x00, expected 0xee or 0x5a",
    ];

    [Test]
    public void ResultLines_AreTheSerializersBytes()
    {
        var outcomes = Enum.GetValues<Outcome>();
        for (var i = 0; i < Texts.Length; i++)
        {
            foreach (var ret in new long?[] { null, 0, -14, long.MaxValue, long.MinValue })
            {
                var r = new OpRecord(i == 0 ? ulong.MaxValue : (ulong)i, Texts[(i + 1) % Texts.Length], Texts[(i + 2) % Texts.Length],
                    "0123456789abcdef", i - 1, Texts[(i + 3) % Texts.Length], ret, outcomes[i % outcomes.Length], Texts[i]);
                Assert.That(Written(w => CampaignJson.Write(w, r)), Is.EqualTo(CampaignJson.Line(r)), $"text {i}, ret {ret}");
            }
        }
    }

    [Test]
    public void PlanLines_AreTheSerializersBytes()
    {
        var spec = CampaignParser.ParseText("x.yaml", "campaign: x\nmachine: {dram: 64M, pmem: 16M}\nprofiles: [6.12]\noperations: 8\nworkloads: {ramfs: 1, pmem-direct: 1, hostile: 1}\nfaults: {poisoned-buffer: 1, mce-storm: 1}\n");
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var plan = PlanGenerator.Generate(spec, seed);
            var text = plan.Describe();
            Assert.That(CampaignPlan.IdOf(text), Is.EqualTo(plan.Id()));
            Assert.That(Written(w => CampaignJson.Write(w, plan.Seed, plan.Id(), text)), Is.EqualTo(CampaignJson.Line(plan)), $"seed {seed}");
        }
        foreach (var t in Texts)
            Assert.That(Written(w => CampaignJson.Write(w, 7, t, t)), Is.EqualTo(JsonSerializer.Serialize(new PlanLine(7, t, t), Options())));
    }

    private static JsonSerializerOptions Options() => new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Written(Action<Utf8JsonWriter> write)
    {
        var buf = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buf, CampaignJson.WriterOptions)) write(w);
        return Encoding.UTF8.GetString(buf.WrittenSpan);
    }
}
