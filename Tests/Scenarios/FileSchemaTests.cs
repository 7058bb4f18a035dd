using System.Text.Json.Nodes;
using Json.Schema;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Scenarios.Schema;
using KernelSim.Scenarios.Steps;
using KernelSim.Scenarios.Yaml;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Scenarios;

/// <summary>
/// The JSON Schemas of scenario and campaign files: generated from the parsers' key tables into docs/schemas/
/// (refreshed with KERNELSIM_UPDATE_DOCS=1), named by a yaml-language-server line in every shipped file, and every
/// shipped file validates against them with a real JSON Schema validator (JsonSchema.Net) after YAML → JSON.
/// </summary>
public class FileSchemaTests
{
    private static bool Update => Environment.GetEnvironmentVariable("KERNELSIM_UPDATE_DOCS") == "1";

    private static readonly Lazy<JsonSchema> ScenarioSchema = new(() => JsonSchema.FromText(FileSchemas.Scenario()));
    private static readonly Lazy<JsonSchema> CampaignSchema = new(() => JsonSchema.FromText(FileSchemas.Campaign()));

    public static IEnumerable<string> ShippedScenarioFiles =>
        Directory.GetFiles(RepoFiles.Path("scenarios"), "*.yaml").Order(StringComparer.Ordinal).Select(f => "scenarios/" + Path.GetFileName(f));

    /// <summary>The shipped scenario files and the template's (which lives in a user's project, away from docs/schemas).</summary>
    public static IEnumerable<string> ScenarioFiles => ShippedScenarioFiles.Append("templates/content/kernelsim-nunit/scenarios/short-copy.yaml");

    public static IEnumerable<string> CampaignFiles =>
        Directory.GetFiles(RepoFiles.Path("campaigns"), "*.yaml").Order(StringComparer.Ordinal).Select(f => "campaigns/" + Path.GetFileName(f));

    /// <summary>The validator's errors for one JSON document, "location: message" (empty when valid).</summary>
    private static List<string> Errors(JsonSchema schema, JsonNode? doc)
    {
        using var json = System.Text.Json.JsonDocument.Parse(doc?.ToJsonString() ?? "null");
        var result = schema.Evaluate(json.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid) return [];
        var errors = (result.Details ?? []).Where(d => d.Errors != null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).ToList();
        return errors.Count == 0 ? ["invalid"] : errors;
    }

    private static List<string> ScenarioErrors(string yaml) => YamlToJson.Documents(yaml).SelectMany(d => Errors(ScenarioSchema.Value, d)).ToList();

