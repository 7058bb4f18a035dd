using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Campaigns;

/// <summary>`kernelsim merge` validates its inputs: one campaign, disjoint seeds; it reports missing seeds.</summary>
public class CampaignMergeTests : TempDirTest
{
    private static string Example => RepoFiles.Path("campaigns/example.yaml");

    private string Sub(string name) => Path.Combine(Dir, name);

    private string Shard(string name, string shard, string seeds = "1..9", string? file = null)
    {
        var (code, output, err) = CliRun.Invoke("campaign", file ?? Example, "--seeds", seeds, "--shard", shard, "--jobs", "2", "--out", Sub(name));
        Assert.That(code, Is.Zero, output + err);
        return Sub(name);
    }

    [Test]
    public void Merge_TheSameShardTwice_IsRefused_Exit65()
    {
        var a = Shard("a", "0/3");
        var copy = Sub("copy");
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(a)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        var (code, output, err) = CliRun.Invoke("merge", a, copy, "--out", Sub("m"));
        Assert.That(code, Is.EqualTo(65));
        Assert.That(output, Is.Empty);
        Assert.That(err, Is.EqualTo($"kernelsim: merge refused: {a} and {copy} overlap: both have seed 1 (the same shard twice, or two runs over the same seeds)\n"));
        Assert.That(Directory.Exists(Sub("m")), Is.False, "nothing written");
    }

    [Test]
    public void Merge_OverlappingSeedRanges_AreRefused_Exit65()
    {
        var a = Shard("a", "0/1", "1..6");
        var b = Shard("b", "0/1", "5..9");
        var (code, _, err) = CliRun.Invoke("merge", a, b, "--out", Sub("m"));
        Assert.That(code, Is.EqualTo(65));
        Assert.That(err, Is.EqualTo($"kernelsim: merge refused: {a} and {b} overlap: both have seed 5 (the same shard twice, or two runs over the same seeds)\n"));
    }

    [Test]
    public void Merge_ShardsOfDifferentCampaigns_AreRefused_Exit65()
    {
        var a = Shard("a", "0/2");
        var other = Write("other.yaml", File.ReadAllText(Example).Replace("operations: 8", "operations: 7", StringComparison.Ordinal));
        var b = Shard("b", "1/2", file: other);
        var (code, _, err) = CliRun.Invoke("merge", a, b, "--out", Sub("m"));
        Assert.That(code, Is.EqualTo(65));
        Assert.That(err, Does.StartWith($"kernelsim: merge refused: {a} and {b}: different campaigns (example spec sha256 faa7e97ba06d…, example spec sha256 "));
    }

    [Test]
    public void Merge_ShardsOfDifferentKernelsimVersions_AreRefused_Exit65()
    {
        var a = Shard("a", "0/2");
        var b = Shard("b", "1/2");
        // As if b had been run by another build: its header says so in all three files.
        foreach (var f in Directory.GetFiles(b))
            File.WriteAllText(f, File.ReadAllText(f).Replace(CampaignProvenance.SimulatorVersion, "0.9.0+0123456789abcdef0123456789abcdef01234567", StringComparison.Ordinal));
        var (code, _, err) = CliRun.Invoke("merge", a, b, "--out", Sub("m"));
        Assert.That(code, Is.EqualTo(65));
        Assert.That(err, Is.EqualTo($"kernelsim: merge refused: {a} and {b}: different kernelsim versions ({CampaignProvenance.SimulatorVersion} and 0.9.0+0123456789abcdef0123456789abcdef01234567)\n"));
    }

    [Test]
    public void Merge_ARunThatHasNotEnded_IsRefused_Exit65()
    {
        var a = Shard("a", "0/2");
        var b = Shard("b", "1/2");
        var m = Path.Combine(b, "campaign.json");
        File.WriteAllText(m, File.ReadAllText(m).Replace("\"status\": \"complete\"", "\"status\": \"running\"", StringComparison.Ordinal));
        var (code, _, err) = CliRun.Invoke("merge", a, b, "--out", Sub("m"));
        Assert.That(code, Is.EqualTo(65));
        Assert.That(err, Is.EqualTo($"kernelsim: merge refused: {b}: its run has not ended (campaign.json status running: still running, or killed; continue it with --resume)\n"));
    }

