using KernelSim.Scenarios.Campaigns;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Campaigns;

/// <summary>Campaign engine: determinism across --jobs and shards, the oracle, the hostile workload, replay.</summary>
public class CampaignEngineTests
{
    private const string Small = """
        campaign: small
        machine: {dram: 64M, pmem: 16M}
        profiles: [4.17, 6.12]
        seeds: 1..30
        operations: 6
        swarm: true
        workloads: {ramfs: 2, pmem-buffered: 2, pmem-direct: 2, mmap-private: 1, mmap-shared: 1, hostile: 1}
        faults: {poison-line: 3, badblocks: 2, unmapped-page: 1, readonly-page: 1, subpage-hole: 1, poisoned-buffer: 2, mce-storm: 1, work-timing: 1}
        """;

    private static CampaignSpec Spec(string text = Small) => CampaignParser.ParseText("small.yaml", text);

    private static string Jsonl(CampaignResult r) => CampaignOutput.Jsonl(r.Records);

    [Test]
    public void Campaign_SameSeeds_Jobs1AndJobs2_GiveIdenticalJsonl()
    {
        var spec = Spec();
        var seeds = CampaignEngine.Seeds(1, 30, 0, 1);
        var one = CampaignEngine.Run(spec, seeds, jobs: 1);
        var two = CampaignEngine.Run(spec, seeds, jobs: 2);
        Assert.That(Jsonl(two), Is.EqualTo(Jsonl(one)));
        Assert.That(one.Records.Select(r => r.Seed).Distinct(), Is.EqualTo(Enumerable.Range(1, 30).Select(i => (ulong)i)));
        Assert.That(CampaignOutput.Svg(CampaignSummary.Of("small", two.Records)), Is.EqualTo(CampaignOutput.Svg(CampaignSummary.Of("small", one.Records))));
    }

    [Test]
    public void Campaign_ShardsOf3_UnionIsTheFullRun()
    {
        var spec = Spec();
        var full = CampaignEngine.Run(spec, CampaignEngine.Seeds(1, 30, 0, 1), 2);
        var parts = new List<OpRecord>();
        for (var i = 0; i < 3; i++)
        {
            var seeds = CampaignEngine.Seeds(1, 30, i, 3);
            Assert.That(seeds, Has.Count.EqualTo(10));
            parts.AddRange(CampaignEngine.Run(spec, seeds, 1).Records);
        }
        var merged = parts.OrderBy(r => r.Seed).ToList(); // OrderBy is stable: profile and step order stay
        Assert.That(CampaignOutput.Jsonl(merged), Is.EqualTo(Jsonl(full)));
    }

    [Test]
    public void Replay_OneSeed_GivesTheCampaignLinesOfThatSeed_Twice()
    {
        var file = RepoFiles.Path("campaigns/example.yaml");
        var spec = CampaignParser.ParseFile(file);
        var full = CampaignEngine.Run(spec, CampaignEngine.Seeds(20, 25, 0, 1), 2);
        var expected = CampaignOutput.Jsonl(full.Records.Where(r => r.Seed == 23));
        var (code, out1, err1) = CliRun.Invoke("replay", "23", "--campaign", file, "--trace", "text");
        var (_, out2, err2) = CliRun.Invoke("replay", "23", "--campaign", file, "--trace", "text");
        Assert.That(code, Is.Zero);
        Assert.That(out1, Is.EqualTo(expected));
        Assert.That(out2, Is.EqualTo(out1));
        Assert.That(err2, Is.EqualTo(err1), "the traces are identical too");
        Assert.That(err2, Does.Contain("# trace on Linux 6.12"));
    }

