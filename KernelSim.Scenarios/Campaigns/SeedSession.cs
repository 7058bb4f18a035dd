using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The live state of one seed run that the driver and its workload share: the plan, the machine and the
/// process (set by <see cref="SeedRunner"/> once booted), the user buffer and the iovec page, the oracle and
/// the records.
/// </summary>
internal sealed class SeedSession(CampaignSpec spec, CampaignPlan plan, KernelVersion profile)
{
    public CampaignSpec Spec { get; } = spec;
    public CampaignPlan Plan { get; } = plan;
    public KernelVersion Profile { get; } = profile;
    public Machine Machine { get; set; } = null!;
    public Process Process { get; set; } = null!;

    /// <summary>The 64 KiB user buffer every operation reads into or writes from.</summary>
    public UserPtr Buf { get; set; }

    /// <summary>The page holding iovec arrays.</summary>
    public UserPtr Vec { get; set; }

    public CampaignOracle Oracle { get; } = new(plan.Seed);
    public List<OpRecord> Records { get; } = [];

    /// <summary>Per fault step: where it was applied (buffer or region offsets, the badblocks sector).</summary>
    public Dictionary<int, List<ulong>> Applied { get; } = [];

    private string? _planId, _profile;

    public void Add(int step, string call, long? ret, Outcome o, string detail) =>
        Records.Add(new OpRecord(Plan.Seed, _profile ??= Profile.ToString(), CampaignSpec.NameOf(Plan.Workload), _planId ??= Plan.Id(), step, call, ret, o, detail));
}
