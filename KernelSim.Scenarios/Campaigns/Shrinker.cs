using KernelSim.Profiles;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// What a shrink preserves: an outcome, optionally of one operation ("EIO@pwritev": a pwritev that returns
/// EIO). <see cref="Worst"/> targets preserve the seed's worst outcome instead (the default).
/// </summary>
public readonly record struct ShrinkTarget(Outcome Outcome, string? Op = null, bool Worst = false)
{
    /// <summary>"OUTCOME" or "OUTCOME@OP", with the outcome names of results.jsonl.</summary>
    public static bool TryParse(string text, out ShrinkTarget target)
    {
        target = default;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var name = at < 0 ? text : text[..at];
        var op = at < 0 ? null : text[(at + 1)..];
        if (Outcomes.Parse(name) is not { } o || op is { Length: 0 }) return false;
        target = new ShrinkTarget(o, op);
        return true;
    }

    /// <summary>The operation name of a record's call: "pwritev" of "pwritev([buf+0x10:5], 7)".</summary>
    public static string OpName(string call)
    {
        var end = call.IndexOfAny(['(', ' ', ':']);
        return end < 0 ? call : call[..end];
    }

    public bool Matches(OpRecord r) => r.Outcome == Outcome && (Op == null || OpName(r.Call) == Op);

    /// <summary>True when the run shows the target (worst targets: its worst outcome is the target outcome).</summary>
    public bool ShownBy(SeedRun run) => Worst ? run.Worst == Outcome : run.Records.Any(Matches);

    public override string ToString() => Worst ? $"worst outcome {Outcomes.Name(Outcome)}" : Op == null ? Outcomes.Name(Outcome) : $"{Outcomes.Name(Outcome)}@{Op}";
}

/// <summary>
/// Minimises a plan: drops faults and operations (one at a time, to a fixpoint), and delayed deferred work,
/// while the run on the chosen profile still shows the target. Deterministic: the same seed shrinks to the
/// same plan.
/// </summary>
public static class Shrinker
{
    public sealed record Result(CampaignPlan Original, CampaignPlan Shrunk, KernelVersion Profile, ShrinkTarget Target, SeedRun Run, int Attempts);

    /// <summary>
    /// The profile and target to shrink on. With a target: the given profile, else the first of the campaign
    /// whose run shows it; null when none does. Without: the profile with the worst outcome (the first of
    /// equals) and that worst outcome; null when the seed shows nothing worse than complete (nothing to keep).
    /// </summary>
    public static (KernelVersion Profile, ShrinkTarget Target)? Pick(CampaignSpec spec, CampaignPlan plan, KernelVersion? wanted, ShrinkTarget? target)
    {
        (KernelVersion, ShrinkTarget)? best = null;
        foreach (var p in spec.Profiles)
        {
            if (wanted is { } w && !w.Equals(p)) continue;
            var run = SeedRunner.Run(spec, plan, p);
            if (target is { } t)
            {
                if (t.ShownBy(run)) return (p, t);
                continue;
            }
            if (run.Worst > Outcome.Complete && (best == null || run.Worst > best.Value.Item2.Outcome))
                best = (p, new ShrinkTarget(run.Worst, Worst: true));
        }
        return best;
    }

    /// <summary>The distinct OUTCOME@OP of a seed on each profile (for the message when a target is not shown).</summary>
    public static string Shows(CampaignSpec spec, CampaignPlan plan, KernelVersion? wanted)
    {
        var parts = new List<string>();
        foreach (var p in spec.Profiles)
        {
            if (wanted is { } w && !w.Equals(p)) continue;
            var seen = SeedRunner.Run(spec, plan, p).Records.Where(r => r.Outcome > Outcome.Complete)
                .Select(r => $"{Outcomes.Name(r.Outcome)}@{ShrinkTarget.OpName(r.Call)}").Distinct().ToList();
            parts.Add($"Linux {p}: {(seen.Count == 0 ? "only complete operations" : string.Join(", ", seen))}");
        }
        return string.Join("; ", parts);
    }

    public static Result Shrink(CampaignSpec spec, CampaignPlan plan, KernelVersion profile, ShrinkTarget target, int maxAttempts = 2000)
    {
        var cur = plan;
        var attempts = 0;
        bool Keeps(CampaignPlan cand)
        {
            attempts++;
            return target.ShownBy(SeedRunner.Run(spec, cand, profile));
        }
        if (cur.WorkManual && Keeps(cur with { WorkManual = false })) cur = cur with { WorkManual = false };
        var changed = true;
        while (changed && attempts < maxAttempts)
        {
            changed = false;
            // Faults first, then operations, from the end (later steps depend on earlier ones less often).
            foreach (var faultsPass in new[] { true, false })
            {
                for (var i = cur.Steps.Count - 1; i >= 0 && attempts < maxAttempts; i--)
                {
                    if (cur.Steps[i].IsFault != faultsPass) continue;
                    var steps = new List<PlanStep>(cur.Steps);
                    steps.RemoveAt(i);
                    var cand = cur with { Steps = steps };
                    if (!Keeps(cand)) continue;
                    cur = cand;
                    changed = true;
                }
            }
        }
        return new Result(plan, cur, profile, target, SeedRunner.Run(spec, cur, profile), attempts);
    }
}
