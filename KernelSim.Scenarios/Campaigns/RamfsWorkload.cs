using KernelSim.Fs;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// <c>ramfs</c>: buffered file I/O through the DRAM page cache (generic_file_read_iter / generic_perform_write
/// on a ramfs file holding the seed's 64 KiB). Faults are in the user buffer; the final check reads the page cache.
/// </summary>
internal sealed class RamfsWorkload(SeedSession session) : CampaignWorkload(session)
{
    private RamFs _ramfs = null!;

    public override void Boot()
    {
        _ramfs = RamFs.Mount(M);
        _ramfs.CreateWithData("data", ByteModel.PatternOf(S.Plan.Seed, 0xD0D0, (int)CampaignPlan.Region));
    }

    public override bool Open()
    {
        Fd = (int)P.Open("/mnt/ramfs/data", Fcntl.O_RDWR);
        Oracle.Size = (CampaignPlan.Region, CampaignPlan.Region);
        return Opened();
    }

    /// <summary>A ramfs file lives in the page cache: a read draws from its cached page (a hole reads zeros).</summary>
    protected override bool ReadSourcePoisoned(ulong line) => CachedLinePoisoned(_ramfs.Lookup("data")?.Mapping, line) ?? false;

    protected override void CheckTarget(List<string> mismatches, List<string> notes)
    {
        var inode = _ramfs.Lookup("data") ?? throw new InvalidOperationException("no file data");
        var data = SeedScratch.File(inode.Size);
        _ramfs.ReadData(inode, data);
        Oracle.CheckFile(data, "file", mismatches);
    }
}