    [Test]
    public void Oracle_WorkloadThatCorruptsTheUserBuffer_IsSilentCorruption()
    {
        var spec = Spec();
        var plan = new CampaignPlan(5, WorkloadKind.RamfsRw, false, [], [new PlanStep(StepKind.Pread, Off: 0x100, Len: 4096, Pos: 8192)]);
        var clean = SeedRunner.Run(spec, plan, KernelVersion.Parse("6.12"));
        Assert.That(clean.Records.Select(r => r.Outcome), Is.EqualTo(new[] { Outcome.Complete, Outcome.Complete }));

        // A deliberately corrupting "kernel": after the read returns, flip one byte the read claimed to deliver.
        var bad = SeedRunner.Run(spec, plan, KernelVersion.Parse("6.12"), afterStep: ctx =>
        {
            var va = ctx.Buf.Value + 0x100 + 17;
            var pa = new PhysAddr((ctx.Process.Mm.PfnAt(va)!.Value << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(va));
            Span<byte> b = stackalloc byte[1];
            ctx.Machine.Phys.PeekBytes(pa, b);
            b[0] ^= 0x5a;
            ctx.Machine.Phys.PokeBytes(pa, b);
        });
        var final = bad.Records[^1];
        Assert.That(final.Call, Is.EqualTo("final-check"));
        Assert.That(final.Outcome, Is.EqualTo(Outcome.SilentCorruption));
        Assert.That(final.Detail, Does.StartWith("user buffer buf+0x111 = "));
    }

    [Test]
    public void Oracle_CorruptedFileAfterAWrite_IsSilentCorruption()
    {
        var spec = Spec();
        var plan = new CampaignPlan(6, WorkloadKind.RamfsRw, false, [], [new PlanStep(StepKind.Pwrite, Off: 0, Len: 100, Pos: 4000)]);
        var bad = SeedRunner.Run(spec, plan, KernelVersion.Parse("6.12"), afterStep: ctx =>
        {
            // Corrupt byte 4050 of the file as the page cache holds it.
            var fs = ctx.Machine.Vfs.Mounts.OfType<KernelSim.Fs.RamFs>().Single();
            var folio = fs.Lookup("data")!.Mapping!.Folios.First(f => f.Index == 0);
            var pa = new PhysAddr((folio.Pfn << PageDefs.PAGE_SHIFT) + 4050);
            ctx.Machine.Phys.PokeBytes(pa, [(byte)(ctx.Process.Peek(new UserPtr(ctx.Buf.Value + 50), 1)[0]!.Value ^ 1)]);
        });
        Assert.That(bad.Records[0].Outcome, Is.EqualTo(Outcome.Complete));
        Assert.That(bad.Records[^1].Outcome, Is.EqualTo(Outcome.SilentCorruption));
        Assert.That(bad.Records[^1].Detail, Does.StartWith("file offset 4050 = "));
    }

    [Test]
    public void Oracle_ShortRead_ComparesOnlyTheBytesItClaims()
    {
        // The third page of the read lands in an unmapped page: the read is short and nothing is flagged.
        var spec = Spec();
        var plan = new CampaignPlan(7, WorkloadKind.RamfsRw, false, [],
            [new PlanStep(StepKind.UnmapPage, Off: 0x2000), new PlanStep(StepKind.Pread, Off: 0x800, Len: 8192, Pos: 0)]);
        var run = SeedRunner.Run(spec, plan, KernelVersion.Parse("6.12"));
        Assert.That(run.Records[1].Ret, Is.EqualTo(6144));
        Assert.That(run.Records[1].Outcome, Is.EqualTo(Outcome.ShortCount));
        Assert.That(run.Records[^1].Outcome, Is.EqualTo(Outcome.Complete));
    }

    [Test]
    public void Hostile_300Seeds_NoSimulatorBug()
    {
        var spec = Spec("""
            campaign: hostile
            profiles: [4.17, 6.12]
            operations: 12
            workloads: {hostile: 1}
            """);
        var result = CampaignEngine.Run(spec, CampaignEngine.Seeds(1, 300, 0, 1), 2);
        var bugs = result.Records.Where(r => r.Outcome == Outcome.SimBug).Select(r => $"seed {r.Seed} {r.Profile} {r.Call}: {r.Detail}").ToList();
        Assert.That(bugs, Is.Empty);
        Assert.That(result.Records.Count(r => r.Workload == "hostile"), Is.GreaterThan(300 * 2 * 6));
    }

    [Test]
    public void Virtiofs_HostTruncations_NoSimulatorBugOrCorruption_And417HasNoVirtiofs()
    {
        var spec = CampaignParser.ParseFile(RepoFiles.Path("campaigns/virtiofs.yaml"));
        var result = CampaignEngine.Run(spec, CampaignEngine.Seeds(1, 60, 0, 1), 2);
        Assert.That(result.Records.Where(r => r.Outcome is Outcome.SimBug or Outcome.SilentCorruption).Select(r => $"seed {r.Seed} {r.Profile}: {r.Detail}"), Is.Empty);
        var old = result.Records.Where(r => r.Profile == "4.17").ToList();
        Assert.That(old, Has.Count.EqualTo(60));
        Assert.That(old.Select(r => (r.Call, r.Ret, r.Outcome)).Distinct(), Is.EqualTo(new[] { ("setup: open", (long?)-2, Outcome.OtherErrno) }));
        Assert.That(result.Records.Count(r => r.Profile == "6.12" && r.Call.StartsWith("host-truncate", StringComparison.Ordinal) && r.Detail == "applied 1"), Is.GreaterThan(10));
        Assert.That(result.Records.Any(r => r.Profile == "6.12" && r.Outcome == Outcome.Livelock), Is.True, "a read of a truncated DAX page livelocks (UpstreamAsyncLivelock)");
    }

    [Test]
    public void Plan_SameSeed_SamePlanText()
    {
        var spec = Spec();
        var first = PlanGenerator.Generate(spec, 12345).Describe();
        var again = PlanGenerator.Generate(spec, 12345).Describe();
        Assert.That(again, Is.EqualTo(first));
        Assert.That(PlanGenerator.Generate(spec, 1).Describe(), Is.Not.EqualTo(PlanGenerator.Generate(spec, 2).Describe()));
    }
}
