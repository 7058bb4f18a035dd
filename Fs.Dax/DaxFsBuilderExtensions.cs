using KernelSim.Block;
using KernelSim.Kernel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KernelSim.Fs.Dax;

/// <summary>
/// Composition of the fsdax filesystem: register fs/dax.c (<see cref="FsDax"/>, one per machine) in the container
/// (register_filesystem, in effect), and optionally format and mount a daxfs at boot.
/// </summary>
public static class DaxFsBuilderExtensions
{
    /// <summary>Register fs/dax.c as a container singleton; needed before <see cref="DaxFs.Mount(Machine, BlockDevice, DaxFsVolume, DaxFsOptions, out DaxFs?)"/>.</summary>
    public static MachineBuilder AddDaxFs(this MachineBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(sp => new FsDax(sp.GetRequiredService<Machine>()));
        return builder;
    }

    /// <summary>
    /// Register fs/dax.c and, at boot, format the block device <paramref name="device"/> ("pmem0", found through
    /// <see cref="Genhd"/>) and mount it with <paramref name="options"/> (<see cref="DaxFs.FormatAndMount"/>).
    /// </summary>
    public static MachineBuilder AddDaxFs(this MachineBuilder builder, string device, DaxFsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        return builder.AddDaxFs().OnBoot(m =>
        {
            var bdev = m.Services.GetRequiredService<Genhd>().Find(device) ?? throw new InvalidOperationException($"no block device {device}");
            DaxFs.FormatAndMount(m, bdev, options);
        });
    }

    /// <summary>The machine's fs/dax.c, resolved from its container; throws when the machine was built without <see cref="AddDaxFs(MachineBuilder)"/>.</summary>
    public static FsDax FsDax(this Machine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return machine.Services.GetService<FsDax>()
            ?? throw new InvalidOperationException("fs/dax.c is not registered: build the machine with AddDaxFs()");
    }
}
