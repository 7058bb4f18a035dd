namespace KernelSim.Fs.Kernfs;

/// <summary>
/// A driver's part of /sys, added when sysfs is first mounted (the device_add → sysfs_create_dir work of devices that
/// exist by then), so machines that never touch /sys build no nodes. Register implementations in the machine's
/// container; <see cref="Sysfs"/> calls each once, in registration order, right after it is mounted.
/// </summary>
public interface ISysfsContributor
{
    /// <summary>Create this driver's directories, attributes and links under <paramref name="sysfs"/>.</summary>
    void Populate(Sysfs sysfs);
}
