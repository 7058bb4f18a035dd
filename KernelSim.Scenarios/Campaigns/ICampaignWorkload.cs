using KernelSim.Kernel;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// One campaign workload (a <see cref="WorkloadKind"/>): the devices it boots with, its setup, the faults and
/// operations it runs, and its final check. <see cref="SeedRunner"/> calls the members in this order.
/// </summary>
internal interface ICampaignWorkload
{
    /// <summary>The devices the workload needs, added before boot.</summary>
    void Configure(MachineBuilder builder);

    /// <summary>After boot, before the process exists: format, mount, fill the media or the file.</summary>
    void Boot();

    /// <summary>How the user buffer is mapped: <c>MAP_PRIVATE</c> or <c>MAP_SHARED</c>.</summary>
    int BufferMapping { get; }

    /// <summary>Once the process and its buffer exist: open the file. False (recorded) when no operation can run.</summary>
    bool Open();

    /// <summary>Apply fault step <paramref name="index"/>; returns how many faults took effect and adds where to <paramref name="at"/>.</summary>
    int Inject(int index, PlanStep step, List<ulong> at);

    /// <summary>Run one operation step and record its outcome.</summary>
    void Operate(int index, PlanStep step);

    /// <summary>After the last step: compare the buffer and the file or media with the oracle, recorded at <paramref name="index"/>.</summary>
    void FinalCheck(int index);
}
