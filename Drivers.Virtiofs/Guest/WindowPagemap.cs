using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// The what-if of <see cref="HostFaultPolicy.ProposedMachineCheck"/>: memory_failure on a window page (after a
/// user-mode machine check) kills the tasks mapping it with SIGBUS BUS_MCEERR_AR at their address, as
/// memory_failure_dev_pagemap does for fsdax pages [speculative]. Returns −EOPNOTSUPP so kill_me_maybe neither
/// offlines the window page nor signals again.
/// </summary>
internal sealed class WindowPagemap(Machine machine, PhysRange window) : IDevPagemap
{
    public int MemoryFailure(ulong pfn, MfFlags flags)
    {
        var frame = machine.Phys.Peek(pfn);
        machine.State.Printk($"virtio-fs: memory failure on window offset 0x{(pfn - window.Start.Pfn) << PageDefs.PAGE_SHIFT:x} (host page gone)");
        if (frame == null) return -Errno.EOPNOTSUPP;
        foreach (var (mm, va) in frame.Mappings.ToList())
        {
            var p = machine.Scheduler.OwnerOf(mm);
            p?.ForceSigMceerr(Sig.BUS_MCEERR_AR, va, PageDefs.PAGE_SHIFT);
        }
        return -Errno.EOPNOTSUPP;
    }
}
