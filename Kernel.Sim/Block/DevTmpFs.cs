using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Block;

/// <summary>
/// The bdev inode of a disk (fs/bdev: bdev_alloc): S_IFBLK, i_size = capacity × 512 and a page cache driven by the
/// blkdev address_space_operations. In this model the /dev node and the bdev inode are the same object.
/// </summary>
public sealed class BdevInode : Inode
{
    /// <summary>S_IFBLK.</summary>
    public const int S_IFBLK = 0x6000;

    internal BdevInode(FileSystem sb, ulong ino, BlockDevice bdev, AddressSpace mapping) : base(sb, ino, S_IFBLK | 0x1b0)
    {
        Bdev = bdev;
        Mapping = mapping;
        Size = bdev.SizeBytes;
    }

    /// <summary>I_BDEV(inode).</summary>
    public BlockDevice Bdev { get; }
}

/// <summary>
/// devtmpfs mounted on /dev (drivers/base/devtmpfs.c), holding only block device nodes: open(2) of /dev/NAME
/// goes through <see cref="OpenInode"/> to blkdev_open. Creating or removing nodes from user space is refused
/// (-EACCES / -EPERM): nodes come from <see cref="Genhd.AddDisk"/>. A singleton of the machine's container,
/// mounted when <see cref="Genhd"/> is first created.
/// </summary>
public sealed class DevTmpFs : FileSystem
{
    private readonly Dictionary<string, BdevInode> _nodes = new(StringComparer.Ordinal);
    private ulong _nextIno = 2;

    private DevTmpFs(Machine machine) : base(machine, "devtmpfs")
    {
    }

    /// <summary>devtmpfs_mount: create the machine's devtmpfs and mount it on /dev.</summary>
    internal static DevTmpFs Mount(Machine machine)
    {
        var fs = new DevTmpFs(machine);
        machine.Vfs.Mount(fs, "/dev");
        return fs;
    }

    /// <summary>The nodes by name ("pmem0").</summary>
    public IReadOnlyDictionary<string, BdevInode> Nodes => _nodes;

    internal BdevInode AddBlockNode(BlockDevice bdev)
    {
        var mapping = new AddressSpace(Machine.Phys, new BlkdevAops(bdev));
        var inode = new BdevInode(this, _nextIno++, bdev, mapping);
        _nodes[bdev.Name] = inode;
        return inode;
    }

    /// <inheritdoc/>
    public override Inode? Lookup(string path) => _nodes.GetValueOrDefault(path.Trim('/'));

    /// <inheritdoc/>
    public override long Create(string path, int mode, out Inode? inode)
    {
        inode = null;
        return -Errno.EACCES;
    }

    /// <inheritdoc/>
    public override int Unlink(string path) => _nodes.Remove(path.Trim('/')) ? 0 : -Errno.ENOENT;

    /// <summary>blkdev_open (block/fops.c): the struct file of a block device.</summary>
    public override KFile OpenInode(Inode inode, int flags) => new BlockDeviceFile((BdevInode)inode, flags);

    /// <summary>O_TRUNC on a block device is ignored (handle_truncate only truncates regular files).</summary>
    public override int Truncate(Inode inode, long size) => 0;
}
