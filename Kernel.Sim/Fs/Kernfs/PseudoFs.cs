using KernelSim.Kernel;

namespace KernelSim.Fs.Kernfs;

/// <summary>
/// sysfs mounted on /sys (fs/sysfs): the device model's directories, created empty here (block, bus, class, devices,
/// firmware, fs, kernel, kernel/mm, module) for drivers to fill. A singleton of the machine's container, mounted the first
/// time anything resolves it or a path below /sys.
/// </summary>
public sealed class Sysfs : KernfsFs
{
    private Sysfs(Machine machine) : base(machine, "sysfs")
    {
        foreach (var d in new[] { "block", "bus", "class", "dev/block", "dev/char", "devices", "firmware", "fs", "kernel/mm", "kernel/debug", "module", "power" })
            Root.Dir(d);
    }

    internal static Sysfs Mount(Machine machine)
    {
        var fs = new Sysfs(machine);
        machine.Vfs.Mount(fs, "/sys");
        return fs;
    }
}

/// <summary>
/// procfs mounted on /proc (fs/proc), as a kernfs-style tree: /proc/sys/vm is created empty for the sysctls. A singleton of
/// the machine's container, mounted on first use.
/// </summary>
public sealed class Procfs : KernfsFs
{
    private Procfs(Machine machine) : base(machine, "proc") => Root.Dir("sys/vm");

    internal static Procfs Mount(Machine machine)
    {
        var fs = new Procfs(machine);
        machine.Vfs.Mount(fs, "/proc");
        return fs;
    }
}

/// <summary>debugfs mounted on /sys/kernel/debug (fs/debugfs). A singleton of the machine's container, mounted on first use.</summary>
public sealed class Debugfs : KernfsFs
{
    private Debugfs(Machine machine) : base(machine, "debugfs")
    {
    }

    internal static Debugfs Mount(Machine machine)
    {
        var fs = new Debugfs(machine);
        machine.Vfs.Mount(fs, "/sys/kernel/debug");
        return fs;
    }
}
