namespace KernelSim.Drivers.Virtiofs;

/// <summary>
/// What a guest access to a DAX-window page whose host file page is gone (beyond the host file's EOF) becomes
/// (docs/kernel/virtiofs.md#outcome-matrix). The first two are upstream; the others are the unmerged proposals,
/// as named what-ifs.
/// </summary>
public enum HostFaultPolicy
{
    /// <summary>
    /// Upstream, KVM takes the async page-fault path (guest interrupts enabled): the failed GUP is ignored, the vCPU
    /// or task is woken and retries forever. read()/write() and user loads/stores never return (a livelock).
    /// </summary>
    UpstreamAsyncLivelock,
    /// <summary>Upstream, synchronous path (or arm64): KVM_RUN → -EFAULT, "error: kvm run failed Bad address", VM stopped.</summary>
    UpstreamSyncVmStop,
    /// <summary>Vivek Goyal's v4 "Exit to user space in case page fault error" (2020, not merged): always the VM stop.</summary>
    ProposedExitToUserVmStop,
    /// <summary>
    /// Vivek Goyal's RFC 2/3 (2020, not merged): the error reaches the guest in the "page ready" event; a user task
    /// gets SIGBUS (BUS_ADRERR here [INFERENCE]); guest kernel accesses have no delivery mechanism → VM stop.
    /// </summary>
    ProposedGuestSigbus,
    /// <summary>
    /// The #MC-injection idea (discussed 2020, never built): a failed load is reported as a machine check and the
    /// virtio-fs DAX device uses machine-check-safe copies (DAXDEV_NOMC), so a kernel read returns a short count or
    /// -EFAULT and a user load gets SIGBUS BUS_MCEERR_AR; stores have no synchronous report (→ VM stop).
    /// </summary>
    ProposedMachineCheck,
}
