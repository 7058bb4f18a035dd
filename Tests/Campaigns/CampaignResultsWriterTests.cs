using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Campaigns;

/// <summary>CampaignResultsWriter's batched flushes: what a process killed at any moment leaves on disk.</summary>
public class CampaignResultsWriterTests : TempDirTest
{
    [Test]
    public void Write_AtEveryMoment_PlansOnDiskListOnlySeedsWhoseResultsAreOnDisk_AndFinishWritesEverything()
    {
        var spec = CampaignParser.ParseFile(RepoFiles.Path("campaigns/example.yaml"));
        var set = new SeedSet(1, 40);
        var seeds = Enumerable.Range(1, 40).Select(s => CampaignEngine.RunSeedSafely(spec, (ulong)s)).ToList();
        var w = CampaignResultsWriter.Create(Dir, CampaignProvenance.Header(spec, set), "example.yaml", set.Count);
        var flushedPlans = new List<int>();
        foreach (var r in seeds)
        {
            w.Write(r);
            if (r.Seed == 20) Thread.Sleep(CampaignResultsWriter.FlushInterval * 2); // the next write flushes
            var plans = SeedsIn("plans.jsonl", "\"seed\":");
            var results = SeedsIn("results.jsonl", "\"seed\":");
            Assert.That(plans.Except(results), Is.Empty, $"after seed {r.Seed}");
            if (plans.Count > 0) Assert.That(results, Does.Contain(plans.Max()));
            flushedPlans.Add(plans.Count);
        }
        Assert.That(flushedPlans[20], Is.EqualTo(21), "the write after the pause flushed seeds 1..21");
        Assert.That(flushedPlans.Take(20).Where((n, i) => n < i + 1), Is.Not.Empty, "written seeds wait for a flush");
        w.Finish(CampaignManifest.Complete, "complete: 40 seeds");
        Assert.That(SeedsIn("plans.jsonl", "\"seed\":"), Is.EqualTo(Enumerable.Range(1, 40)));
        Assert.That(SeedsIn("results.jsonl", "\"seed\":"), Is.EqualTo(Enumerable.Range(1, 40)));
        Assert.That(File.ReadAllText(Path.Combine(Dir, "results.jsonl")), Does.EndWith("\n"));
    }

    /// <summary>The seeds with at least one whole line in a file as it is on disk now (the header line has no seed).</summary>
    private List<int> SeedsIn(string file, string key)
    {
        using var f = new FileStream(Path.Combine(Dir, file), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var text = new StreamReader(f).ReadToEnd();
        var whole = text[..(text.LastIndexOf('\n') + 1)];
        return whole.Split('\n').Skip(1).Where(l => l.StartsWith("{" + key, StringComparison.Ordinal))
            .Select(l => int.Parse(l.AsSpan(key.Length + 1, l.IndexOf(',') - key.Length - 1))).Distinct().ToList();
    }
}
