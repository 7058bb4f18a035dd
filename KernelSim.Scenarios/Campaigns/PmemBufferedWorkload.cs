using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// <c>pmem-buffered</c>: buffered I/O on /dev/pmem0 through the block device's page cache (blkdev_read_iter,
/// blkdev_write_iter) and fsync (blkdev_fsync: write-back through pmem_submit_bio). A failed fsync (−EIO) drops
/// the dirty pages: what was written since the last fsync becomes unknown.
/// </summary>
internal sealed class PmemBufferedWorkload(SeedSession session) : PmemWorkload(session)
{
    private readonly List<(ulong Pos, ulong Len)> _dirty = [];

    public override bool Open()
    {
        Fd = (int)P.Open("/dev/pmem0", Fcntl.O_RDWR);
        return Opened();
    }

    protected override void Wrote(int step, ulong pos, ulong len, long ret)
    {
        base.Wrote(step, pos, len, ret);
        _dirty.Add((pos, len));
    }

    protected override void Synced(long r)
    {
        foreach (var (dpos, dlen) in _dirty) WrittenBack(dpos, dlen);
        if (r == -Errno.EIO)
            foreach (var (dpos, dlen) in _dirty) Oracle.Lost(dpos, dlen);
        if (r != Machine.NoReturn) _dirty.Clear();
    }

    protected override bool Volatile(ulong line)
    {
        foreach (var (pos, len) in _dirty)
            if (line + 64 > pos && line < pos + len) return true;
        return false;
    }

    protected override bool Persist(List<string> notes)
    {
        if (!P.Alive) return false;
        var r = P.Fsync(Fd);
        foreach (var (dpos, dlen) in _dirty) WrittenBack(dpos, dlen);
        notes.Add($"fsync = {Errno.Describe(r)}");
        if (r == -Errno.EIO) foreach (var (pos, len) in _dirty) Oracle.Lost(pos, len);
        return r != Machine.NoReturn && M.State.Alive;
    }
}
