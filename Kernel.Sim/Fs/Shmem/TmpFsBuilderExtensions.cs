using KernelSim.Kernel;

namespace KernelSim.Fs;

/// <summary>Composition: boot with a tmpfs mounted.</summary>
public static class TmpFsBuilderExtensions
{
    /// <summary>mount -t tmpfs at boot (<see cref="TmpFs.Mount"/>); find it again through <see cref="Machine.Vfs"/>.</summary>
    public static MachineBuilder AddTmpFs(this MachineBuilder builder, TmpFsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.OnBoot(m => TmpFs.Mount(m, options));
    }
}
