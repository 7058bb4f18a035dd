using KernelSim.Drivers.Virtiofs.Host;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KernelSim.Drivers.Virtiofs;

/// <summary>
/// The virtio-fs devices of a machine, in creation order (virtio_fs_instances, fs/fuse/virtio_fs.c). A singleton of
/// the machine's container, registered by <see cref="VirtioFs.AddVirtioFs(MachineBuilder)"/>.
/// </summary>
public sealed class VirtioFsInstances
{
    private readonly List<VirtioFsShare> _shares = [];

    /// <summary>The shares, in creation order.</summary>
    public IReadOnlyList<VirtioFsShare> Shares => _shares;

    internal void Add(VirtioFsShare share) => _shares.Add(share);
}

/// <summary>
/// Composition: register the virtio-fs driver in a machine's container and attach devices (with their host side).
/// Use <see cref="AddVirtioFs(MachineBuilder, VirtioFsOptions, Action{VirtioFsShare}?)"/> (mounted at boot) or
/// <see cref="Create"/> on a booted machine built with <see cref="AddVirtioFs(MachineBuilder)"/>; get the shares back
/// with <see cref="Shares"/>.
/// </summary>
public static class VirtioFs
{
    /// <summary>
    /// Register the driver: <see cref="VirtioFsInstances"/>, <see cref="HostMemory"/>, the <see cref="IVirtioFsBackend"/>
    /// (unless one is already registered) and fs/dax.c. No device yet.
    /// </summary>
    public static MachineBuilder AddVirtioFs(this MachineBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<VirtioFsInstances>();
        builder.Services.TryAddSingleton(sp => new HostMemory(sp.GetRequiredService<Mm.PhysicalMemory>()));
        builder.Services.TryAddSingleton<IVirtioFsBackend, DaemonBackend>();
        return builder.AddDaxFs();
    }

    /// <summary>
    /// Boot with a virtio-fs share mounted: the driver is registered, and the device and host are created and the guest
    /// mounts it when the machine boots. <paramref name="setup"/> (optional) runs before the mount, e.g. to create host files.
    /// </summary>
    public static MachineBuilder AddVirtioFs(this MachineBuilder builder, VirtioFsOptions options, Action<VirtioFsShare>? setup = null) =>
        Attach(builder, options, setup);

    /// <summary>Same as <see cref="AddVirtioFs(MachineBuilder, VirtioFsOptions, Action{VirtioFsShare}?)"/>.</summary>
    public static MachineBuilder Attach(MachineBuilder builder, VirtioFsOptions options, Action<VirtioFsShare>? setup = null) =>
        builder.AddVirtioFs().OnBoot(m =>
        {
            var share = Create(m, options);
            setup?.Invoke(share);
            var r = share.Mount();
            if (r < 0) m.State.Printk($"virtiofs: mount {options.MountPoint} failed: {Uapi.Errno.Describe(r)}");
        });

    /// <summary>
    /// Create the device and its host on a booted machine (not mounted yet; call <see cref="VirtioFsShare.Mount"/>).
    /// Throws <see cref="InvalidOperationException"/> when the machine was built without the driver.
    /// </summary>
    public static VirtioFsShare Create(Machine machine, VirtioFsOptions options)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var sp = machine.Services;
        var list = sp.GetService<VirtioFsInstances>() ?? throw new InvalidOperationException("virtio-fs is not registered: build the machine with AddVirtioFs()");
        var o = options;
        if (list.Shares.Count > 0 && o.WindowGpa == new VirtioFsOptions().WindowGpa) o.WindowGpa += (ulong)list.Shares.Count * 0x10_0000_0000UL;
        var share = new VirtioFsShare(machine, o, sp.GetRequiredService<HostMemory>(), machine.FsDax(), sp.GetRequiredService<IVirtioFsBackend>());
        list.Add(share);
        return share;
    }

    /// <summary>The shares attached to a machine, in creation order (empty without the driver).</summary>
    public static IReadOnlyList<VirtioFsShare> Shares(Machine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return machine.Services.GetService<VirtioFsInstances>()?.Shares ?? [];
    }
}