    [TestCase("scenario", "docs/schemas/scenario.schema.json")]
    [TestCase("campaign", "docs/schemas/campaign.schema.json")]
    public void Schema_DocsFile_IsTheGeneratedSchema(string kind, string file)
    {
        var text = kind == "scenario" ? FileSchemas.Scenario() : FileSchemas.Campaign();
        var path = RepoFiles.Path(file);
        if (Update)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
            return;
        }
        Assert.That(File.Exists(path), Is.True, $"{file} missing: run the tests with KERNELSIM_UPDATE_DOCS=1");
        Assert.That(File.ReadAllText(path), Is.EqualTo(text), $"{file} is stale: rerun with KERNELSIM_UPDATE_DOCS=1 and review the diff");
    }

    [TestCaseSource(nameof(ScenarioFiles))]
    public void ShippedScenarioFile_ValidatesAgainstTheSchema(string file)
    {
        var docs = YamlToJson.Documents(File.ReadAllText(RepoFiles.Path(file)));
        Assert.That(docs, Is.Not.Empty);
        Assert.That(docs.SelectMany(d => Errors(ScenarioSchema.Value, d)), Is.Empty);
    }

    [TestCaseSource(nameof(CampaignFiles))]
    public void ShippedCampaignFile_ValidatesAgainstTheSchema(string file)
    {
        var docs = YamlToJson.Documents(File.ReadAllText(RepoFiles.Path(file)));
        Assert.That(docs, Has.Count.EqualTo(1));
        Assert.That(Errors(CampaignSchema.Value, docs[0]), Is.Empty);
    }

    [TestCaseSource(nameof(ShippedScenarioFiles))]
    public void ShippedScenarioFile_NamesTheSchema(string file)
    {
        Assert.That(File.ReadLines(RepoFiles.Path(file)).First(), Is.EqualTo("# yaml-language-server: $schema=../docs/schemas/scenario.schema.json"));
    }

    [TestCaseSource(nameof(CampaignFiles))]
    public void ShippedCampaignFile_NamesTheSchema(string file)
    {
        Assert.That(File.ReadLines(RepoFiles.Path(file)).First(), Is.EqualTo("# yaml-language-server: $schema=../docs/schemas/campaign.schema.json"));
    }

    [Test]
    public void Schema_RefusesWhatTheParserRefuses()
    {
        const string ok = "scenario: x\nsteps:\n  - kmalloc: {name: src, size: 8K}\n    say: hi\n  - run-work:\n  - ndctl: start-scrub\n";
        Assert.That(ScenarioErrors(ok), Is.Empty, "the valid base case");
        Assert.That(ScenarioErrors("scenario: x\nsteps:\n  - kmallok: {size: 8K}\n"), Is.Not.Empty, "unknown step");
        Assert.That(ScenarioErrors("scenario: x\nsteps:\n  - kmalloc: {name: a, size: 8K}\n    poison: {at: a}\n"), Is.Not.Empty, "two steps in one item");
        Assert.That(ScenarioErrors("scenario: x\nsteps:\n  - kmalloc: {name: a, size: 8K, colour: red}\n"), Is.Not.Empty, "unknown step argument");
        Assert.That(ScenarioErrors("scenario: x\nsteps:\n  - kmalloc: {size: 8K}\n"), Is.Not.Empty, "missing required argument");
        Assert.That(ScenarioErrors("scenario: x\nmachine: {kernel: 6.12, ram: 1G}\nsteps: []\n"), Is.Not.Empty, "unknown machine key");
        Assert.That(ScenarioErrors("scenario: x\n"), Is.Not.Empty, "steps: is required");
        Assert.That(ScenarioErrors("scenario: x\nsteps:\n  - copy: {routine: r, to: a, from: b, len: 1}\n    expect: {ret: 0, mce: {count: 1, kind: AR}}\n"), Is.Not.Empty, "unknown key under expect.mce");
        Assert.That(ScenarioErrors("scenario: x\nmachine: {trace: maybe}\nsteps: []\n"), Is.Not.Empty, "not a boolean");

        var campaign = YamlToJson.Documents("campaign: c\nprofiles: [6.12]\nworkloads: {ramfs: 1, tmpfs: 1}\n").Single();
        Assert.That(Errors(CampaignSchema.Value, campaign), Is.Not.Empty, "unknown workload");
    }

    [Test]
    public void StepTables_CoverEveryRegisteredStep()
    {
        Assert.That(ScenarioKeys.Steps.Keys, Is.EquivalentTo(StepRegistry.Default.All().Select(s => s.Name)));
        Assert.That(CampaignKeys.Workloads.Keys.Select(k => k.Name), Is.EqualTo(CampaignSpec.WorkloadNames.Select(w => w.Name)));
    }

    [Test]
    public void Parser_ReadingAnUndeclaredKey_FailsInADebugBuild()
    {
        var map = YamlMap.Of("t.yaml", new YamlDotNet.RepresentationModel.YamlMappingNode(), "machine", ScenarioKeys.Machine);
        Assert.That(map.Get("kernel"), Is.Null, "a declared key");
        var e = Assert.Throws<InvalidOperationException>(() => map.Get("ram"));
        Assert.That(e!.Message, Is.EqualTo("machine: the parser reads key 'ram', which KeyTable 'machine' does not declare"));
    }
}
