using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// <c>mmap-private</c> and <c>mmap-shared</c>: user-mode loads and stores on the anonymous buffer mapped
/// MAP_PRIVATE or MAP_SHARED (page faults, machine checks in user mode → signals). No file, no device.
/// </summary>
internal sealed class MmapWorkload(SeedSession session, bool shared) : CampaignWorkload(session)
{
    public override int BufferMapping => shared ? Mman.MAP_SHARED : Mman.MAP_PRIVATE;
}
