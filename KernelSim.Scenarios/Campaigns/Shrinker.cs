using KernelSim.Profiles;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// Minimises a plan: drops faults and operations (one at a time, to a fixpoint), and delayed deferred work,
/// while the worst outcome on the chosen profile stays the same. Deterministic: the same seed shrinks to
/// the same plan.
/// </summary>
public static class Shrinker
{
    public sealed record Result(CampaignPlan Original, CampaignPlan Shrunk, KernelVersion Profile, Outcome Target, SeedRun Run, int Attempts);

    /// <summary>The profile to shrink on: the one given, else the first with the worst outcome of the seed.</summary>
    public static KernelVersion PickProfile(CampaignSpec spec, CampaignPlan plan, KernelVersion? wanted, out Outcome worst)
    {
        worst = Outcome.Injected;
        KernelVersion? best = null;
        foreach (var p in spec.Profiles)
        {
            if (wanted is { } w && !w.Equals(p)) continue;
            var o = SeedRunner.Run(spec, plan, p).Worst;
            if (best == null || o > worst)
            {
                best = p;
                worst = o;
            }
        }
        return best ?? wanted ?? spec.Profiles[0];
    }

    public static Result Shrink(CampaignSpec spec, CampaignPlan plan, KernelVersion profile, Outcome target, int maxAttempts = 2000)
    {
        var cur = plan;
        var attempts = 0;
        bool Keeps(CampaignPlan cand)
        {
            attempts++;
            return SeedRunner.Run(spec, cand, profile).Worst == target;
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
