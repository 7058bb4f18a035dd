using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Block;

/// <summary>
/// block/genhd.c for one machine: the registered disks (add_disk / del_gendisk) and their /dev nodes in the
/// machine's <see cref="DevTmpFs"/>. A singleton of the machine's container, created when a driver first asks
/// for it: resolve it with <c>machine.Services.GetRequiredService&lt;Genhd&gt;()</c>.
/// </summary>
public sealed class Genhd
{
    private readonly Dictionary<string, BlockDevice> _disks = new(StringComparer.Ordinal);
    private readonly DevTmpFs _dev;
    private readonly IEnumerable<BlockDeviceInterceptor> _interceptors;

    internal Genhd(DevTmpFs dev, IEnumerable<BlockDeviceInterceptor>? interceptors = null)
    {
        _dev = dev;
        _interceptors = interceptors ?? [];
    }

    /// <summary>BLOCK_EXT_MAJOR (include/uapi/linux/major.h): the major of dynamically numbered disks.</summary>
    public const uint BLOCK_EXT_MAJOR = 259;

    private uint _nextExtMinor;

    /// <summary>Registered disks by name.</summary>
    public IReadOnlyDictionary<string, BlockDevice> Disks => _disks;

    /// <summary>The disk called <paramref name="name"/> ("pmem0" or "/dev/pmem0"), or null.</summary>
    public BlockDevice? Find(string name)
    {
        if (name.StartsWith("/dev/", StringComparison.Ordinal)) name = name[5..];
        return _disks.GetValueOrDefault(name);
    }

    /// <summary>
    /// add_disk (device_add_disk): register the disk, create its bdev inode (i_size = capacity, the page cache with
    /// the blkdev address_space_operations) and the /dev node. 0, or -EEXIST for a taken name.
    /// </summary>
    public int AddDisk(BlockDevice disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        if (_disks.ContainsKey(disk.Name)) return -Errno.EEXIST;
        foreach (var i in _interceptors)
            if (i.DiskName == disk.Name) disk.Ops = i.Wrap(disk.Ops);
        disk.Major = BLOCK_EXT_MAJOR;
        disk.Minor = _nextExtMinor++;
        disk.Inode = _dev.AddBlockNode(disk);
        _disks.Add(disk.Name, disk);
        return 0;
    }

    /// <summary>del_gendisk: remove the disk and its /dev node (open files keep their inode). 0 or -ENOENT.</summary>
    public int DelGendisk(BlockDevice disk)
    {
        if (!_disks.Remove(disk.Name)) return -Errno.ENOENT;
        _dev.Unlink(disk.Name);
        return 0;
    }
}
