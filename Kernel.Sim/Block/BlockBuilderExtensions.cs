using KernelSim.Kernel;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Block;

/// <summary>Composition of the block layer: disks added at boot through the container's <see cref="Genhd"/>.</summary>
public static class BlockBuilderExtensions
{
    /// <summary>
    /// Add a disk served by <paramref name="ops"/> (any <see cref="IBlockDeviceOps"/>, e.g. a Moq double): at boot
    /// it is added with <see cref="Genhd.AddDisk"/> and appears as /dev/<paramref name="name"/>, so read(2), write(2)
    /// and O_DIRECT on it go through the block layer to <paramref name="ops"/>.
    /// </summary>
    public static MachineBuilder AddDisk(this MachineBuilder builder, string name, long capacitySectors, IBlockDeviceOps ops,
        uint logicalBlockSize = BlockDevice.SECTOR_SIZE)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(ops);
        return builder.OnBoot(m =>
        {
            var disk = new BlockDevice(m, name, capacitySectors, ops, logicalBlockSize);
            var r = m.Services.GetRequiredService<Genhd>().AddDisk(disk);
            if (r < 0) throw new InvalidOperationException($"add_disk {name}: {Uapi.Errno.Describe(r)}");
        });
    }

    /// <summary>
    /// Put <paramref name="wrap"/> around the block_device_operations of the disk called <paramref name="name"/> when a
    /// driver adds it (any order with the Add… that creates it): every bio the block layer submits to that disk goes
    /// through the wrapper, as through a stacking driver (dm-flakey, dm-dust) in Linux. Tests plant defects with it.
    /// </summary>
    public static MachineBuilder InterceptDisk(this MachineBuilder builder, string name, Func<IBlockDeviceOps, IBlockDeviceOps> wrap)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(wrap);
        builder.Services.AddSingleton(new BlockDeviceInterceptor(name, wrap));
        return builder;
    }
}

/// <summary>A wrapper put around the <see cref="IBlockDeviceOps"/> of disk <paramref name="DiskName"/> at <see cref="Genhd.AddDisk"/>.</summary>
public sealed record BlockDeviceInterceptor(string DiskName, Func<IBlockDeviceOps, IBlockDeviceOps> Wrap);
