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

    /// <inheritdoc/>
    public override (uint Major, uint Minor) Rdev => (Bdev.Major, Bdev.Minor);
}

/// <summary>cdev-&gt;ops-&gt;open: 0 with the struct file of an opened character device, or −errno.</summary>
public delegate int CdevOpen(CdevInode inode, int flags, out KFile? file);

/// <summary>A character device node (S_IFCHR) in devtmpfs: i_rdev and the driver's open.</summary>
public sealed class CdevInode : Inode
{
    internal CdevInode(FileSystem sb, ulong ino, uint major, uint minor, int perm, CdevOpen open) : base(sb, ino, Fcntl.S_IFCHR | (perm & 0xfff))
    {
        Major = major;
        Minor = minor;
        OpenFile = open;
    }

    /// <summary>MAJOR(i_rdev).</summary>
    public uint Major { get; }

    /// <summary>MINOR(i_rdev).</summary>
    public uint Minor { get; }

    /// <inheritdoc/>
    public override (uint Major, uint Minor) Rdev => (Major, Minor);

    internal CdevOpen OpenFile { get; }
}

/// <summary>
/// devtmpfs mounted on /dev (drivers/base/devtmpfs.c), holding block and character device nodes: open(2) of a block
/// node goes through <see cref="OpenInode"/> to blkdev_open, of a character node to the driver's open. Creating or removing nodes from user space is refused
/// (-EACCES / -EPERM): nodes come from <see cref="Genhd.AddDisk"/>. A singleton of the machine's container,
/// mounted when <see cref="Genhd"/> is first created.
/// </summary>
public sealed class DevTmpFs : FileSystem
{
    private readonly Dictionary<string, BdevInode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CdevInode> _chars = new(StringComparer.Ordinal);
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

    /// <summary>The block device nodes by name ("pmem0").</summary>
    public IReadOnlyDictionary<string, BdevInode> Nodes => _nodes;

    /// <summary>The character device nodes by name ("ndctl0", "dax0.0").</summary>
    public IReadOnlyDictionary<string, CdevInode> CharNodes => _chars;

    /// <summary>
    /// device_add of a character device (cdev_device_add + devtmpfs_create_node): /dev/<paramref name="name"/> with
    /// S_IFCHR | <paramref name="perm"/>, opened through <paramref name="open"/> (cdev-&gt;ops-&gt;open). −EEXIST when taken.
    /// </summary>
    public int AddCharNode(string name, uint major, uint minor, CdevOpen open, int perm = 0x180)
    {
        ArgumentNullException.ThrowIfNull(open);
        if (_nodes.ContainsKey(name) || _chars.ContainsKey(name)) return -Errno.EEXIST;
        _chars[name] = new CdevInode(this, _nextIno++, major, minor, perm, open);
        return 0;
    }

    /// <summary>devtmpfs_delete_node: remove /dev/<paramref name="name"/> (open files keep working as the driver allows); false when absent.</summary>
    public bool RemoveNode(string name)
    {
        if (_chars.Remove(name, out var c))
        {
            c.ClearNlink();
            return true;
        }
        return _nodes.Remove(name);
    }

    /// <summary>chrdev_open for character nodes, blkdev_open for block nodes; −ENOENT, −EEXIST, −EACCES as for any file.</summary>
    public override int Open(string path, int flags, int mode, out KFile? file)
    {
        if (_chars.TryGetValue(path.Trim('/'), out var c))
        {
            file = null;
            if ((flags & (Fcntl.O_CREAT | Fcntl.O_EXCL)) == (Fcntl.O_CREAT | Fcntl.O_EXCL)) return -Errno.EEXIST;
            if ((flags & Fcntl.O_DIRECTORY) != 0) return -Errno.ENOTDIR;
            var acc = flags & Fcntl.O_ACCMODE;
            var root = Machine.Current?.CapSysAdmin ?? true;
            if (!root && ((acc != Fcntl.O_WRONLY && (c.Mode & 0x4) == 0) || (acc != Fcntl.O_RDONLY && (c.Mode & 0x2) == 0))) return -Errno.EACCES;
            return c.OpenFile(c, flags & ~(Fcntl.O_CREAT | Fcntl.O_EXCL | Fcntl.O_TRUNC), out file);
        }
        var r = base.Open(path, flags, mode, out file);
        // blkdev_open: O_EXCL makes the open exclusive with the file as holder (bd_prepare_to_claim: −EBUSY when held).
        if (r == 0 && file is BlockDeviceFile bf && (flags & (Fcntl.O_EXCL | Fcntl.O_CREAT)) == Fcntl.O_EXCL)
        {
            var claim = bf.Bdev.Claim(bf);
            if (claim < 0)
            {
                bf.Release();
                file = null;
                return claim;
            }
        }
        return r;
    }

    internal BdevInode AddBlockNode(BlockDevice bdev)
    {
        var mapping = new AddressSpace(Machine.Phys, new BlkdevAops(bdev));
        var inode = new BdevInode(this, _nextIno++, bdev, mapping);
        _nodes[bdev.Name] = inode;
        return inode;
    }

    /// <inheritdoc/>
    public override Inode? Lookup(string path) => (Inode?)_nodes.GetValueOrDefault(path.Trim('/')) ?? _chars.GetValueOrDefault(path.Trim('/'));

    /// <inheritdoc/>
    public override long Create(string path, int mode, out Inode? inode)
    {
        inode = null;
        return -Errno.EACCES;
    }

    /// <inheritdoc/>
    public override int Unlink(string path) => RemoveNode(path.Trim('/')) ? 0 : -Errno.ENOENT;

    /// <summary>blkdev_open (block/fops.c): the struct file of a block device.</summary>
    public override KFile OpenInode(Inode inode, int flags) => new BlockDeviceFile((BdevInode)inode, flags);

    /// <summary>O_TRUNC on a block device is ignored (handle_truncate only truncates regular files).</summary>
    public override int Truncate(Inode inode, long size) => 0;
}
