using KernelSim.Block;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The dax bus of drivers/dax/bus.c with its one driver, device_dax (match_always): /sys/bus/dax/devices (a link per
/// dev_dax), /sys/bus/dax/drivers/device_dax (bind, unbind, new_id, remove_id; a link per bound device), and the dax
/// character-device numbers. A singleton of the machine's container (registered with the NVDIMM bus by AddPmem) and a
/// sysfs contributor: devices created before /sys is mounted (dax_pmem binding at boot) get their directories when it is.
/// </summary>
public sealed class DaxBus : ISysfsContributor
{
    private readonly List<DevDax> _devices = [];
    private KernfsDir? _devicesDir;
    private KernfsDir? _driverDir;

    /// <summary>The bus of <paramref name="machine"/>.</summary>
    public DaxBus(Machine machine) => Machine = machine;

    /// <summary>The machine.</summary>
    public Machine Machine { get; }

    /// <summary>
    /// The major of the dax character devices. The kernel takes it from alloc_chrdev_region (dynamic, counting down from
    /// 254), so it depends on what else registered first; the model uses 252, a common value.
    /// </summary>
    public const uint DaxMajor = 252;

    /// <summary>The dev_dax devices on the bus, in creation order.</summary>
    public IReadOnlyList<DevDax> Devices => _devices;

    /// <summary>The device called <paramref name="name"/> ("dax0.0", sysfs_streq: one trailing newline allowed), or null.</summary>
    public DevDax? Find(string name)
    {
        var n = name.EndsWith('\n') ? name[..^1] : name;
        foreach (var d in _devices) if (d.Name == n) return d;
        return null;
    }

    internal Sysfs Sysfs => Machine.Services.GetRequiredService<Sysfs>();

    internal DevTmpFs DevTmpFs => Machine.Services.GetRequiredService<DevTmpFs>();

    /// <summary>True once /sys is mounted and /sys/bus/dax exists (devices then get their sysfs nodes at once).</summary>
    internal bool SysfsReady => _devicesDir != null;

    /// <summary>/sys/bus/dax/devices (bus_register + driver_register, done when /sys is mounted).</summary>
    internal KernfsDir DevicesDir => _devicesDir ?? throw new InvalidOperationException("/sys is not mounted");

    /// <summary>/sys/bus/dax/drivers/device_dax.</summary>
    internal KernfsDir DriverDir => _driverDir ?? throw new InvalidOperationException("/sys is not mounted");

    /// <inheritdoc/>
    public void Populate(Sysfs sysfs)
    {
        ArgumentNullException.ThrowIfNull(sysfs);
        var bus = sysfs.Root.Dir("bus/dax");
        _devicesDir = bus.Dir("devices");
        _driverDir = bus.Dir("drivers/device_dax");
        _driverDir.Attr("bind", 0x80, null, BindStore);
        _driverDir.Attr("unbind", 0x80, null, UnbindStore);
        _driverDir.Attr("new_id", 0x80, null, s => IdStore(s, add: true));
        _driverDir.Attr("remove_id", 0x80, null, s => IdStore(s, add: false));
        _driverDir.Attr("uevent", 0x80, null, s => s.Length);
        foreach (var d in _devices) d.CreateSysfs();
    }

    /// <summary>The lowest minor no live device uses (dax_minor_ida).</summary>
    internal uint AllocMinor()
    {
        uint m = 0;
        while (_devices.Any(d => d.Minor == m)) m++;
        return m;
    }

    internal void Add(DevDax d) => _devices.Add(d);

    internal void Remove(DevDax d) => _devices.Remove(d);

    /// <summary>bind_store (drivers/base/bus.c): probe the named, unbound device; −ENODEV for an unknown or bound one, else its probe result.</summary>
    private long BindStore(string s)
    {
        var d = Find(s);
        if (d == null || d.Bound) return -Errno.ENODEV;
        var rc = d.Probe();
        return rc < 0 ? rc : s.Length;
    }

    /// <summary>unbind_store: remove the driver from the named device; −ENODEV when unknown or not bound to device_dax.</summary>
    private long UnbindStore(string s)
    {
        var d = Find(s);
        if (d == null || !d.Bound) return -Errno.ENODEV;
        d.Remove();
        return s.Length;
    }

    /// <summary>
    /// do_id_store: "dax%d.%d" exactly (sysfs_streq) or −EINVAL. The id list only matters for drivers without
    /// match_always; device_dax matches every device, so new_id's driver_attach binds every unbound device (probe
    /// failures are not reported) and remove_id changes nothing.
    /// </summary>
    private long IdStore(string s, bool add)
    {
        var n = s.EndsWith('\n') ? s[..^1] : s;
        var parts = n.StartsWith("dax", StringComparison.Ordinal) ? n[3..].Split('.') : [];
        if (parts.Length != 2 || !int.TryParse(parts[0], out var r) || !int.TryParse(parts[1], out var i) || n != $"dax{r}.{i}") return -Errno.EINVAL;
        if (add)
        {
            foreach (var d in _devices.ToArray()) if (!d.Bound) d.Probe();
        }
        return s.Length;
    }
}
