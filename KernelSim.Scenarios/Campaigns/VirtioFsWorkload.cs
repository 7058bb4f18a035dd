using KernelSim.Drivers.Virtiofs;
using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// <c>virtiofs</c>: read/write on a virtio-fs file (-o dax=always, the DAX window) whose host side another party
/// can truncate (host-truncate). virtio-fs is 5.4+: earlier releases fail the open at setup. The final check
/// reads the host file.
/// </summary>
internal sealed class VirtioFsWorkload(SeedSession session) : CampaignWorkload(session)
{
    private VirtioFsShare _share = null!;

    public override void Configure(MachineBuilder builder)
    {
        var data = ByteModel.Pattern(S.Plan.Seed, 0xD0D0, (int)CampaignPlan.Region);
        builder.AddVirtioFs(new VirtioFsOptions(), share => share.Host.CreateFile("data", data.Length, nodeId: 5, data: data));
    }

    public override bool Open()
    {
        _share = VirtioFs.Shares(M).Single();
        Fd = (int)P.Open(_share.PathOf("data"), Fcntl.O_RDWR);
        return Opened();
    }

    protected override int InjectTarget(PlanStep s, List<ulong> at)
    {
        if (s.Kind != StepKind.HostTruncate) return base.InjectTarget(s, at);
        // Another host party truncates the file: the guest's cached size is stale; bytes past the new
        // size are whatever the host now has (zeros, or nothing), so the oracle forgets them.
        if (!_share.Host.Truncate("data", (long)s.Off)) return 0;
        at.Add(s.Off);
        Oracle.Lost(s.Off, CampaignPlan.Region - s.Off);
        return 1;
    }

    protected override void CheckTarget(List<string> mismatches, List<string> notes) =>
        Oracle.CheckFile(_share.Host["data"]?.ReadAll() ?? [], "host file", mismatches);

    /// <summary>The host file outlives the guest.</summary>
    protected override void CheckAfterCrash(List<string> mismatches, List<string> notes)
    {
        if (_share != null) CheckTarget(mismatches, notes);
    }
}
