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

    internal static Sysfs Mount(Machine machine, IEnumerable<ISysfsContributor>? contributors = null)
    {
        var fs = new Sysfs(machine);
        machine.Vfs.DoMount(fs, "/sys", quiet: true);
        foreach (var c in contributors ?? []) c.Populate(fs);
        return fs;
    }
}

/// <summary>
/// procfs mounted on /proc (fs/proc), as a kernfs-style tree: /proc/sys/vm is created empty for the sysctls, /proc/self is
/// a link to the calling process's directory, and /proc/&lt;pid&gt; directories are built on demand for live processes
/// from the entries registered with <see cref="RegisterPidEntry"/> (fs/proc/base.c tgid_base_stuff). A singleton of the
/// machine's container, mounted on first use.
/// </summary>
public sealed class Procfs : KernfsFs
{
    private readonly List<Func<Process, KernfsNode>> _pidEntries = [];
    private readonly Dictionary<Process, KernfsDir> _pidDirs = new(ReferenceEqualityComparer.Instance);

    private Procfs(Machine machine) : base(machine, "proc")
    {
        Root.Dir("sys/vm");
        Root.DynamicLookup = name => name == "self" ? Self() : int.TryParse(name, out var pid) && pid > 0 ? PidDir(pid) : null;
        Root.DynamicList = () => Machine.Scheduler.Processes.Where(p => p.Alive).Select(p => (KernfsNode)PidDir(p.Pid)!);
        ProcPid.Register(this);
        ProcMm.Register(this);
    }

    internal static Procfs Mount(Machine machine)
    {
        var fs = new Procfs(machine);
        machine.Vfs.DoMount(fs, "/proc", quiet: true);
        return fs;
    }

    /// <summary>
    /// Add an entry to every /proc/&lt;pid&gt; directory: <paramref name="make"/> builds it for a process (a file whose
    /// callbacks read that process's state). Directories already built get it too.
    /// </summary>
    public void RegisterPidEntry(Func<Process, KernfsNode> make)
    {
        ArgumentNullException.ThrowIfNull(make);
        _pidEntries.Add(make);
        foreach (var (p, d) in _pidDirs) d.TryAdd(make(p));
    }

    /// <summary>The /proc/&lt;pid&gt; directory of a live process, or null (proc_pid_lookup: −ENOENT for a dead or unknown pid).</summary>
    public KernfsDir? PidDir(int pid)
    {
        var p = Machine.Scheduler.Processes.FirstOrDefault(x => x.Pid == pid && x.Alive);
        if (p == null) return null;
        if (_pidDirs.TryGetValue(p, out var d)) return d;
        d = new KernfsDir(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), 0x16d);
        foreach (var make in _pidEntries) d.TryAdd(make(p));
        _pidDirs[p] = d;
        return d;
    }

    // proc_self_get_link: a link to the caller's directory (current is the process in the system call).
    private KernfsNode? Self() =>
        Machine.Current is { } cur && Root.Child(cur.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } d ? new KernfsLink("self", d) : null;
}

/// <summary>debugfs mounted on /sys/kernel/debug (fs/debugfs). A singleton of the machine's container, mounted on first use.</summary>
public sealed class Debugfs : KernfsFs
{
    private Debugfs(Machine machine) : base(machine, "debugfs")
    {
        HwpoisonInject.Register(this);
    }

    internal static Debugfs Mount(Machine machine)
    {
        var fs = new Debugfs(machine);
        machine.Vfs.DoMount(fs, "/sys/kernel/debug", quiet: true);
        return fs;
    }
}
