namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The outcome table of a run, folded record by record from a stream in seed order: per profile and
/// outcome, the operations with that outcome and the seeds whose worst outcome it is; and the first silent
/// corruptions and simulator bugs. Its size depends on the profiles and outcomes, not on the seeds.
/// </summary>
public sealed class CampaignSummary
{
    /// <summary>How many silent corruptions and simulator bugs are kept (the rest are counted).</summary>
    public const int Kept = 10;

    /// <summary>How many example seeds are kept per outcome and profile (for the report).</summary>
    public const int ExamplesKept = 20;

    private readonly List<(string Profile, Outcome Worst, string Workload)> _current = [];
    private ulong? _seed;

    public CampaignSummary(string name) => Name = name;

    public string Name { get; }

    /// <summary>Profiles in the order they first appear.</summary>
    public List<string> Profiles { get; } = [];

    /// <summary>Outcome → profile → (operations, seeds).</summary>
    public SortedDictionary<Outcome, Dictionary<string, (long Ops, long Seeds)>> Table { get; } = [];

    public ulong Seeds { get; private set; }

    public long Records { get; private set; }

    public List<OpRecord> Corruptions { get; } = [];

    public List<OpRecord> Bugs { get; } = [];

    public List<OpRecord> Leaks { get; } = [];

    public long CorruptionCount { get; private set; }

    public long BugCount { get; private set; }

    public long LeakCount { get; private set; }

    /// <summary>The first seeds (and their workload) whose worst outcome on a profile is an outcome.</summary>
    public Dictionary<(Outcome Outcome, string Profile), List<(ulong Seed, string Workload)>> Examples { get; } = [];

    /// <summary>The seeds of each profile whose worst outcome is <paramref name="o"/>.</summary>
    public long SeedsWith(Outcome o, string profile) => Table.TryGetValue(o, out var row) ? row.GetValueOrDefault(profile).Seeds : 0;

    /// <summary>True when a seed showed silent corruption, a leak or a simulator bug (exit code 1).</summary>
    public bool FoundProblems => CorruptionCount + LeakCount + BugCount > 0;

    public void Add(SeedResult r)
    {
        foreach (var rec in r.Records) Add(rec);
    }

    /// <summary>Add a record; records come in seed order (a seed's records together).</summary>
    public void Add(OpRecord r)
    {
        if (_seed != r.Seed)
        {
            EndSeed();
            _seed = r.Seed;
            Seeds++;
        }
        Records++;
        if (!Profiles.Contains(r.Profile)) Profiles.Add(r.Profile);
        var i = _current.Count - 1;
        while (i >= 0 && _current[i].Profile != r.Profile) i--;
        if (i < 0) _current.Add((r.Profile, r.Outcome, r.Workload));
        else if (r.Outcome > _current[i].Worst) _current[i] = (r.Profile, r.Outcome, r.Workload);
        if (r.Outcome == Outcome.SilentCorruption && CorruptionCount++ < Kept) Corruptions.Add(r);
        if (r.Outcome == Outcome.SimBug && BugCount++ < Kept) Bugs.Add(r);
        if (r.Outcome == Outcome.Leak && LeakCount++ < Kept) Leaks.Add(r);
        if (r.Outcome == Outcome.Injected || r.Call == "final-check" && r.Outcome == Outcome.Complete) return;
        Bump(r.Outcome, r.Profile, 1, 0);
    }

    /// <summary>Count the last seed (call once, after the last record).</summary>
    public CampaignSummary Finish()
    {
        EndSeed();
        _seed = null;
        return this;
    }

    private void EndSeed()
    {
        foreach (var (p, w, workload) in _current)
        {
            if (w == Outcome.Injected) continue;
            Bump(w, p, 0, 1);
            if (!Examples.TryGetValue((w, p), out var list)) Examples[(w, p)] = list = [];
            if (list.Count < ExamplesKept) list.Add((_seed!.Value, workload));
        }
        _current.Clear();
    }

    private void Bump(Outcome o, string profile, long ops, long seeds)
    {
        if (!Table.TryGetValue(o, out var row)) Table[o] = row = [];
        var v = row.GetValueOrDefault(profile);
        row[profile] = (v.Ops + ops, v.Seeds + seeds);
    }

    /// <summary>The summary of records held in memory.</summary>
    public static CampaignSummary Of(string name, IEnumerable<OpRecord> records)
    {
        var s = new CampaignSummary(name);
        foreach (var r in records) s.Add(r);
        return s.Finish();
    }
}
