using KernelSim.Drivers.Virtiofs.Host;

namespace KernelSim.Drivers.Virtiofs;

/// <summary>A virtio-fs share: the device (tag, DAX window), the host behind it and how the guest mounts it.</summary>
public sealed class VirtioFsOptions
{
    /// <summary>The device tag (virtio_fs_config.tag, at most 36 bytes; empty or containing a newline is refused).</summary>
    public string Tag { get; set; } = "myfs";

    /// <summary>Where the guest mounts it.</summary>
    public string MountPoint { get; set; } = "/mnt/virtiofs";

    /// <summary>
    /// Size of the DAX window (shared-memory region VIRTIO_FS_SHMCAP_ID_CACHE); 0 = no cache capability
    /// ("No cache capability", as mainline QEMU). Default 1 GiB (512 ranges).
    /// </summary>
    public ulong WindowBytes { get; set; } = 1UL << 30;

    /// <summary>Guest-physical address of the window (a 64-bit prefetchable BAR).</summary>
    public ulong WindowGpa { get; set; } = 0x80_0000_0000UL;

    /// <summary>The dax mount option.</summary>
    public DaxMountMode Dax { get; set; } = DaxMountMode.Always;

    /// <summary>What a host-side fault on the window becomes.</summary>
    public HostFaultPolicy HostFaultPolicy { get; set; } = HostFaultPolicy.UpstreamAsyncLivelock;

    /// <summary>The daemon's settings.</summary>
    public DaemonOptions Daemon { get; set; } = new();

    /// <summary>Validate replies like /dev/fuse does (see <see cref="Guest.FuseConn.StrictReplies"/>).</summary>
    public bool StrictReplies { get; set; }

    /// <summary>
    /// Wrap the device end of the virtqueues (the daemon) before it is connected — e.g. a Moq double that records the
    /// kicks and forwards them to the real daemon.
    /// </summary>
    public Func<Transport.IVirtioFsDevice, Transport.IVirtioFsDevice>? DeviceInterceptor { get; set; }

    /// <summary>FUSE_READ into pinned user pages passed as data descriptors (direct I/O), instead of a bounce buffer.</summary>
    public bool PinUserPages { get; set; }
}
