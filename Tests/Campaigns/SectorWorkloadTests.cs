using KernelSim.Profiles;
using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// The <c>sector</c> campaign workload (O_DIRECT sectors on /dev/pmem0s through the BTT): the sound simulator shows no
/// simulator bug and no silent corruption over a few hundred seeds, the faults take effect, and a seed is deterministic.
/// </summary>
public class SectorWorkloadTests
{
    private static CampaignSpec Spec() => CampaignParser.ParseText("sector.yaml", """
        campaign: sector
        machine: {dram: 64M, pmem: 16M}
        profiles: [6.12]
        operations: 10
        workloads: {sector: 1}
        faults: {poison-line: 2, badblocks: 2, unmapped-page: 1}
        """);

    private static readonly KernelVersion Profile = KernelVersion.Parse("6.12");

    [Test]
    public void ThreeHundredSeeds_NoSimulatorBug_NoSilentCorruption_AndTheBttPathsAreReached()
    {
        var spec = Spec();
        var records = new List<OpRecord>();
        for (ulong seed = 1; seed <= 300; seed++)
            records.AddRange(SeedRunner.Run(spec, PlanGenerator.Generate(spec, seed), Profile).Records);
        var bad = records.Where(r => r.Outcome is Outcome.SimBug or Outcome.SilentCorruption).Take(3).Select(r => $"seed {r.Seed} step {r.Step} {r.Call}: {r.Outcome} {r.Detail}");
        Assert.That(bad, Is.Empty);
        Assert.That(records.All(r => r.Workload == "sector"), Is.True);
        Assert.That(records.Count(r => r.Outcome == Outcome.Eio && r.Call.StartsWith("pread", StringComparison.Ordinal)), Is.GreaterThan(10), "reads of bad blocks fail with EIO");
        Assert.That(records.Count(r => r.Outcome == Outcome.Injected && r.Call.StartsWith("badblocks", StringComparison.Ordinal)), Is.GreaterThan(10), "ndctl inject-error on the namespace");
        Assert.That(records.Count(r => r.Outcome == Outcome.Complete && r.Call.StartsWith("pwrite", StringComparison.Ordinal)), Is.GreaterThan(100));
        Assert.That(records.Count(r => r.Outcome == Outcome.OtherErrno && r.Ret == -22), Is.GreaterThan(5), "misaligned O_DIRECT: EINVAL");
    }

    [Test]
    public void SameSeed_SameRecords()
    {
        var spec = Spec();
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var a = CampaignOutput.Jsonl(SeedRunner.Run(spec, PlanGenerator.Generate(spec, seed), Profile).Records);
            var b = CampaignOutput.Jsonl(SeedRunner.Run(spec, PlanGenerator.Generate(spec, seed), Profile).Records);
            Assert.That(b, Is.EqualTo(a), $"seed {seed}");
        }
    }
}
