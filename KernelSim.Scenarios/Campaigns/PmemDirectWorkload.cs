using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// <c>pmem-direct</c>: O_DIRECT I/O on /dev/pmem0 (the block layer's direct path into pmem_do_read /
/// pmem_do_write, no page cache): reads come from the media, so a poisoned media line must not reach user space.
/// </summary>
internal sealed class PmemDirectWorkload(SeedSession session) : PmemWorkload(session)
{
    public override bool Open()
    {
        Fd = (int)P.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        return Opened();
    }

    protected override bool ReadsMedia => true;

    protected override bool ClearsOnWrite => true;
}
