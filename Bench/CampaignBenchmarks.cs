using BenchmarkDotNet.Attributes;
using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Bench;

/// <summary>
/// Campaign throughput: one seed of campaigns/example.yaml-like plans run on one profile (boot a machine with
/// its devices, set up the workload, run 8 operations plus faults, the oracle and the final check). The
/// reciprocal of the mean is scenarios per second per core, set beside a QEMU emulated-NVDIMM test case
/// (tens of seconds to minutes each) in docs/campaigns.md.
/// </summary>
[MemoryDiagnoser]
public class CampaignBenchmarks
{
    private const string Text = """
        campaign: bench
        machine: {dram: 64M, pmem: 16M}
        profiles: [6.12]
        operations: 8
        swarm: true
        workloads: {ramfs: 1, pmem-buffered: 1, pmem-direct: 1, fsdax: 1, mmap-private: 1, hostile: 1}
        faults: {poison-line: 3, badblocks: 2, unmapped-page: 1, poisoned-buffer: 2, mce-storm: 1}
        """;

    private CampaignSpec _spec = null!;
    private ulong _seed;

    [Params("ramfs", "pmem-buffered", "pmem-direct", "fsdax", "mmap-private", "hostile")]
    public string Workload = "ramfs";

    [GlobalSetup]
    public void Setup()
    {
        _spec = CampaignParser.ParseText("bench.yaml", Text);
        // The first seed that draws this workload (plans are deterministic).
        for (_seed = 1; PlanGenerator.Generate(_spec, _seed).Workload != Parse(Workload); _seed++)
        {
        }
    }

    private static WorkloadKind Parse(string name) => Array.Find(CampaignSpec.WorkloadNames, w => w.Name == name).Kind;

    /// <summary>One seed on one profile.</summary>
    [Benchmark]
    public int Seed() => CampaignEngine.RunSeed(_spec, _seed).Records.Count;
}
