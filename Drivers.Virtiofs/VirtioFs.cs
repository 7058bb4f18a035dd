using System.Runtime.CompilerServices;
using KernelSim.Kernel;

namespace KernelSim.Drivers.Virtiofs;

/// <summary>
/// Composition: attach a virtio-fs device (with its host side) to a machine and mount it. Use
/// <see cref="Attach"/> on a <see cref="MachineBuilder"/> (mounted at boot) or <see cref="Create"/> on a booted
/// machine; get the share back with <see cref="Shares"/>.
/// </summary>
public static class VirtioFs
{
    private static readonly ConditionalWeakTable<Machine, List<VirtioFsShare>> PerMachine = new();

    /// <summary>
    /// Boot with a virtio-fs share mounted: the device and host are created and the guest mounts it when the machine
    /// boots. <paramref name="setup"/> (optional) runs before the mount, e.g. to create host files.
    /// </summary>
    public static MachineBuilder AddVirtioFs(this MachineBuilder builder, VirtioFsOptions options, Action<VirtioFsShare>? setup = null) =>
        Attach(builder, options, setup);

    /// <summary>Same as <see cref="AddVirtioFs"/>.</summary>
    public static MachineBuilder Attach(MachineBuilder builder, VirtioFsOptions options, Action<VirtioFsShare>? setup = null) =>
        builder.OnBoot(m =>
        {
            var share = Create(m, options);
            setup?.Invoke(share);
            var r = share.Mount();
            if (r < 0) m.State.Printk($"virtiofs: mount {options.MountPoint} failed: {Uapi.Errno.Describe(r)}");
        });

    /// <summary>Create the device and its host on a booted machine (not mounted yet; call <see cref="VirtioFsShare.Mount"/>).</summary>
    public static VirtioFsShare Create(Machine machine, VirtioFsOptions options)
    {
        var list = PerMachine.GetValue(machine, _ => []);
        var o = options;
        if (list.Count > 0 && o.WindowGpa == new VirtioFsOptions().WindowGpa) o.WindowGpa += (ulong)list.Count * 0x10_0000_0000UL;
        var share = new VirtioFsShare(machine, o);
        list.Add(share);
        return share;
    }

    /// <summary>The shares attached to a machine, in creation order.</summary>
    public static IReadOnlyList<VirtioFsShare> Shares(Machine machine) => PerMachine.TryGetValue(machine, out var l) ? l : [];
}
