namespace KernelSim.Mm;

/// <summary>
/// What the host does when a guest access to a device-window page cannot be satisfied (the second-stage, EPT/NPT,
/// fault of a virtio shared-memory window, e.g. virtio-fs DAX). Not a kernel type: the host side (KVM + VMM) of the
/// simulation decides it, and the CPU acts on it.
/// </summary>
public enum HostFaultAction
{
    /// <summary>The access completes (the host page exists).</summary>
    None,
    /// <summary>
    /// KVM's async page-fault path: GUP fails, the failure is ignored, the vCPU/task is woken and retries forever
    /// (virt/kvm/async_pf.c async_pf_execute). Reported as a livelock of the current task.
    /// </summary>
    Livelock,
    /// <summary>KVM_RUN returns -EFAULT; the VMM prints "error: kvm run failed Bad address" and stops the VM.</summary>
    VmStop,
    /// <summary>Proposal (Vivek Goyal's RFC 2/3, not merged): the error reaches the guest, which sends SIGBUS to the user task.</summary>
    GuestSigbus,
    /// <summary>Discussed, never built: the host reports the failed load as a machine check to the guest.</summary>
    MachineCheck,
}

/// <summary>The host's answer for one guest access to a window page.</summary>
/// <param name="Action">None when the access may proceed; otherwise what the failed access becomes.</param>
/// <param name="BackingPfn">The host frame backing the page (what the EPT entry points to) when <paramref name="Action"/> is None.</param>
/// <param name="Reason">Why the access failed (for dmesg and traces).</param>
public readonly record struct WindowAccess(HostFaultAction Action, ulong BackingPfn, string? Reason)
{
    /// <summary>An access that proceeds to <paramref name="backingPfn"/>.</summary>
    public static WindowAccess Backed(ulong backingPfn) => new(HostFaultAction.None, backingPfn, null);
}

/// <summary>
/// The host side of a device window registered with <see cref="PhysicalMemory.SetWindowHandler"/>: consulted by
/// the CPU for every access to a page of the window (only for ranges that have a handler, so DRAM and pmem
/// accesses never pay for it). This is the second-stage translation (EPT) plus what KVM does when it fails.
/// </summary>
public interface IDeviceWindowHandler
{
    /// <summary>
    /// Translate page <paramref name="pageIndex"/> of the window for a load or store made in user or kernel mode:
    /// the backing frame, or the fault outcome.
    /// </summary>
    WindowAccess Access(ulong pageIndex, bool write, bool userMode);
}
