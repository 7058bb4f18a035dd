using KernelSim.Kernel;

namespace KernelSim.Fs;

/// <summary>Composition: boot with a ramfs mounted.</summary>
public static class RamFsBuilderExtensions
{
    /// <summary>mount -t ramfs at boot (<see cref="RamFs.Mount"/>); find it again through <see cref="Machine.Vfs"/>.</summary>
    public static MachineBuilder AddRamFs(this MachineBuilder builder, RamFsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.OnBoot(m => RamFs.Mount(m, options));
    }
}
