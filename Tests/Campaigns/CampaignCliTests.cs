using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Campaigns;

/// <summary>`kernelsim campaign`, `shrink` and the campaign file format: errors, outputs, docs.</summary>
public class CampaignCliTests : TempDirTest
{
    private static string Example => RepoFiles.Path("campaigns/example.yaml");

    private static string Pmem10k => RepoFiles.Path("campaigns/pmem-10k.yaml");

    [Test]
    public void Shrink_Seed46_WritesASmallerScenarioThatRunPasses()
    {
        var spec = CampaignParser.ParseFile(Example);
        var original = PlanGenerator.Generate(spec, 46);
        Assert.That(original.Workload, Is.EqualTo(WorkloadKind.RamfsRw));
        var path = Path.Combine(Dir, "s46.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "46", "--campaign", Example, "--out", path);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.Contain("# seed 46 on Linux 4.17: worst outcome panic; 9 -> 2 steps"));
        var text = File.ReadAllText(path);
        Assert.That(text, Does.Contain("  - poison: {at: buf+0xd380}\n  - pwrite: {fd: f, buf: buf+0xb9c2, len: 13577, pos: 2229}\n    expect:\n      ret: noreturn\n      machine: panicked\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, output + runErr);
        Assert.That(output, Does.Contain("PASS example-seed-46"));
    }

    [TestCase(28)]
    [TestCase(32)]
    [TestCase(65)]
    [TestCase(70)]
    public void Shrink_InterestingSeeds_ScenarioReproducesTheOutcome(int seed)
    {
        var path = Path.Combine(Dir, $"s{seed}.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--campaign", Example, "--out", path);
        Assert.That(code, Is.Zero, err);
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, File.ReadAllText(path) + output + runErr);
    }

    [Test]
    public void Shrink_PmemDirectSeed16_WritesPoisonPmemAndThePanickingPreadv()
    {
        var spec = CampaignParser.ParseFile(Example);
        Assert.That(PlanGenerator.Generate(spec, 16).Workload, Is.EqualTo(WorkloadKind.PmemDirect));
        var path = Path.Combine(Dir, "s16.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "16", "--campaign", Example, "--out", path);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.Contain("# seed 16 on Linux 4.17: worst outcome panic; 10 -> 2 steps"));
        var text = File.ReadAllText(path);
        Assert.That(text, Does.Contain("  pmem: {bus: nfit, namespaces: [{size: 16M, mode: fsdax}]}\n"));
        Assert.That(text, Does.Contain("  - open: {path: /dev/pmem0, flags: O_RDWR|O_DIRECT, as: f}\n"));
        Assert.That(text, Does.Contain("  - poison-pmem: {device: pmem0, offset: 0x4000}\n"));
        Assert.That(text, Does.Contain("  - preadv: {fd: f, iov: [{at: buf+0x1200, len: 3584}], pos: 17408}\n    expect:\n      ret: noreturn\n      machine: panicked\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);
        Assert.That(output, Does.Contain("PASS example-seed-16"));
    }

    [Test]
    public void Shrink_FsdaxSeed44_WritesTheNdctlInjectionAndTheEioPwritev()
    {
        var spec = CampaignParser.ParseFile(Pmem10k);
        Assert.That(PlanGenerator.Generate(spec, 44).Workload, Is.EqualTo(WorkloadKind.Fsdax));
        var path = Path.Combine(Dir, "p44.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "44", "--campaign", Pmem10k, "--out", path);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.Contain("# seed 44 on Linux 4.17: worst outcome EIO; 11 -> 2 steps"));
        var text = File.ReadAllText(path);
        Assert.That(text, Does.Contain("  filesystems: [{device: pmem0, mount: /mnt/pmem, dax: always}]\n"));
        Assert.That(text, Does.Contain(
            "  - open: {path: /mnt/pmem/data, flags: O_RDWR|O_CREAT, as: f}\n    expect: {signal: none}\n" +
            "  - pwrite: {fd: f, buf: buf, len: 65536, pos: 0}\n    expect: {ret: 65536}\n" +
            "  - ndctl: inject-error namespace0.0 --block=46 --count=7\n" +
            "  - pwritev: {fd: f, iov: [{at: buf+0x78ce, len: 2007}, {at: buf+0x3f63, len: 489}, {at: buf+0xa85a, len: 1874}, {at: buf+0x1447, len: 3636}], pos: 21781}\n" +
            "    expect:\n      errno: EIO\n      signal: none\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);
        Assert.That(output, Does.Contain("PASS pmem-10k-seed-44"));
    }

    [Test]
    public void Shrink_FsdaxSeed71_WritesPoisonFileAndThePanickingPread()
    {
        var path = Path.Combine(Dir, "p71.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "71", "--campaign", Pmem10k, "--out", path);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.Contain("# seed 71 on Linux 4.17: worst outcome panic; 9 -> 2 steps"));
        var text = File.ReadAllText(path);
        Assert.That(text, Does.Contain("  - poison-file: {path: /mnt/pmem/data, offset: 0xc00}\n  - pread: {fd: f, buf: buf+0xd55, len: 7498, pos: 574}\n    expect:\n      ret: noreturn\n      machine: panicked\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);
    }

    [TestCase("campaigns/example.yaml", 12)] // pmem-buffered, panic
    [TestCase("campaigns/example.yaml", 36)] // pmem-buffered, short read (a read-only buffer page)
    [TestCase("campaigns/example.yaml", 9)] // fsdax, EFAULT
    [TestCase("campaigns/pmem-10k.yaml", 66)] // fsdax, badblocks, panic
    [TestCase("campaigns/pmem-10k.yaml", 59)] // pmem-buffered, livelock
    [TestCase("campaigns/virtiofs.yaml", 1)] // virtiofs, host-truncate, livelock
    [TestCase("campaigns/virtiofs.yaml", 3)] // virtiofs on 4.17: no virtio-fs, open fails
    public void Shrink_StorageWorkloads_ScenarioReproducesTheOutcome(string campaign, int seed)
    {
        var path = Path.Combine(Dir, $"c{seed}.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--campaign", RepoFiles.Path(campaign), "--out", path);
        Assert.That(code, Is.Zero, err);
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, File.ReadAllText(path) + output + runErr);
        Assert.That(output, Does.Contain("1 scenario(s): 1 passed, 0 failed"));
    }

    [Test]
    public void Shrink_HostileWorkload_ExplainsItCannotWriteAScenario_Exit3()
    {
        var spec = CampaignParser.ParseFile(Example);
        Assert.That(PlanGenerator.Generate(spec, 1).Workload, Is.EqualTo(WorkloadKind.Hostile));
        var (code, _, err) = CliRun.Invoke("shrink", "1", "--campaign", Example);
        Assert.That(code, Is.EqualTo(3));
        Assert.That(err, Does.Contain("the hostile workload cannot be written as a scenario (its steps are raw system calls)"));
    }

    [TestCase("campaign: x\nprofiles: [6.12]\nworkloads: {ramfs: 1}\nfaults: {poison-lines: 1}\n", "x.yaml:4:10: faults: unknown key 'poison-lines' (expected one of: poison-line, badblocks,")]
    [TestCase("campaign: x\nprofiles: [6.12, 9.x]\nworkloads: {ramfs: 1}\n", "x.yaml:2:18: profiles: '9.x' is not a kernel release")]
    [TestCase("campaign: x\nprofiles: [6.12]\nworkloads: {ramfs: -3}\n", "x.yaml:3:20: workloads.ramfs: a weight between 0 and 1000")]
    [TestCase("campaign: x\nprofiles: [6.12]\nseeds: 9..3\nworkloads: {ramfs: 1}\n", "x.yaml:3:8: seeds: '9..3' is not a range A..B")]
    [TestCase("campaign: x\nprofiles: [6.12]\nworkloads: {ramfs: 1}\nmachine: {pmem: 3M}\n", "x.yaml:4:17: machine.pmem: a multiple of 2M")]
    [TestCase("campaign: x\nprofiles: [6.12]\nworkloads: {ramfs: 1}\noperations: 0\n", "x.yaml:4:13: operations: between 1 and 64 per seed")]
    [TestCase("campaign: x\nprofiles: [6.12]\nworkload: {ramfs: 1}\n", "x.yaml:1:1: campaign file: missing required key 'workloads'")]
    [TestCase("campaign: x\n  profiles: [6.12\n", "x.yaml:2:")]
    public void Campaign_BadFile_Exit65WithLineAndColumn(string text, string message)
    {
        var path = Write("x.yaml", text);
        var (code, output, err) = CliRun.Invoke("campaign", path);
        Assert.That(code, Is.EqualTo(65));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.StartWith($"kernelsim: {Path.Combine(Dir, message)}"));
    }

    [TestCase("--seeds", "5..1", "--seeds '5..1'")]
    [TestCase("--shard", "3/3", "--shard '3/3'")]
    [TestCase("--jobs", "0", "--jobs '0': expected a whole number, 1 or more")]
    [TestCase("--progress", "fancy", "Argument 'fancy' not recognized")]
    public void Campaign_BadOption_Exit2(string option, string value, string message)
    {
        var (code, _, err) = CliRun.Invoke("campaign", Example, option, value);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(message));
    }

    [Test]
    public void Campaign_Out_WritesJsonlCsvAndSvg()
    {
        var dir = Path.Combine(Dir, "out");
        var (code, output, err) = CliRun.Invoke("campaign", Example, "--seeds", "1..12", "--jobs", "2", "--out", dir);
        Assert.That(code, Is.Zero, output + err);
        var lines = File.ReadAllLines(Path.Combine(dir, "results.jsonl"));
        Assert.That(lines[0], Does.Match("^\\{\"type\":\"campaign\",\"campaign\":\"example\",\"kernelsim\":\"[^\"]+\",\"spec_sha256\":\"[0-9a-f]{64}\",\"profiles\":\\[\"4.17\",\"6.12\"\\],\"seeds\":\\{\"first\":1,\"last\":12\\},\"shard\":\\{\"index\":0,\"count\":1\\}\\}$"));
        Assert.That(lines[1], Does.Match("^\\{\"seed\":1,\"profile\":\"4.17\",\"workload\":\"hostile\",\"plan\":\"[0-9a-f]{16}\",\"step\":0,"));
        Assert.That(lines.Skip(1).Select(l => l[..l.IndexOf(",\"profile\"", StringComparison.Ordinal)]).Distinct().Count(), Is.EqualTo(12));
        var plans = File.ReadAllLines(Path.Combine(dir, "plans.jsonl"));
        Assert.That(plans, Has.Length.EqualTo(13));
        Assert.That(plans[0], Is.EqualTo(lines[0]));
        var csv = File.ReadAllText(Path.Combine(dir, "summary.csv"));
        Assert.That(csv, Does.StartWith("profile,outcome,operations,seeds\n4.17,complete,"));
        var svg = File.ReadAllText(Path.Combine(dir, "chart.svg"));
        Assert.That(svg, Does.StartWith("<svg width=\"900\" height=\"230\" version=\"1.1\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns=\"http://www.w3.org/2000/svg\">\n"));
        Assert.That(svg, Does.Contain(">Linux 6.12</text>"));
        var manifest = CampaignJson.ParseManifest(File.ReadAllText(Path.Combine(dir, "campaign.json")));
        Assert.That((manifest.Status, manifest.SeedsDone, manifest.SeedsTotal, manifest.Message), Is.EqualTo(("complete", 12UL, 12UL, "complete: 12 seeds")));
        Assert.That(output, Does.EndWith($"wrote {Path.Combine(dir, "results.jsonl")}, plans.jsonl, campaign.json, summary.csv, chart.svg, report.html\n"));
    }

    [Test]
    public void Merge_TwoShards_EqualsTheFullRun()
    {
        string Sub(string n) => Path.Combine(Dir, n);
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "1..10", "--jobs", "1", "--out", Sub("full")).Code, Is.Zero);
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "1..10", "--shard", "0/2", "--out", Sub("s0")).Code, Is.Zero);
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "1..10", "--shard", "1/2", "--out", Sub("s1")).Code, Is.Zero);
        var (code, output, err) = CliRun.Invoke("merge", Sub("s1"), Sub("s0"), "--out", Sub("merged"));
        Assert.That(code, Is.Zero, output + err);
        Assert.That(output, Does.StartWith("merged 2 shard(s): 10 seeds, "));
        foreach (var f in new[] { "results.jsonl", "plans.jsonl", "summary.csv" })
            Assert.That(File.ReadAllText(Path.Combine(Sub("merged"), f)), Is.EqualTo(File.ReadAllText(Path.Combine(Sub("full"), f))), f);
    }

    [Test]
    public void Merge_NotACampaignDirectory_Exit65()
    {
        var (code, _, err) = CliRun.Invoke("merge", Dir, "--out", Path.Combine(Dir, "m"));
        Assert.That(code, Is.EqualTo(65));
        Assert.That(err, Is.EqualTo($"kernelsim: {Dir}: no results.jsonl (not a campaign --out directory)\n"));
    }

    private static bool Update => Environment.GetEnvironmentVariable("KERNELSIM_UPDATE_DOCS") == "1";

    private const string Begin = "<!-- campaign-output:begin -->\n```text\n";
    private const string End = "```\n<!-- campaign-output:end -->";

    [Test]
    public void CampaignsDoc_ShortRun_IsTheRealOutput()
    {
        var (code, output, err) = CliRun.Invoke("campaign", Example, "--seeds", "1..200", "--jobs", "2");
        Assert.That(err, Is.Empty);
        Assert.That(code, Is.Zero, output);
        var path = RepoFiles.Path("docs/campaigns.md");
        var doc = File.ReadAllText(path);
        var b = doc.IndexOf(Begin, StringComparison.Ordinal);
        var e = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.That(b, Is.GreaterThanOrEqualTo(0), "docs/campaigns.md has no campaign-output block");
        Assert.That(e, Is.GreaterThan(b));
        if (Update)
        {
            File.WriteAllText(path, doc[..(b + Begin.Length)] + output + doc[e..]);
            return;
        }
        Assert.That(doc[(b + Begin.Length)..e], Is.EqualTo(output), "docs/campaigns.md is stale: rerun with KERNELSIM_UPDATE_DOCS=1");
    }

    [Test]
    public void CampaignsDoc_ExampleFile_IsQuotedVerbatim()
    {
        var doc = File.ReadAllText(RepoFiles.Path("docs/campaigns.md"));
        Assert.That(doc, Does.Contain("```yaml\n" + File.ReadAllText(Example) + "```\n"));
    }
}
