using System.Reflection;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Campaigns;

/// <summary>Every result names the simulator version, the campaign's hash and the profiles; nothing asks git.</summary>
public class CampaignProvenanceTests : TempDirTest
{
    private static string Example => RepoFiles.Path("campaigns/example.yaml");

    [Test]
    public void SpecHash_OfTheExample_IsPinned()
    {
        Assert.That(CampaignProvenance.SpecHash(CampaignParser.ParseFile(Example)), Is.EqualTo(ExampleHash));
    }

    [Test]
    public void SpecHash_IgnoresSeedsTitleCommentsAndKeyOrder_ButNotWhatASeedDoes()
    {
        var a = CampaignParser.ParseText("a.yaml", "campaign: x\nprofiles: [4.17, 6.12]\nseeds: 1..10\nworkloads: {ramfs: 1, hostile: 2}\nfaults: {badblocks: 1}\n");
        var b = CampaignParser.ParseText("b.yaml", "# a comment\ntitle: another title\nfaults: {badblocks: 1}\nworkloads: {hostile: 2, ramfs: 1}\nseeds: 5..7\nprofiles: [4.17, 6.12]\ncampaign: x\n");
        Assert.That(CampaignProvenance.SpecHash(b), Is.EqualTo(CampaignProvenance.SpecHash(a)));
        foreach (var changed in new[]
                 {
                     "campaign: y\nprofiles: [4.17, 6.12]\nworkloads: {ramfs: 1, hostile: 2}\nfaults: {badblocks: 1}\n",
                     "campaign: x\nprofiles: [6.12, 4.17]\nworkloads: {ramfs: 1, hostile: 2}\nfaults: {badblocks: 1}\n",
                     "campaign: x\nprofiles: [4.17, 6.12]\nworkloads: {ramfs: 1, hostile: 3}\nfaults: {badblocks: 1}\n",
                     "campaign: x\nprofiles: [4.17, 6.12]\nworkloads: {ramfs: 1, hostile: 2}\nfaults: {badblocks: 2}\n",
                     "campaign: x\nprofiles: [4.17, 6.12]\noperations: 9\nworkloads: {ramfs: 1, hostile: 2}\nfaults: {badblocks: 1}\n",
                     "campaign: x\nprofiles: [4.17, 6.12]\nswarm: true\nworkloads: {ramfs: 1, hostile: 2}\nfaults: {badblocks: 1}\n",
                     "campaign: x\nmachine: {cpu: fragile}\nprofiles: [4.17, 6.12]\nworkloads: {ramfs: 1, hostile: 2}\nfaults: {badblocks: 1}\n",
                     "campaign: x\nmachine: {pmem: 32M}\nprofiles: [4.17, 6.12]\nworkloads: {ramfs: 1, hostile: 2}\nfaults: {badblocks: 1}\n",
                 })
            Assert.That(CampaignProvenance.SpecHash(CampaignParser.ParseText("c.yaml", changed)), Is.Not.EqualTo(CampaignProvenance.SpecHash(a)), changed);
    }

    [Test]
    public void SimulatorVersion_IsTheInformationalVersionWithTheCommit()
    {
        var attr = typeof(CampaignSpec).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.That(CampaignProvenance.SimulatorVersion, Is.EqualTo(attr));
        // Directory.Build.targets: the commit from .git (Source Link), else KERNELSIM_COMMIT, else "unknown".
        Assert.That(attr, Does.Match("^[0-9]+\\.[0-9]+\\.[0-9]+\\+([0-9a-f]{40}|unknown|.+)$"));
        if (Directory.Exists(RepoFiles.Path(".git")) || File.Exists(RepoFiles.Path(".git")))
            Assert.That(attr, Does.Match("\\+[0-9a-f]{40}$"), "built in a git checkout: the commit is in the version");
    }

    [Test]
    public void Header_OfACampaignRunOutsideTheRepository_NamesVersionHashAndProfiles()
    {
        // The campaign file lives in a temporary directory: no git repository around it, same provenance.
        var file = Write("example.yaml", File.ReadAllText(Example));
        var dir = Path.Combine(Dir, "out");
        Assert.That(CliRun.Invoke("campaign", file, "--seeds", "3..4", "--shard", "1/2", "--out", dir).Code, Is.Zero);
        var header = CampaignJson.ParseHeader(File.ReadLines(Path.Combine(dir, "results.jsonl")).First());
        Assert.That(header, Is.EqualTo(new CampaignHeader("campaign", "example", CampaignProvenance.SimulatorVersion, ExampleHash, header.Profiles, new SeedRange(3, 4), new ShardOf(1, 2))));
        Assert.That(header.Profiles, Is.EqualTo(new[] { "4.17", "6.12" }));
        var manifest = CampaignJson.ParseManifest(File.ReadAllText(Path.Combine(dir, "campaign.json")));
        Assert.That(CampaignJson.Line(manifest.Header), Is.EqualTo(CampaignJson.Line(header)));
        Assert.That(manifest.File, Is.EqualTo(file));
    }

    private const string ExampleHash = "faa7e97ba06d4e1da99fc3e7e4cfe042025e8604dd739b47ef67cf207b26e341";
}
