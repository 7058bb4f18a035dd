using System.Diagnostics;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Campaigns;

/// <summary>Streamed results: seed order, O(jobs) memory, --out checked first, SIGINT, --resume.</summary>
public class CampaignStreamTests : TempDirTest
{
    private static string Example => RepoFiles.Path("campaigns/example.yaml");

    private string Sub(string name) => Path.Combine(Dir, name);

    [Test]
    public void Stream_Jobs3_DeliversEverySeedOnceInSeedOrder()
    {
        var spec = CampaignParser.ParseFile(Example);
        var seen = new List<ulong>();
        var r = CampaignEngine.Stream(spec, new SeedSet(1, 40, 1, 3), 0, 3, s => seen.Add(s.Seed));
        Assert.That(r, Is.EqualTo(new StreamOutcome(13, false)));
        Assert.That(seen, Is.EqualTo(Enumerable.Range(0, 13).Select(k => (ulong)(2 + 3 * k))));
    }

    [Test]
    public void Stream_Jobs2_WhileTheSinkHoldsSeed1_TheOtherWorkerRunsAheadByTheWholeWindowAndNoFurther()
    {
        // The reorder buffer bounds memory (seeds taken and not yet delivered) and lets a worker go on past a slow
        // seed: while seed 1 is held in the sink, the other worker fills every slot, then waits.
        var spec = CampaignParser.ParseFile(Example);
        var window = CampaignEngine.ReorderSlotsPerJob * 2;
        int prepared = 0, delivered = 0, most = 0;
        var r = CampaignEngine.Stream(spec, new SeedSet(1, 200), 0, 2, s =>
        {
            if (s.Seed == 1)
            {
                var clock = Stopwatch.StartNew();
                while (Volatile.Read(ref prepared) < window && clock.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(1);
                Thread.Sleep(50); // a worker that ignored the bound would run on meanwhile
            }
            most = Math.Max(most, Volatile.Read(ref prepared) - delivered);
            delivered++;
        }, prepare: _ => Interlocked.Increment(ref prepared));
        Assert.That(r, Is.EqualTo(new StreamOutcome(200, false)));
        Assert.That(CampaignEngine.ReorderSlotsPerJob, Is.EqualTo(32));
        Assert.That(most, Is.EqualTo(window), "seed 1 and the 63 seeds after it, run while seed 1 was held");
    }

    [Test]
    public void Stream_HundredMillionSeeds_StartsAtOnceAndStopsOnCancel()
    {
        // A materialised seed list of 10^8 seeds is 800 MB before the first seed; the seed set is four numbers.
        var spec = CampaignParser.ParseFile(Example);
        var set = new SeedSet(1, 99_999_999);
        Assert.That(set.Count, Is.EqualTo(99_999_999UL));
        using var cts = new CancellationTokenSource();
        var seen = new List<ulong>();
        var clock = Stopwatch.StartNew();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var r = CampaignEngine.Stream(spec, set, 0, 1, s =>
        {
            seen.Add(s.Seed);
            if (seen.Count == 3) cts.Cancel();
        }, cts.Token);
        Assert.That(r, Is.EqualTo(new StreamOutcome(3, true)));
        Assert.That(seen, Is.EqualTo(new ulong[] { 1, 2, 3 }));
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - before, Is.LessThan(200L << 20), "three seeds, not a seed list");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)));
    }

    [Test]
    public void Stream_SinkFails_TheRunStopsAndTheErrorIsRethrown()
    {
        var spec = CampaignParser.ParseFile(Example);
        var n = 0;
        var e = Assert.Throws<IOException>(() => CampaignEngine.Stream(spec, new SeedSet(1, 1000), 0, 2, _ =>
        {
            if (++n == 2) throw new IOException("No space left on device");
        }));
        Assert.That(e!.Message, Is.EqualTo("No space left on device"));
        Assert.That(n, Is.EqualTo(2));
    }

    [Test]
    public void Campaign_OutNotWritable_Exit73BeforeTheFirstSeed()
    {
        var blocker = Write("file", "not a directory");
        var clock = Stopwatch.StartNew();
        var (code, output, err) = CliRun.Invoke("campaign", Example, "--seeds", "1..99999999", "--out", Path.Combine(blocker, "out"));
        Assert.That(code, Is.EqualTo(73));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.StartWith($"kernelsim: --out {Path.Combine(blocker, "out")}: cannot write there ("));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "refused before running 10^8 seeds");
    }

    [Test]
    public void Sigint_ToAChildCampaign_PartialJsonlIsValid_AndResumeGivesTheUninterruptedResults()
    {
        var dir = Sub("run");
        using var child = Kernelsim("campaign", Example, "--seeds", "1..60", "--jobs", "1", "--out", dir);
        var plans = Path.Combine(dir, "plans.jsonl");
        var clock = Stopwatch.StartNew();
        while (LineCount(plans) < 6 && !child.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
        Assert.That(child.HasExited, Is.False, "the child ended before it was interrupted");
        using (var kill = Process.Start("kill", ["-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        Assert.That(child.WaitForExit(60_000), Is.True);
        var stderr = child.StandardError.ReadToEnd();
        var stdout = child.StandardOutput.ReadToEnd();
        Assert.That(child.ExitCode, Is.EqualTo(130), stdout + stderr);

        // The partial output: a header, then whole seeds 1..N in order, and campaign.json saying so.
        var manifest = CampaignJson.ParseManifest(File.ReadAllText(Path.Combine(dir, "campaign.json")));
        var n = manifest.SeedsDone;
        Assert.That(n, Is.InRange(5UL, 59UL));
        Assert.That((manifest.Status, manifest.Message), Is.EqualTo(("interrupted", $"interrupted after {n} seeds")));
        Assert.That(stderr, Does.Contain($"kernelsim: interrupted after {n} seeds; continue with: kernelsim campaign {Example} --resume {dir}"));
        Assert.That(stdout, Does.Contain($"interrupted after {n} seeds of 60"));
        var results = File.ReadAllLines(Path.Combine(dir, "results.jsonl"));
        Assert.That(CampaignJson.ParseHeader(results[0]).Seeds, Is.EqualTo(new SeedRange(1, 60)));
        var seeds = results.Skip(1).Select(l => CampaignJson.ParseOp(l).Seed).Distinct().ToList();
        Assert.That(seeds, Is.EqualTo(Enumerable.Range(1, (int)n).Select(i => (ulong)i)));
        Assert.That(File.ReadAllLines(plans).Skip(1).Select(l => CampaignJson.ParsePlan(l).Seed), Is.EqualTo(seeds));
        Assert.That(File.ReadAllText(Path.Combine(dir, "summary.csv")), Does.StartWith("profile,outcome,operations,seeds\n"));

        var (rc, resumed, resumeErr) = CliRun.Invoke("campaign", Example, "--resume", dir, "--jobs", "2");
        Assert.That(rc, Is.Zero, resumed + resumeErr);
        Assert.That(resumed, Does.Contain($"resumed after {n} seeds"));
        var (fc, _, _) = CliRun.Invoke("campaign", Example, "--seeds", "1..60", "--jobs", "2", "--out", Sub("full"));
        Assert.That(fc, Is.Zero);
        AssertSameFiles(Sub("full"), dir);
    }

    [Test]
    public void Resume_AfterAKillMidSeed_CutsThePartialSeedAndFinishesLikeAnUninterruptedRun()
    {
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "1..20", "--jobs", "2", "--out", Sub("full")).Code, Is.Zero);
        var dir = Sub("killed");
        Directory.CreateDirectory(dir);
        // A run killed (SIGKILL) while writing seed 8: results.jsonl ends mid-line, plans.jsonl has seeds 1..7,
        // campaign.json still says running.
        var results = File.ReadAllText(Path.Combine(Sub("full"), "results.jsonl"));
        var cut = results.IndexOf("{\"seed\":9,", StringComparison.Ordinal) - 25;
        File.WriteAllText(Path.Combine(dir, "results.jsonl"), results[..cut]);
        File.WriteAllLines(Path.Combine(dir, "plans.jsonl"), File.ReadAllLines(Path.Combine(Sub("full"), "plans.jsonl")).Take(8));
        var manifest = CampaignJson.ParseManifest(File.ReadAllText(Path.Combine(Sub("full"), "campaign.json")));
        File.WriteAllText(Path.Combine(dir, "campaign.json"), CampaignJson.Text(manifest with { Status = "running", SeedsDone = 3, Message = "running" }));

        var (code, output, err) = CliRun.Invoke("campaign", Example, "--resume", dir);
        Assert.That(code, Is.Zero, output + err);
        Assert.That(output, Does.Contain("resumed after 7 seeds"));
        AssertSameFiles(Sub("full"), dir);
    }

    [Test]
    public void Resume_WithAnotherCampaignFile_Exit65()
    {
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "1..3", "--out", Sub("a")).Code, Is.Zero);
        var other = Write("other.yaml", File.ReadAllText(Example).Replace("operations: 8", "operations: 9", StringComparison.Ordinal));
        var (code, _, err) = CliRun.Invoke("campaign", other, "--resume", Sub("a"));
        Assert.That(code, Is.EqualTo(65));
        Assert.That(err, Does.StartWith($"kernelsim: --resume {Sub("a")}: was run from another campaign (spec sha256 "));
    }

    [Test]
    public void Resume_OtherSeeds_Exit65_AndNotACampaignDirectory_Exit65()
    {
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "1..3", "--out", Sub("a")).Code, Is.Zero);
        var (code, _, err) = CliRun.Invoke("campaign", Example, "--seeds", "1..4", "--resume", Sub("a"));
        Assert.That((code, err), Is.EqualTo((65, $"kernelsim: --resume {Sub("a")}: ran seeds 1..3, not 1..4 (leave --seeds out to continue it)\n")));
        (code, _, err) = CliRun.Invoke("campaign", Example, "--resume", Dir);
        Assert.That((code, err), Is.EqualTo((65, $"kernelsim: {Dir}: no campaign.json (not a campaign --out directory)\n")));
    }

    [Test]
    public void Out_OverAnUnfinishedRun_IsRefused_Exit65_OverACompleteOne_Replaces()
    {
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "1..3", "--out", Sub("a")).Code, Is.Zero);
        var m = Path.Combine(Sub("a"), "campaign.json");
        var manifest = CampaignJson.ParseManifest(File.ReadAllText(m));
        File.WriteAllText(m, CampaignJson.Text(manifest with { Status = "interrupted", SeedsDone = 2, Message = "interrupted after 2 seeds" }));
        var (code, _, err) = CliRun.Invoke("campaign", Example, "--seeds", "1..3", "--out", Sub("a"));
        Assert.That((code, err), Is.EqualTo((65, $"kernelsim: --out {Sub("a")}: holds an unfinished run (interrupted after 2 seeds, status interrupted): continue it with --resume {Sub("a")}, or remove it\n")));
        File.WriteAllText(m, CampaignJson.Text(manifest));
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "4..5", "--out", Sub("a")).Code, Is.Zero);
        Assert.That(CampaignJson.ParseHeader(File.ReadLines(Path.Combine(Sub("a"), "results.jsonl")).First()).Seeds, Is.EqualTo(new SeedRange(4, 5)));
    }

    [Test]
    public void Resume_ACompleteRun_RunsNothingAndKeepsTheFiles()
    {
        Assert.That(CliRun.Invoke("campaign", Example, "--seeds", "1..5", "--out", Sub("a")).Code, Is.Zero);
        var before = File.ReadAllText(Path.Combine(Sub("a"), "results.jsonl"));
        var (code, output, _) = CliRun.Invoke("campaign", Example, "--resume", Sub("a"));
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("resumed after 5 seeds"));
        Assert.That(File.ReadAllText(Path.Combine(Sub("a"), "results.jsonl")), Is.EqualTo(before));
    }

    private static void AssertSameFiles(string expected, string actual)
    {
        foreach (var f in new[] { "results.jsonl", "plans.jsonl", "summary.csv", "chart.svg", "campaign.json", "report.html" })
            Assert.That(File.ReadAllText(Path.Combine(actual, f)), Is.EqualTo(File.ReadAllText(Path.Combine(expected, f))), f);
    }

    private static int LineCount(string path)
    {
        if (!File.Exists(path)) return 0;
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var n = 0;
        int b;
        while ((b = s.ReadByte()) >= 0) if (b == '\n') n++;
        return n;
    }

    /// <summary>The real `kernelsim` in a child process (dotnet kernelsim.dll ARGS), output redirected.</summary>
    internal static Process Kernelsim(params string[] args) => Kernelsim(new Dictionary<string, string>(), args);

    internal static Process Kernelsim(IDictionary<string, string> env, params string[] args)
    {
        // Through env(1) --default-signal: a shell's background job (`cmd &`) starts with SIGINT ignored, the
        // child would inherit that and the runtime keeps an inherited SIG_IGN; the real Ctrl-C case has it default.
        var psi = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet");
        psi.ArgumentList.Add(typeof(KernelSim.Cli.CliApp).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }
}
