using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// The machine's VFS state: the mount table (longest mount-point prefix wins in path lookup) and the
/// shared page-cache read/write code (<see cref="Filemap"/>). One per machine: a singleton of the machine's
/// container, reached as <see cref="Machine.Vfs"/>.
/// </summary>
public sealed class Vfs
{
    private readonly List<FileSystem> _mounts = [];
    private readonly List<(string MountPoint, Func<IServiceProvider, FileSystem> Mount, IServiceProvider Services)> _automounts = [];
    private readonly MachineState _state;
    private int _lastMntId; // mnt_alloc_id: opaque, unique per mount
    private uint _lastAnonMinor;

    internal Vfs(MachineState state, Filemap filemap)
    {
        _state = state;
        Filemap = filemap;
    }

    /// <summary>mm/filemap.c for this machine.</summary>
    public Filemap Filemap { get; }

    /// <summary>Mounted filesystems in mount order.</summary>
    public IReadOnlyList<FileSystem> Mounts => _mounts;

    /// <summary>Mount <paramref name="fs"/> at <paramref name="mountPoint"/> (an absolute path); −EBUSY if taken, −EINVAL if not absolute.</summary>
    public int Mount(FileSystem fs, string mountPoint) => DoMount(fs, mountPoint, quiet: false);

    /// <summary>
    /// <see cref="Mount(FileSystem, string)"/>; <paramref name="quiet"/> leaves no dmesg line (init's pseudo filesystems,
    /// which Linux mounts without a message).
    /// </summary>
    internal int DoMount(FileSystem fs, string mountPoint, bool quiet)
    {
        if (mountPoint.Length == 0 || mountPoint[0] != '/') return -Errno.EINVAL;
        var mp = mountPoint.Length > 1 ? mountPoint.TrimEnd('/') : mountPoint;
        foreach (var m in _mounts) if (m.MountPoint == mp) return -Errno.EBUSY;
        fs.MountPoint = mp;
        fs.MntId = ++_lastMntId;
        if (fs.Dev == default) fs.Dev = (0, ++_lastAnonMinor); // set_anon_super: get_anon_bdev
        _mounts.Add(fs);
        if (!quiet) _state.Printk($"{fs.Name}: mounted on {mp}");
        return 0;
    }

    /// <summary>
    /// Register a filesystem that mounts itself on <paramref name="mountPoint"/> the first time a path at or below it is
    /// resolved (the pseudo filesystems init would mount at boot; created on demand to keep boot cheap).
    /// <paramref name="mount"/> gets <paramref name="services"/> (a static lambda: no delegate per machine).
    /// </summary>
    internal void Automount(string mountPoint, Func<IServiceProvider, FileSystem> mount, IServiceProvider services) =>
        _automounts.Add((mountPoint, mount, services));

    private void RunAutomounts(string path)
    {
        for (var i = 0; i < _automounts.Count; i++)
        {
            var (mp, mount, services) = _automounts[i];
            if (path != mp && !(path.Length > mp.Length && path[mp.Length] == '/' && path.StartsWith(mp, StringComparison.Ordinal))) continue;
            _automounts.RemoveAt(i);
            i = -1; // a mount may itself resolve paths; rescan from the start
            mount(services);
        }
    }

    /// <summary>umount: remove <paramref name="fs"/> from the mount table; −EINVAL if it is not mounted.</summary>
    public int Unmount(FileSystem fs)
    {
        if (!_mounts.Remove(fs)) return -Errno.EINVAL;
        _state.Printk($"{fs.Name}: unmounted {fs.MountPoint}");
        return 0;
    }

    /// <summary>
    /// Path walk: the filesystem whose mount point is the longest prefix of <paramref name="path"/> and the
    /// path inside it; −ENOENT when nothing is mounted there, −EINVAL for a relative path.
    /// </summary>
    public int Resolve(string path, out FileSystem? fs, out string rest)
    {
        var r = ResolveAt(path, out fs, out var at);
        rest = r < 0 ? "" : Rest(path, at);
        return r;
    }

    /// <summary>
    /// <see cref="Resolve"/> giving the offset in <paramref name="path"/> where the path inside the filesystem starts
    /// (its mount point's length) instead of cutting it out.
    /// </summary>
    internal int ResolveAt(string path, out FileSystem? fs, out int at)
    {
        fs = null;
        at = 0;
        if (string.IsNullOrEmpty(path) || path[0] != '/') return -Errno.ENOENT;
        if (_automounts.Count > 0) RunAutomounts(path);
        foreach (var m in _mounts)
        {
            var mp = m.MountPoint;
            var match = mp == "/" || path == mp || (path.StartsWith(mp, StringComparison.Ordinal) && path.Length > mp.Length && path[mp.Length] == '/');
            if (!match || (fs != null && fs.MountPoint.Length >= mp.Length)) continue;
            fs = m;
        }
        if (fs == null) return -Errno.ENOENT;
        at = fs.MountPoint.Length;
        return 0;
    }

    /// <summary>The path inside the filesystem: what follows <paramref name="at"/>, without its leading slashes.</summary>
    internal static string Rest(string path, int at) => path.Length > at ? path[at..].TrimStart('/') : "";
}
