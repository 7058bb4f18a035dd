using KernelSim.Fs.Kernfs;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// A device on the nd bus (struct device with dev-&gt;bus = &amp;nvdimm_bus_type): its name, parent region, the driver it
/// is bound to (dev-&gt;driver) and, once /sys is mounted, its sysfs directory.
/// </summary>
public abstract class NdDevice
{
    /// <summary>A device called <paramref name="name"/>.</summary>
    protected NdDevice(string name) => Name = name;

    /// <summary>dev_name(): "region0", "namespace0.0", "pfn0.1", "nmem0", "ndbus0".</summary>
    public string Name { get; }

    /// <summary>The name and a newline, as the attributes that name a device show it (made once per device).</summary>
    internal string NameLine => _nameLine ??= Name + "\n";

    private string? _nameLine;

    /// <summary>The name of the bound driver ("nd_pmem", "nd_region", …), or null (dev-&gt;driver == NULL).</summary>
    public string? Driver { get; internal set; }

    /// <summary>device_is_registered: false once nd_device_unregister removed it.</summary>
    public bool Registered { get; internal set; } = true;

    /// <summary>The device's directory under /sys/devices (null until /sys is mounted).</summary>
    public KernfsDir? SysDir { get; internal set; }

    /// <summary>The device type name (DEVTYPE in uevent): nd_region's "nd_pmem", "nd_namespace_pmem", "nd_pfn", "nvdimm", …</summary>
    public abstract string DevType { get; }

    /// <inheritdoc/>
    public override string ToString() => Driver == null ? Name : $"{Name} ({Driver})";
}

/// <summary>The bus device ndbusN (nvdimm_bus_register), bound to the nd_bus driver.</summary>
public sealed class NdBusDevice(int id) : NdDevice($"ndbus{id}")
{
    /// <inheritdoc/>
    public override string DevType => "nvdimm_bus";
}
