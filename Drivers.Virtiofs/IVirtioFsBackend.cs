using KernelSim.Drivers.Virtiofs.Host;
using KernelSim.Drivers.Virtiofs.Transport;

namespace KernelSim.Drivers.Virtiofs;

/// <summary>
/// The FUSE device seam: what the VMM plugs in behind a virtio-fs device's virtqueues (a vhost-user-fs backend such
/// as virtiofsd). Resolved from the machine's container when a share is created; replace it in
/// <c>MachineBuilder.Services</c> to observe or fake every FUSE request the guest sends.
/// </summary>
public interface IVirtioFsBackend
{
    /// <summary>The device end for a new share whose simulated daemon is <paramref name="daemon"/>.</summary>
    IVirtioFsDevice Connect(VirtioFsDaemon daemon, VirtioFsOptions options);
}

/// <summary>The default backend: the simulated daemon itself, wrapped by <see cref="VirtioFsOptions.DeviceInterceptor"/> when set.</summary>
public sealed class DaemonBackend : IVirtioFsBackend
{
    /// <inheritdoc/>
    public IVirtioFsDevice Connect(VirtioFsDaemon daemon, VirtioFsOptions options) => options.DeviceInterceptor?.Invoke(daemon) ?? daemon;
}
