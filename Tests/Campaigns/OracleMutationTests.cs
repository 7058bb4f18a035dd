using System.Collections.Concurrent;
using KernelSim.Kernel;
using KernelSim.Profiles;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// Mutation tests of the campaign oracle: each plants one simulator defect through a composition seam
/// (<see cref="CampaignSpec.ConfigureMachine"/> → MachineBuilder; <see cref="SimulatorDefects"/>), runs the seeds of a
/// small campaign on Linux 6.12 until one shows silent corruption, and checks that the same seed on the sound
/// simulator does not. The table in docs/campaigns.md ("Proving the oracle") is what these runs produce.
/// </summary>
public class OracleMutationTests
{
    /// <summary>One planted defect: the campaign it runs under and how it is planted.</summary>
    public sealed record Mutation(string Defect, string Seam, string Workload, string Faults, Action<MachineBuilder> Plant)
    {
        public override string ToString() => Defect;
    }

    /// <summary>What a mutated run showed: the first silent corruption.</summary>
    public sealed record Catch(ulong Seed, int Step, string Call, string FirstDifference);

    public static readonly Mutation[] Mutations =
    [
        new("copy engine: a short copy reports one byte more than it stored", "ICopyRoutines", "ramfs", "unmapped-page: 1",
            b => SimulatorDefects.Copy(b, SimulatorDefects.CopyDefect.WrongResidue)),
        new("copy engine: drops the middle byte of each copy to user space", "ICopyRoutines", "ramfs", "",
            b => SimulatorDefects.Copy(b, SimulatorDefects.CopyDefect.DroppedByte)),
        new("copy engine: stores one byte past the count", "ICopyRoutines", "ramfs", "",
            b => SimulatorDefects.Copy(b, SimulatorDefects.CopyDefect.WritePastCount)),
        new("media: hides poison from the CPU's loads", "IMemoryMedia", "pmem-direct", "poison-line: 1", SimulatorDefects.HidePoison),
        new("media: reads stale data (a load returns what the frame held at its first load)", "IMemoryMedia", "pmem-direct", "",
            SimulatorDefects.StaleMedia),
        new("page cache: serves a stale page (the copy taken at its first lookup)", "IPageCache", "ramfs", "", SimulatorDefects.StalePageCache),
        new("media: clear-error does nothing (the lines stay poisoned, the clear reports success)", "IMemoryMedia", "pmem-direct", "badblocks: 1",
            SimulatorDefects.ClearPoisonDoesNothing),
        new("media: clear-error clears the whole page around the range", "IMemoryMedia", "pmem-direct", "badblocks: 1, poison-line: 1",
            SimulatorDefects.ClearPoisonWholePage),
        new("block device: completes a failed bio with BLK_STS_OK", "IBlockDeviceOps (InterceptDisk)", "pmem-direct", "badblocks: 1",
            SimulatorDefects.BioSuccessOnError),
        new("BTT: completes a failed bio with BLK_STS_OK", "IBlockDeviceOps (InterceptDisk pmem0s)", "sector", "badblocks: 1, poison-line: 1",
            SimulatorDefects.BttSuccessOnError),
        new("BTT: drops writes (reports them done; reads return the stale block)", "IBlockDeviceOps (InterceptDisk pmem0s)", "sector", "",
            SimulatorDefects.BttDropsWrites),
        new("media: hides poison from the CPU's loads (device-dax mapping)", "IMemoryMedia", "devdax", "poison-line: 1", SimulatorDefects.HidePoison),
        new("FUSE daemon: maps each DAX range one page further into the file", "IVirtioFsBackend", "virtiofs", "",
            SimulatorDefects.DaemonWrongBytes),
    ];

    /// <summary>Seeds tried per defect before giving up.</summary>
    private const ulong MaxSeeds = 40;

    private static readonly KernelVersion Profile = KernelVersion.Parse("6.12");
    private static readonly ConcurrentDictionary<string, Catch?> Caught = new();