    [Test]
    public void Merge_AMissingShard_IsReported_AndTheOutputSaysIncomplete()
    {
        var a = Shard("a", "0/3");
        var c = Shard("c", "2/3");
        var (code, output, err) = CliRun.Invoke("merge", a, c, "--out", Sub("m"));
        Assert.That(code, Is.Zero, output + err);
        Assert.That(output, Does.StartWith("merged 2 shard(s): 6 seeds, "));
        Assert.That(output, Does.Contain("MISSING: seeds 1..9: no input has shard(s) 1/3\nMISSING: 3 seed(s) missing in 3 range(s): 2, 5, 8\n"));
        Assert.That(err, Does.Contain("kernelsim: missing: seeds 1..9: no input has shard(s) 1/3\n"));
        var manifest = CampaignJson.ParseManifest(File.ReadAllText(Path.Combine(Sub("m"), "campaign.json")));
        Assert.That((manifest.Status, manifest.SeedsDone, manifest.SeedsTotal), Is.EqualTo(("incomplete", 6UL, 9UL)));
        Assert.That(manifest.Missing, Is.EqualTo(new[] { "seeds 1..9: no input has shard(s) 1/3", "3 seed(s) missing in 3 range(s): 2, 5, 8" }));
    }

    [Test]
    public void Merge_AnInterruptedShard_ReportsTheSeedsItDidNotRun()
    {
        var a = Shard("a", "0/2", "1..20");
        var b = Shard("b", "1/2", "1..20");
        // Shard 1 as an interrupt after 4 of its 10 seeds leaves it (seeds 2, 4, 6, 8).
        File.WriteAllLines(Path.Combine(b, "plans.jsonl"), File.ReadAllLines(Path.Combine(b, "plans.jsonl")).Take(5));
        File.WriteAllLines(Path.Combine(b, "results.jsonl"), File.ReadAllLines(Path.Combine(b, "results.jsonl")).Where(l => !l.StartsWith("{\"seed\":", StringComparison.Ordinal) || CampaignJson.ParseOp(l).Seed <= 8));
        var m = CampaignJson.ParseManifest(File.ReadAllText(Path.Combine(b, "campaign.json")));
        File.WriteAllText(Path.Combine(b, "campaign.json"), CampaignJson.Text(m with { Status = "interrupted", SeedsDone = 4, Message = "interrupted after 4 seeds" }));
        var (code, output, err) = CliRun.Invoke("merge", a, b, "--out", Sub("m"));
        Assert.That(code, Is.Zero, output + err);
        Assert.That(output, Does.Contain($"MISSING: {b}: interrupted after 4 seeds (4 of 10 seeds of 1..20, shard 1/2); continue it with --resume\n"));
        Assert.That(output, Does.Contain("MISSING: 6 seed(s) missing in 6 range(s): 10, 12, 14, 16, 18, 20\n"));
    }

    [Test]
    public void Merge_ThreeShardsInAnyOrder_EqualsTheSingleRun()
    {
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "1..9", "--jobs", "2", "--out", Sub("full")).Code, Is.Zero);
        var shards = new[] { Shard("s2", "2/3"), Shard("s0", "0/3"), Shard("s1", "1/3") };
        var (code, output, err) = CliRun.Invoke(["merge", .. shards, "--out", Sub("m")]);
        Assert.That(code, Is.Zero, output + err);
        Assert.That(output, Does.Not.Contain("MISSING"));
        foreach (var f in new[] { "results.jsonl", "plans.jsonl", "summary.csv", "chart.svg" })
            Assert.That(File.ReadAllText(Path.Combine(Sub("m"), f)), Is.EqualTo(File.ReadAllText(Path.Combine(Sub("full"), f))), f);
        var manifest = CampaignJson.ParseManifest(File.ReadAllText(Path.Combine(Sub("m"), "campaign.json")));
        Assert.That((manifest.Status, manifest.SeedsDone, manifest.Message, manifest.Missing), Is.EqualTo(("complete", 9UL, "merged 3 input(s): 9 seeds", (IReadOnlyList<string>?)null)));
    }
}
