using KernelSim.Fs.Dax;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// <c>fsdax</c>: read/write on a file of a dax=always daxfs formatted on /dev/pmem0 (dax_iomap_rw: no page
/// cache, reads come from the media). Media faults are placed under file offsets (DaxFs.DeviceOffsetOf, SectorOf).
/// </summary>
internal sealed class FsdaxWorkload(SeedSession session) : PmemWorkload(session)
{
    private DaxFs _daxfs = null!;

    protected override void Format() => _daxfs = DaxFs.FormatAndMount(M, Pmem.Disk, new DaxFsOptions { Dax = DaxMode.Always });

    public override bool Open()
    {
        // The file's initial data is written through the filesystem, from the user buffer.
        Fd = (int)P.Open(_daxfs.MountPoint + "/data", Fcntl.O_RDWR | Fcntl.O_CREAT);
        var init = ByteModel.PatternOf(S.Plan.Seed, 0xD0D0, (int)CampaignPlan.Region);
        if (Fd >= 0)
        {
            if (!P.Store(Buf, init).Completed((ulong)init.Length) || P.Pwrite64(Fd, Buf, (ulong)init.Length, 0) != init.Length)
                throw new InvalidOperationException("setup: writing the daxfs file failed");
            if (!P.Store(Buf, ByteModel.PatternOf(S.Plan.Seed, 0xB0B0, (int)CampaignPlan.BufSize)).Completed(CampaignPlan.BufSize))
                throw new InvalidOperationException("setup: refilling the buffer failed");
        }
        Oracle.Size = (CampaignPlan.Region, CampaignPlan.Region);
        return Opened();
    }

    protected override void CheckTarget(List<string> mismatches, List<string> notes)
    {
        Oracle.CheckSize(_daxfs.Lookup("data")?.Size ?? -1, "file", mismatches);
        base.CheckTarget(mismatches, notes);
    }

    protected override bool ReadsMedia => true;

    protected override long DevOffset(ulong off)
    {
        if (LineBatch == 0) return _daxfs.DeviceOffsetOf("data", (long)off);
        // Inside one loop of line checks the file's blocks do not move: one lookup per block (its bytes are
        // contiguous on the device).
        var block = off >> DaxFsVolume.BlockShift;
        if (_batch != LineBatch || _batchBlock != block)
        {
            _batch = LineBatch;
            _batchBlock = block;
            _batchStart = _daxfs.DeviceOffsetOf("data", (long)(block << DaxFsVolume.BlockShift));
        }
        return _batchStart < 0 ? -1 : _batchStart + (long)(off & (DaxFsVolume.BlockSize - 1));
    }

    private int _batch;
    private ulong _batchBlock;
    private long _batchStart;

    /// <summary>One lookup per filesystem block: a block's bytes are contiguous on the device (DeviceOffsetOf).</summary>
    protected override long[] DevOffsets()
    {
        var dev = LineTable;
        const int linesPerBlock = DaxFsVolume.BlockSize / 64;
        for (var b = 0; b < dev.Length; b += linesPerBlock)
        {
            var start = _daxfs.DeviceOffsetOf("data", (long)b * 64);
            for (var k = 0; k < linesPerBlock && b + k < dev.Length; k++) dev[b + k] = start < 0 ? -1 : start + k * 64;
        }
        return dev;
    }

    protected override long SectorOf(ulong block) => _daxfs.SectorOf("data", (long)block * 512);
}
