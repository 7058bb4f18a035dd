using KernelSim.Mm;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// The campaign workers' <see cref="FramePool"/>: each seed's machines are released after their final checks and the next
/// machines reuse their frame storage; the records are byte for byte those of machines on fresh storage.
/// </summary>
public class CampaignFramePoolTests
{
    [Test]
    public void ExampleSeeds_OnOnePool_GiveTheRecordsOfFreshMachines()
    {
        var spec = CampaignParser.ParseFile(RepoFiles.Path("campaigns/example.yaml"));
        var pool = new FramePool();
        var pooled = new List<OpRecord>();
        var fresh = new List<OpRecord>();
        for (var seed = 1UL; seed <= 40; seed++)
        {
            pooled.AddRange(CampaignEngine.RunSeedSafely(spec, seed, pool).Records);
            fresh.AddRange(CampaignEngine.RunSeed(spec, seed).Records);
        }
        Assert.That(pool.Reused, Is.GreaterThan(80), "every machine after the first reuses released storage");
        Assert.That(pool.Bytes, Is.GreaterThan(0), "the last seed's machines were released into the pool");
        Assert.That(CampaignOutput.Jsonl(pooled), Is.EqualTo(CampaignOutput.Jsonl(fresh)));
        Assert.That(pooled.Select(r => r.Seed).Distinct().Count(), Is.EqualTo(40));
    }

    [Test]
    public void TheStreamedRun_WhoseWorkersUsePools_GivesTheRecordsOfFreshMachines()
    {
        var spec = CampaignParser.ParseFile(RepoFiles.Path("campaigns/hostile.yaml"));
        var seeds = CampaignEngine.Seeds(1, 30, 0, 1);
        var streamed = CampaignEngine.Run(spec, seeds, jobs: 2);
        var fresh = seeds.SelectMany(s => CampaignEngine.RunSeed(spec, s).Records).ToList();
        Assert.That(CampaignOutput.Jsonl(streamed.Records), Is.EqualTo(CampaignOutput.Jsonl(fresh)));
    }
}
