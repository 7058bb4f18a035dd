using System.Globalization;
using System.Text;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>Why merge refuses its inputs (exit 65 in the CLI).</summary>
public sealed class CampaignMergeException(string message) : Exception(message);

/// <summary>What a merge wrote: the merged header, seeds, and the seed ranges no input had.</summary>
public sealed record MergeReport(CampaignHeader Header, ulong Seeds, ulong MissingSeeds, IReadOnlyList<string> Missing, CampaignSummary Summary);

/// <summary>
/// The reduce step of a sharded campaign: checks that the --out directories come from one campaign (spec hash,
/// simulator version, profiles) and that no seed is in two of them, then merges their results.jsonl and
/// plans.jsonl by seed (streamed: memory is O(inputs)) so the merge of all shards equals the unsharded run,
/// and reports the seeds that no input has.
/// </summary>
public static class CampaignMerge
{
    private sealed record Input(string Dir, CampaignManifest Manifest);

    /// <exception cref="CampaignMergeException">The inputs do not belong together.</exception>
    /// <exception cref="CampaignOutputException">An input is not a campaign --out directory, or the output cannot be written.</exception>
    public static MergeReport Merge(IReadOnlyList<string> dirs, string outDir)
    {
        var inputs = new List<Input>();
        foreach (var d in dirs)
        {
            if (Path.GetFullPath(d).TrimEnd('/') == Path.GetFullPath(outDir).TrimEnd('/'))
                throw new CampaignMergeException($"{d}: is also the --out directory");
            foreach (var f in new[] { CampaignOutput.Results, CampaignOutput.Plans })
                if (!File.Exists(Path.Combine(d, f))) throw new CampaignOutputException($"{d}: no {f} (not a campaign --out directory)", unwritable: false);
            var m = CampaignResultsWriter.ReadManifest(d);
            if (m.Status == CampaignManifest.Running)
                throw new CampaignMergeException($"{d}: its run has not ended (campaign.json status running: still running, or killed; continue it with --resume)");
            inputs.Add(new Input(d, m));
        }
        var first = inputs[0];
        foreach (var i in inputs.Skip(1)) CheckSameCampaign(first, i);
        foreach (var i in inputs) CheckHeaderLines(i);

        var h0 = first.Manifest.Header;
        var lo = inputs.Min(i => i.Manifest.Header.Seeds.First);
        var hi = inputs.Max(i => i.Manifest.Header.Seeds.Last);
        var header = h0 with { Seeds = new SeedRange(lo, hi), Shard = new ShardOf(0, 1) };

        // Pass 1: the seeds of every plans.jsonl, merged in order: overlaps are refused, gaps are missing seeds.
        var gaps = new List<(ulong A, ulong B)>();
        ulong seeds = 0, missing = 0;
        ulong? prev = null;
        string? prevDir = null;
        foreach (var (seed, input, _) in MergeBySeed(inputs, CampaignOutput.Plans, l => CampaignJson.ParsePlan(l).Seed))
        {
            if (!input.Manifest.Header.SeedSet.Contains(seed))
                throw new CampaignMergeException($"{input.Dir}: seed {seed} is not in its seed set ({input.Manifest.Header.SeedSet})");
            if (seed == prev)
                throw new CampaignMergeException($"{prevDir} and {input.Dir} overlap: both have seed {seed} (the same shard twice, or two runs over the same seeds)");
            var from = prev is { } p ? p + 1 : lo;
            if (seed > from)
            {
                gaps.Add((from, seed - 1));
                missing += seed - from;
            }
            prev = seed;
            prevDir = input.Dir;
            seeds++;
        }
        var tail = prev is { } last ? last + 1 : lo;
        if (prev != hi && tail <= hi)
        {
            gaps.Add((tail, hi));
            missing += hi - tail + 1;
        }
        var missingText = Describe(inputs, gaps, missing);

        // Pass 2: write the merged files (lines copied byte for byte).
        try
        {
            Directory.CreateDirectory(outDir);
            var headerLine = CampaignJson.Line(header);
            foreach (var (file, seedOf) in new (string, Func<string, ulong>)[]
                     {
                         (CampaignOutput.Results, l => CampaignJson.ParseOp(l).Seed),
                         (CampaignOutput.Plans, l => CampaignJson.ParsePlan(l).Seed),
                     })
            {
                using var w = new StreamWriter(Path.Combine(outDir, file), false, new UTF8Encoding(false)) { NewLine = "\n" };
                w.Write(headerLine + "\n");
                foreach (var (_, _, line) in MergeBySeed(inputs, file, seedOf)) w.Write(line + "\n");
            }
            var status = missing == 0 ? CampaignManifest.Complete : CampaignManifest.Incomplete;
            var message = missing == 0 ? $"merged {inputs.Count} input(s): {seeds} seeds" : $"merged {inputs.Count} input(s): {seeds} seeds, {missing} missing";
            File.WriteAllText(Path.Combine(outDir, CampaignOutput.Manifest),
                CampaignJson.Text(new CampaignManifest(header, first.Manifest.File, status, header.SeedSet.Count, seeds, message, missing == 0 ? null : missingText)));
            var summary = CampaignOutput.WriteReports(outDir);
            return new MergeReport(header, seeds, missing, missingText, summary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CampaignOutputException($"--out {outDir}: cannot write there ({e.Message})", unwritable: true);
        }
    }

    private static void CheckSameCampaign(Input a, Input b)
    {
        var (x, y) = (a.Manifest.Header, b.Manifest.Header);
        string? why = null;
        if (x.SpecSha256 != y.SpecSha256) why = $"different campaigns ({x.Campaign} spec sha256 {x.SpecSha256[..12]}…, {y.Campaign} spec sha256 {y.SpecSha256[..12]}…)";
        else if (x.Kernelsim != y.Kernelsim) why = $"different kernelsim versions ({x.Kernelsim} and {y.Kernelsim})";
        else if (!x.Profiles.SequenceEqual(y.Profiles)) why = $"different profiles ({string.Join(", ", x.Profiles)} and {string.Join(", ", y.Profiles)})";
        if (why != null) throw new CampaignMergeException($"{a.Dir} and {b.Dir}: {why}");
    }

    private static void CheckHeaderLines(Input i)
    {
        var expected = CampaignJson.Line(i.Manifest.Header);
        foreach (var f in new[] { CampaignOutput.Results, CampaignOutput.Plans })
        {
            var firstLine = File.ReadLines(Path.Combine(i.Dir, f)).FirstOrDefault();
            if (firstLine != expected) throw new CampaignMergeException($"{Path.Combine(i.Dir, f)}: its header line is not the one of campaign.json");
        }
    }

    /// <summary>The lines of one file of every input (headers skipped), merged by seed; each input is in seed order.</summary>
    private static IEnumerable<(ulong Seed, Input Input, string Line)> MergeBySeed(List<Input> inputs, string file, Func<string, ulong> seedOf)
    {
        var readers = new List<IEnumerator<(ulong, string)>>();
        try
        {
            var queue = new PriorityQueue<int, (ulong Seed, int Input)>();
            for (var k = 0; k < inputs.Count; k++)
            {
                var e = Lines(Path.Combine(inputs[k].Dir, file), seedOf).GetEnumerator();
                readers.Add(e);
                if (e.MoveNext()) queue.Enqueue(k, (e.Current.Item1, k));
            }
            while (queue.TryDequeue(out var k, out var key))
            {
                var e = readers[k];
                yield return (key.Seed, inputs[k], e.Current.Item2);
                if (!e.MoveNext()) continue;
                if (e.Current.Item1 < key.Seed)
                    throw new CampaignMergeException($"{Path.Combine(inputs[k].Dir, file)}: not in seed order (seed {e.Current.Item1} after {key.Seed})");
                queue.Enqueue(k, (e.Current.Item1, k));
            }
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }

    private static IEnumerable<(ulong Seed, string Line)> Lines(string path, Func<string, ulong> seedOf)
    {
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (n == 1 || line.Length == 0) continue;
            ulong seed;
            try
            {
                seed = seedOf(line);
            }
            catch (FormatException e)
            {
                throw new CampaignMergeException($"{path}:{n}: not a campaign line ({e.Message})");
            }
            yield return (seed, line);
        }
    }

    /// <summary>The missing seeds in words: shards no input has, runs that stopped early, then the ranges.</summary>
    private static List<string> Describe(List<Input> inputs, List<(ulong A, ulong B)> gaps, ulong missing)
    {
        var lines = new List<string>();
        if (missing == 0) return lines;
        foreach (var g in inputs.GroupBy(i => (i.Manifest.Header.Seeds.First, i.Manifest.Header.Seeds.Last, i.Manifest.Header.Shard.Count)))
        {
            var (a, b, n) = g.Key;
            if (n > 1)
            {
                var have = g.Select(i => i.Manifest.Header.Shard.Index).ToHashSet();
                var absent = Enumerable.Range(0, n).Where(k => !have.Contains(k)).ToList();
                if (absent.Count > 0) lines.Add($"seeds {a}..{b}: no input has shard(s) {string.Join(", ", absent.Select(k => $"{k}/{n}"))}");
            }
            foreach (var i in g.Where(i => i.Manifest.SeedsDone < i.Manifest.SeedsTotal))
                lines.Add($"{i.Dir}: {i.Manifest.Message} ({i.Manifest.SeedsDone} of {i.Manifest.SeedsTotal} seeds of {i.Manifest.Header.SeedSet}); continue it with --resume");
        }
        const int shown = 10;
        var ranges = gaps.Take(shown).Select(g => g.A == g.B ? g.A.ToString(CultureInfo.InvariantCulture) : $"{g.A}..{g.B}");
        lines.Add($"{missing} seed(s) missing in {gaps.Count} range(s): {string.Join(", ", ranges)}{(gaps.Count > shown ? ", …" : "")}");
        return lines;
    }
}
