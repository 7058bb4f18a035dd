using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The first line of results.jsonl and plans.jsonl: what produced the lines below it. Two outputs with equal
/// headers (apart from the seed set) come from the same campaign and can be merged.
/// </summary>
public sealed record CampaignHeader(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("campaign")] string Campaign,
    [property: JsonPropertyName("kernelsim")] string Kernelsim,
    [property: JsonPropertyName("spec_sha256")] string SpecSha256,
    [property: JsonPropertyName("profiles")] IReadOnlyList<string> Profiles,
    [property: JsonPropertyName("seeds")] SeedRange Seeds,
    [property: JsonPropertyName("shard")] ShardOf Shard)
{
    /// <summary>The value of <see cref="Type"/>: a header line, as opposed to a result or plan line.</summary>
    public const string HeaderType = "campaign";

    /// <summary>The seeds this output covers.</summary>
    [JsonIgnore]
    public SeedSet SeedSet => new(Seeds.First, Seeds.Last, Shard.Index, Shard.Count);
}

/// <summary>A seed range first..last, inclusive.</summary>
public sealed record SeedRange([property: JsonPropertyName("first")] ulong First, [property: JsonPropertyName("last")] ulong Last);

/// <summary>Shard I of N (the seeds whose index, seed − first, is I modulo N).</summary>
public sealed record ShardOf([property: JsonPropertyName("index")] int Index, [property: JsonPropertyName("count")] int Count);

/// <summary>One line of results.jsonl: one step (or the final check) of one seed on one profile.</summary>
public sealed record OpLine(
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("profile")] string Profile,
    [property: JsonPropertyName("workload")] string Workload,
    [property: JsonPropertyName("plan")] string Plan,
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("call")] string Call,
    [property: JsonPropertyName("ret")] long? Ret,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("detail")] string Detail);

/// <summary>One line of plans.jsonl: a seed's plan.</summary>
public sealed record PlanLine(
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("plan")] string Plan,
    [property: JsonPropertyName("text")] string Text);

/// <summary>
/// campaign.json: the header, the campaign file it was run from, and how far the run got. Rewritten when the
/// run starts, when it ends and when it is interrupted; --resume and merge read it.
/// </summary>
public sealed record CampaignManifest(
    [property: JsonPropertyName("header")] CampaignHeader Header,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("seeds_total")] ulong SeedsTotal,
    [property: JsonPropertyName("seeds_done")] ulong SeedsDone,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("missing"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Missing = null)
{
    public const string Running = "running";
    public const string Complete = "complete";
    public const string Interrupted = "interrupted";
    public const string Incomplete = "incomplete";
}

/// <summary>The source-generated (reflection-free) serializers of the campaign files.</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(CampaignHeader))]
[JsonSerializable(typeof(OpLine))]
[JsonSerializable(typeof(PlanLine))]
[JsonSerializable(typeof(CampaignManifest))]
internal sealed partial class CampaignJsonContext : JsonSerializerContext;

/// <summary>Reads and writes the lines of the campaign files with System.Text.Json.</summary>
public static class CampaignJson
{
    private static readonly CampaignJsonContext Context = new(Options(indented: false));

    private static readonly CampaignJsonContext Indented = new(Options(indented: true));

    // Relaxed escaping: the files are not embedded in HTML, and "+", "<" and "'" stay readable in details.
    // Reading, every member is required and only "ret" and "missing" may be null.
    private static JsonSerializerOptions Options(bool indented) => new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static string Line(OpRecord r) =>
        JsonSerializer.Serialize(new OpLine(r.Seed, r.Profile, r.Workload, r.PlanId, r.Step, r.Call, r.Ret, Outcomes.Name(r.Outcome), r.Detail), Context.OpLine);

    public static string Line(CampaignPlan p) => JsonSerializer.Serialize(new PlanLine(p.Seed, p.Id(), p.Describe()), Context.PlanLine);