    private static CampaignSpec Spec(Mutation m) => CampaignParser.ParseText("mutation.yaml", $$"""
        campaign: mutation
        machine: {dram: 64M, pmem: 16M}
        profiles: [6.12]
        operations: 8
        workloads: {{{m.Workload}}: 1}
        {{(m.Faults.Length > 0 ? $"faults: {{{m.Faults}}}" : "")}}
        """);

    private static SeedRun RunSeed(CampaignSpec spec, ulong seed) => SeedRunner.Run(spec, PlanGenerator.Generate(spec, seed), Profile);

    /// <summary>The first silent corruption of the mutated runs (seeds 1, 2, …), or null.</summary>
    public static Catch? FirstCatch(Mutation m) => Caught.GetOrAdd(m.Defect, _ =>
    {
        var spec = Spec(m) with { ConfigureMachine = m.Plant };
        for (ulong seed = 1; seed <= MaxSeeds; seed++)
        {
            var r = RunSeed(spec, seed).Records.FirstOrDefault(r => r.Outcome == Outcome.SilentCorruption);
            if (r != null) return new Catch(seed, r.Step, r.Call, r.Detail.Split("; ")[0]);
        }
        return null;
    });

    [TestCaseSource(nameof(Mutations))]
    public void Defect_IsCaughtAsSilentCorruption_AndTheSoundSimulatorIsNot(Mutation m)
    {
        var c = FirstCatch(m);
        Assert.That(c, Is.Not.Null, $"no seed in 1..{MaxSeeds} caught '{m.Defect}'");
        var sound = RunSeed(Spec(m), c!.Seed);
        Assert.That(sound.Records.Where(r => r.Outcome is Outcome.SilentCorruption or Outcome.SimBug).Select(r => r.Detail), Is.Empty,
            $"seed {c.Seed} is clean without the defect");
        Assert.That(sound.Records.First(r => r.Step == c.Step).Call, Is.EqualTo(c.Call));
    }

    /// <summary>The mutation table of docs/campaigns.md, as the runs produce it.</summary>
    public static string Table()
    {
        var lines = new List<string>
        {
            "| planted defect | seam | workload (faults) | caught as | seed | step | first differing byte |",
            "|---|---|---|---|---|---|---|",
        };
        foreach (var m in Mutations)
        {
            var c = FirstCatch(m);
            var w = m.Faults.Length > 0 ? $"{m.Workload} ({string.Join(", ", m.Faults.Split(',').Select(f => f.Split(':')[0].Trim()))})" : m.Workload;
            lines.Add(c == null
                ? $"| {m.Defect} | `{m.Seam}` | {w} | **not caught** | – | – | – |"
                : $"| {m.Defect} | `{m.Seam}` | {w} | silent-corruption | {c.Seed} | {c.Step} `{c.Call}` | {c.FirstDifference} |");
        }
        return string.Join("\n", lines) + "\n";
    }

    private const string Begin = "<!-- mutation-table:begin -->\n";
    private const string End = "<!-- mutation-table:end -->";

    [Test]
    public void CampaignsDoc_MutationTable_IsWhatTheTestsProduce()
    {
        var table = Table();
        var path = RepoFiles.Path("docs/campaigns.md");
        var doc = File.ReadAllText(path);
        var b = doc.IndexOf(Begin, StringComparison.Ordinal);
        var e = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.That(b, Is.GreaterThanOrEqualTo(0), "docs/campaigns.md has no mutation-table block");
        Assert.That(e, Is.GreaterThan(b));
        if (Environment.GetEnvironmentVariable("KERNELSIM_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, doc[..(b + Begin.Length)] + table + doc[e..]);
            return;
        }
        Assert.That(doc[(b + Begin.Length)..e], Is.EqualTo(table), "docs/campaigns.md is stale: rerun with KERNELSIM_UPDATE_DOCS=1");
        Assert.That(table, Does.Not.Contain("not caught"));
    }
}
