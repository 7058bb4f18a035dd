using KernelSim.Profiles;
using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// The <c>devdax</c> campaign workload (loads and stores through a MAP_SHARED mapping of /dev/dax0.0): no simulator bug
/// and no silent corruption over a few hundred seeds on a release of each si_addr rule, poisoned loads end in SIGBUS
/// BUS_MCEERR_AR, and a seed is deterministic.
/// </summary>
public class DevdaxWorkloadTests
{
    private static CampaignSpec Spec() => CampaignParser.ParseText("devdax.yaml", """
        campaign: devdax
        machine: {dram: 64M, pmem: 16M}
        profiles: [5.10, 6.12]
        operations: 10
        workloads: {devdax: 1}
        faults: {poison-line: 1, unmapped-page: 1}
        """);

    [TestCase("5.10")]
    [TestCase("6.12")]
    public void TwoHundredSeeds_NoSimulatorBug_NoSilentCorruption_PoisonedLoadsSigbusAr(string kernel)
    {
        var spec = Spec();
        var profile = KernelVersion.Parse(kernel);
        var records = new List<OpRecord>();
        for (ulong seed = 1; seed <= 200; seed++)
            records.AddRange(SeedRunner.Run(spec, PlanGenerator.Generate(spec, seed), profile).Records);
        var bad = records.Where(r => r.Outcome is Outcome.SimBug or Outcome.SilentCorruption or Outcome.OtherErrno).Take(3).Select(r => $"seed {r.Seed} step {r.Step} {r.Call}: {r.Outcome} {r.Detail}");
        Assert.That(bad, Is.Empty);
        Assert.That(records.All(r => r.Workload == "devdax"), Is.True);
        Assert.That(records.Count(r => r.Outcome == Outcome.SigbusAr && r.Call.StartsWith("load", StringComparison.Ordinal)), Is.GreaterThan(5), "loads over poison: SIGBUS BUS_MCEERR_AR");
        Assert.That(records.Count(r => r.Outcome == Outcome.Injected), Is.GreaterThan(100), "poison lines injected into the device");
        Assert.That(records.Count(r => r.Outcome == Outcome.Complete && r.Call.StartsWith("store", StringComparison.Ordinal)), Is.GreaterThan(300));
    }

    [Test]
    public void SameSeed_SameRecords()
    {
        var spec = Spec();
        var profile = KernelVersion.Parse("6.12");
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var a = CampaignOutput.Jsonl(SeedRunner.Run(spec, PlanGenerator.Generate(spec, seed), profile).Records);
            var b = CampaignOutput.Jsonl(SeedRunner.Run(spec, PlanGenerator.Generate(spec, seed), profile).Records);
            Assert.That(b, Is.EqualTo(a), $"seed {seed}");
        }
    }
}
