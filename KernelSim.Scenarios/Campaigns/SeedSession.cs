using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The live state of one seed run that the driver and its workload share: the plan, the machine and the
/// process (set by <see cref="SeedRunner"/> once booted), the user buffer and the iovec page, the oracle and
/// the records. <paramref name="planId"/>, <paramref name="calls"/>: the plan's id and its steps' descriptions when the
/// caller has them (null: made on first use).
/// </summary>
internal sealed class SeedSession(CampaignSpec spec, CampaignPlan plan, KernelVersion profile, string? planId = null, string[]? calls = null)
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

    private PoisonModel? _poison;

    /// <summary>The media poison model of the pmem workloads (rented on first use, given back by <see cref="Release"/>).</summary>
    public PoisonModel Poison => _poison ??= PoisonModel.Rent();

    /// <summary>The run is over: the oracle's models and the poison model go back to this thread's pools.</summary>
    public void Release()
    {
        Oracle.Release();
        _poison?.Release();
        _poison = null;
    }
    /// <summary>The run's records: one per step and the final check (sized for those: a seed run makes no growth copies).</summary>
    public List<OpRecord> Records { get; } = new(plan.Steps.Count + 1);

    /// <summary>Per fault step: where it was applied (buffer or region offsets, the badblocks sector); made by the first fault.</summary>
    public Dictionary<int, List<ulong>> Applied => _applied ??= [];

    private Dictionary<int, List<ulong>>? _applied;

    /// <summary><see cref="Applied"/> for the run's result: one shared empty table when the plan applied no fault.</summary>
    public IReadOnlyDictionary<int, List<ulong>> AppliedOrNone => _applied ?? NoneApplied;

    private static readonly IReadOnlyDictionary<int, List<ulong>> NoneApplied = new Dictionary<int, List<ulong>>().AsReadOnly();

    private string? _planId = planId, _profile;

    /// <summary>Step <paramref name="step"/>'s description (the record's call).</summary>
    public string Call(int step) => calls?[step] ?? Plan.Steps[step].Describe();

    public void Add(int step, string call, long? ret, Outcome o, string detail) =>
        Records.Add(new OpRecord(Plan.Seed, _profile ??= Profile.ToString(), CampaignSpec.NameOf(Plan.Workload), _planId ??= Plan.Id(), step, call, ret, o, detail));
}