    /// <summary>The writer options of the lines (the serializer's: relaxed escaping, not indented).</summary>
    internal static JsonWriterOptions WriterOptions => new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>
    /// <see cref="Line(OpRecord)"/>'s bytes, written straight into <paramref name="w"/> (no record, string or UTF-16
    /// copy per line): the streamed results file is written this way. A test holds the two to the same bytes.
    /// </summary>
    internal static void Write(Utf8JsonWriter w, OpRecord r)
    {
        w.WriteStartObject();
        w.WriteNumber("seed"u8, r.Seed);
        w.WriteString("profile"u8, r.Profile);
        if (EncodedWorkload(r.Workload) is { } workload) w.WriteString("workload"u8, workload);
        else w.WriteString("workload"u8, r.Workload);
        w.WriteString("plan"u8, r.PlanId);
        w.WriteNumber("step"u8, r.Step);
        w.WriteString("call"u8, r.Call);
        if (r.Ret is { } ret) w.WriteNumber("ret"u8, ret);
        else w.WriteNull("ret"u8);
        w.WriteString("outcome"u8, OutcomeText[(int)r.Outcome]);
        w.WriteString("detail"u8, r.Detail);
        w.WriteEndObject();
    }

    // The outcome and workload names of every record, escaped and encoded once (they are the same few words on every line).
    private static readonly JsonEncodedText[] OutcomeText =
        Enum.GetValues<Outcome>().Select(o => JsonEncodedText.Encode(Outcomes.Name(o), JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).ToArray();

    private static readonly (string Name, JsonEncodedText Text)[] WorkloadText =
        CampaignSpec.WorkloadNames.Select(w => (w.Name, JsonEncodedText.Encode(w.Name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping))).ToArray();

    /// <summary>The encoded name when <paramref name="name"/> is a workload name of <see cref="CampaignSpec.WorkloadNames"/>.</summary>
    private static JsonEncodedText? EncodedWorkload(string name)
    {
        foreach (var (n, text) in WorkloadText)
            if (ReferenceEquals(n, name) || n == name) return text;
        return null;
    }

    /// <summary><see cref="Line(CampaignPlan)"/>'s bytes, written straight into <paramref name="w"/>, with the plan's id and description given.</summary>
    internal static void Write(Utf8JsonWriter w, ulong seed, string id, string text)
    {
        w.WriteStartObject();
        w.WriteNumber("seed"u8, seed);
        w.WriteString("plan"u8, id);
        w.WriteString("text"u8, text);
        w.WriteEndObject();
    }

    public static string Line(CampaignHeader h) => JsonSerializer.Serialize(h, Context.CampaignHeader);

    public static string Text(CampaignManifest m) => JsonSerializer.Serialize(m, Indented.CampaignManifest) + "\n";

    /// <summary>True when the line is a header line (its first member is "type").</summary>
    public static bool IsHeader(string line) => line.StartsWith("{\"type\":", StringComparison.Ordinal);

    /// <exception cref="FormatException">The line is not a result line.</exception>
    public static OpRecord ParseOp(string line)
    {
        var l = Parse(line, Context.OpLine);
        var outcome = Outcomes.Parse(l.Outcome) ?? throw new FormatException($"unknown outcome '{l.Outcome}'");
        return new OpRecord(l.Seed, l.Profile, l.Workload, l.Plan, l.Step, l.Call, l.Ret, outcome, l.Detail);
    }

    /// <exception cref="FormatException">The line is not a plan line.</exception>
    public static PlanLine ParsePlan(string line) => Parse(line, Context.PlanLine);

    /// <exception cref="FormatException">The line is not a header line.</exception>
    public static CampaignHeader ParseHeader(string line)
    {
        var h = Parse(line, Context.CampaignHeader);
        return h.Type == CampaignHeader.HeaderType ? h : throw new FormatException("not a campaign header line");
    }

    /// <exception cref="FormatException">The text is not a campaign.json.</exception>
    public static CampaignManifest ParseManifest(string text) => Parse(text, Context.CampaignManifest);

    private static T Parse<T>(string text, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        try
        {
            return JsonSerializer.Deserialize(text, info) ?? throw new FormatException("null");
        }
        catch (JsonException e)
        {
            throw new FormatException(e.Message, e);
        }
    }
}
