using KernelSim.Block;
using KernelSim.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>
/// A small extent-based filesystem for a pmem namespace ("daxfs" in traces), in the spirit of ext4/XFS on
/// /dev/pmemN: 4 KiB blocks, files and directories, extents that are mapped, holes or unwritten, allocation that
/// zeroes new blocks (through dax_zero_page_range on a dax mount, which also clears poison on whole pages; through
/// a zeroing bio otherwise), truncate, fallocate (allocate, punch hole, zero range), fsync and iomap_begin /
/// iomap_end. Mounted with dax=always, reads and writes go through fs/dax.c (<see cref="FsDax"/>) and bypass the
/// block layer; with dax=never they use the page cache (mm/filemap.c) and bios to the block driver, and O_DIRECT
/// builds bios from the user pages. Metadata (inodes, directories, extent maps, free space) lives in host memory
/// (<see cref="DaxFsVolume"/>); only file data is on the device.
/// </summary>
public sealed partial class DaxFs : FileSystem
{
    private readonly Dictionary<ulong, DaxInode> _icache = [];

    private DaxFs(Machine machine, FsDax fsDax, DaxFsVolume volume, BlockDevice? bdev, DaxDevice? dax, DaxFsOptions options) : base(machine, "daxfs")
    {
        FsDax = fsDax;
        Volume = volume;
        Bdev = bdev;
        DaxDev = dax;
        Options = options;
        IsDax = options.Dax == DaxMode.Always;
        if (bdev != null) Dev = (bdev.Major, bdev.Minor);
        IomapOps = new DaxFsIomapOps(this);
        MaxBytes = (1L << 44) - DaxFsVolume.BlockSize; // 2^32 blocks of 4 KiB, like ext4's extent-mapped files
    }

    /// <summary>The filesystem image.</summary>
    public DaxFsVolume Volume { get; }
    /// <summary>The block device (/dev/pmemN), if mounted on one.</summary>
    public BlockDevice? Bdev { get; }
    /// <summary>The dax_device (fs_dax_get_by_bdev), if the device supports DAX.</summary>
    public DaxDevice? DaxDev { get; }
    /// <summary>The mount options.</summary>
    public DaxFsOptions Options { get; }
    /// <summary>True for a dax=always mount (every regular file is DAX); see <see cref="DaxInode.IsDax"/> for one file.</summary>
    public bool IsDax { get; }
    /// <summary>The filesystem's iomap_ops (ext4_iomap_ops / xfs_read_iomap_ops in spirit).</summary>
    public DaxFsIomapOps IomapOps { get; }
    /// <summary>False once unmounted.</summary>
    public bool Mounted { get; private set; } = true;

    /// <summary>fs/dax.c of this machine (the container's singleton).</summary>
    public FsDax FsDax { get; }

    /// <summary>
    /// mount -t daxfs [-o dax=always|never|inode] /dev/pmemN: mount <paramref name="volume"/> on <paramref name="bdev"/>.
    /// dax=always needs the device's dax_device (−EINVAL, "DAX unsupported by block device", otherwise, as ext4
    /// refuses); dax=inode is an unknown option before 5.8 (−EINVAL); the dax_device is claimed with the holder
    /// operations of the chosen failure route. Returns 0 with the filesystem, or −errno.
    /// </summary>
    public static int Mount(Machine machine, BlockDevice bdev, DaxFsVolume volume, DaxFsOptions options, out DaxFs? fs)
    {
        ArgumentNullException.ThrowIfNull(bdev);
        fs = null;
        if (options.Dax == DaxMode.Inode && !machine.Profile.DaxInodeMode)
        {
            machine.State.Printk($"daxfs ({bdev.Name}): Unrecognized mount option \"dax=inode\" or missing value");
            return -Errno.EINVAL;
        }
        var dax = bdev.Dax;
        if (options.Dax == DaxMode.Always && dax == null)
        {
            machine.State.Printk($"daxfs ({bdev.Name}): DAX unsupported by block device.");
            return -Errno.EINVAL;
        }
        return MountCommon(machine, bdev, dax, volume, options, out fs);
    }

    /// <summary>
    /// Mount on a bare dax_device (no block device: dax=always only) — for tests that put a fake or Moq DAX
    /// driver under fs/dax.c. Returns 0 or −errno.
    /// </summary>
    public static int Mount(Machine machine, DaxDevice dax, DaxFsVolume volume, DaxFsOptions options, out DaxFs? fs)
    {
        fs = null;
        if (options.Dax != DaxMode.Always) return -Errno.EINVAL;
        return MountCommon(machine, null, dax, volume, options, out fs);
    }

    private static int MountCommon(Machine machine, BlockDevice? bdev, DaxDevice? dax, DaxFsVolume volume, DaxFsOptions options, out DaxFs? fs)
    {
        fs = new DaxFs(machine, machine.FsDax(), volume, bdev, dax, options);
        // setup_bdev_super: the superblock holds the block device exclusively (an O_EXCL open then gets −EBUSY).
        var r = bdev?.Claim(fs) ?? 0;
        if (r == 0) r = machine.Vfs.Mount(fs, options.MountPoint);
        if (r < 0)
        {
            bdev?.ReleaseClaim(fs);
            fs = null;
            return r;
        }
        if (dax != null && options.Dax != DaxMode.Never)
        {
            IDaxHolderOperations? hops = options.FailureRoute == FailureRoute.Generic ? null : new DaxFsHolder(fs);
            dax.SetHolder(fs, hops);
        }
        machine.State.Printk($"daxfs ({bdev?.Name ?? dax?.Name}): mounted filesystem{(options.Dax == DaxMode.Always ? " with DAX" : "")}");
        return 0;
    }

    /// <summary>Format a block device and mount it (setup helper; throws on failure).</summary>
    public static DaxFs FormatAndMount(Machine machine, BlockDevice bdev, DaxFsOptions? options = null)
    {
        var vol = DaxFsVolume.Format(bdev.SizeBytes);
        var r = Mount(machine, bdev, vol, options ?? new DaxFsOptions(), out var fs);
        if (r < 0) throw new InvalidOperationException($"mount {bdev.Name}: {Errno.Describe(r)}");
        return fs!;
    }

    /// <summary>
    /// umount: write back dirty page-cache data, commit every in-core inode, release the dax holder and leave the
    /// VFS (the image keeps the data). 0 or the write-back error.
    /// </summary>
    public int Unmount()
    {
        var err = 0;
        foreach (var ino in _icache.Values)
        {
            if (ino.Mapping != null)
            {
                var r = WritebackRange(ino, 0, long.MaxValue);
                if (r < 0 && err == 0) err = r;
            }
            ino.Commit();
        }
        if (DaxDev != null && ReferenceEquals(DaxDev.Holder, this)) DaxDev.PutHolder();
        Bdev?.ReleaseClaim(this);
        Machine.Vfs.Unmount(this);
        Mounted = false;
        return err;
    }

    /// <summary>The full path of a file in this mount ("/mnt/pmem/f").</summary>
    public string PathOf(string name) => MountPoint == "/" ? "/" + name : MountPoint + "/" + name.TrimStart('/');

    /// <summary>
    /// iget: the cached in-core inode, or a new one whose S_DAX is decided now (ext4_should_enable_dax /
    /// xfs_inode_should_enable_dax): never on dax=never, only for regular files on a DAX-capable device, always on
    /// dax=always, else FS_XFLAG_DAX (DX3). A non-DAX regular file gets a page cache.
    /// </summary>
    internal DaxInode Iget(FileNode node)
    {
        if (_icache.TryGetValue(node.Ino, out var ino)) return ino;
        var dax = ShouldEnableDax(node);
        var mapping = dax || node.IsDir ? null : new AddressSpace(Machine.Phys, new DaxFsBufferedAops(this));
        ino = new DaxInode(this, node, mapping, dax);
        _icache.Add(node.Ino, ino);
        return ino;
    }

    /// <summary>ext4_should_enable_dax / xfs_inode_should_enable_dax for an inode being loaded.</summary>
    internal bool ShouldEnableDax(FileNode node)
    {
        if (Options.Dax == DaxMode.Never || node.IsDir || DaxDev == null) return false;
        if (Options.Dax == DaxMode.Always) return true;
        return (node.Xflags & FsIoctl.FS_XFLAG_DAX) != 0;
    }

    /// <summary>True when the model imitates XFS (the notify_failure routes), false for ext4.</summary>
    internal bool XfsLike => Options.FailureRoute != FailureRoute.Generic;

    /// <summary>The in-core inodes.</summary>
    internal IEnumerable<DaxInode> InCore => _icache.Values.ToArray();

    /// <summary>The in-core inode for an on-image node, if it is cached.</summary>
    internal DaxInode? Ilookup(ulong ino) => _icache.GetValueOrDefault(ino);

    /// <inheritdoc/>
    public override Inode? Lookup(string path)
    {
        if (Volume.Walk(path, out var node, out _, out _) < 0 || node == null) return null;
        return Iget(node);
    }

    /// <inheritdoc/>
    public override long Create(string path, int mode, out Inode? inode) => CreateNode(path, isDir: false, mode, out inode);

    /// <summary>mkdir with mode 0755: 0, −EEXIST, −ENOENT (missing parent) or −ENOTDIR.</summary>
    public int Mkdir(string path) => Mkdir(path, 0x1ed);

    /// <inheritdoc/>
    public override int Mkdir(string path, int mode) => (int)CreateNode(path, isDir: true, mode, out _);

    /// <summary>
    /// rmdir (ext4_rmdir / xfs_remove in spirit): −ENOENT, −EBUSY for the root, −ENOTDIR for a file, −ENOTEMPTY; the
    /// directory's in-core inode is dropped.
    /// </summary>
    public override int Rmdir(string path)
    {
        var r = Volume.Walk(path, out var node, out var parent, out var name);
        if (r < 0) return r;
        if (node == null) return -Errno.ENOENT;
        if (parent == null) return -Errno.EBUSY;
        if (!node.IsDir) return -Errno.ENOTDIR;
        if (node.Children.Count > 0) return -Errno.ENOTEMPTY;
        parent.Children.Remove(name);
        node.Nlink = 0;
        _icache.Remove(node.Ino);
        return 0;
    }

    /// <summary>
    /// Create a file or directory: the new inode inherits FS_XFLAG_DAX from its parent directory (5.8+: ext4's
    /// EXT4_FL_INHERITED, xfs_inode_inherit_flags2; DX2) and gets the mode's permission bits and the current time.
    /// </summary>
    private long CreateNode(string path, bool isDir, int mode, out Inode? inode)
    {
        inode = null;
        var r = Volume.Walk(path, out var node, out var parent, out var name);
        if (r < 0) return r;
        if (parent == null) return -Errno.EEXIST; // the root
        if (node != null) return -Errno.EEXIST;
        if (name.Length > 255) return -Errno.ENAMETOOLONG;
        var n = Volume.NewNode(isDir);
        n.Perm = mode & 0xfff;
        if (Machine.Profile.DaxInodeMode) n.Xflags |= parent.Xflags & FsIoctl.FS_XFLAG_DAX;
        var now = (long)Machine.Clock.NowNs;
        n.Atime = n.Mtime = n.Ctime = n.Crtime = now;
        parent.Children.Add(name, n);
        var ino = Iget(n);
        ino.MetadataDirty = true;
        inode = ino;
        return 0;
    }

    /// <inheritdoc/>
    public override int Unlink(string path)
    {
        var r = Volume.Walk(path, out var node, out var parent, out var name);
        if (r < 0) return r;
        if (node == null || parent == null) return node == null ? -Errno.ENOENT : -Errno.EISDIR;
        if (node.IsDir) return -Errno.EISDIR; // may_delete: unlink(2) of a directory
        parent.Children.Remove(name);
        node.Nlink = 0;
        var ino = Iget(node);
        ino.ClearNlink();
        if (ino.OpenCount == 0) Evict(ino);
        else Volume.Orphans.Add(node);
        return 0;
    }

    /// <summary>The last reference to an unlinked inode is gone: its blocks are freed.</summary>
    internal void Evict(DaxInode ino)
    {
        FreeBlocks(ino, 0, long.MaxValue);
        ino.Mapping?.TruncateInodePagesFinal();
        Volume.Orphans.Remove(ino.Node);
        _icache.Remove(ino.Ino);
    }

    /// <inheritdoc/>
    public override int Open(string path, int flags, int mode, out KFile? file)
    {
        file = null;
        var r = Volume.Walk(path, out var node, out _, out _);
        if (r < 0) return r;
        if (node is { IsDir: true } && (flags & Fcntl.O_ACCMODE) != Fcntl.O_RDONLY) return -Errno.EISDIR;
        if (node == null && (flags & Fcntl.O_DIRECTORY) != 0) return -Errno.ENOENT;
        if (node is { IsDir: false } && (flags & Fcntl.O_DIRECTORY) != 0) return -Errno.ENOTDIR;
        return base.Open(path, flags, mode, out file);
    }

    /// <inheritdoc/>
    public override KFile OpenInode(Inode inode, int flags) => new DaxFile((DaxInode)inode, flags);

    /// <summary>
    /// setattr(ATTR_SIZE) (ext4_setattr / xfs_setattr_size in spirit), under i_rwsem: shrinking zeroes the tail of
    /// the new last block (dax_truncate_page on dax mounts: a known-bad page fails with −EIO and nothing changes),
    /// unmaps the pages past the new size from every process (truncate_pagecache) and frees the blocks past it;
    /// growing only sets i_size (the file becomes sparse). 0 or −errno.
    /// </summary>
    public override int Truncate(Inode inode, long size)
    {
        if (size < 0) return -Errno.EINVAL;
        if (inode is not DaxInode di) return base.Truncate(inode, size);
        if (di.Node.IsDir) return -Errno.EISDIR;
        di.Rwsem.DownWrite();
        try
        {
            return TruncateLocked(di, size);
        }
        finally
        {
            di.Rwsem.UpWrite();
        }
    }

    private int TruncateLocked(DaxInode di, long size)
    {
        using var fn = Machine.Tracer.Fn("daxfs_setattr_size", "fs");
        var old = di.Size;
        if (size < old)
        {
            var r = ZeroPartialBlock(di, size);
            if (r < 0) return r;
            di.Size = size;
            var hole = (long)PageDefs.PageAlign((ulong)size);
            di.UnmapMappingRange(hole, long.MaxValue);
            di.Mapping?.TruncateInodePages(size);
            var firstFree = (size + DaxFsVolume.BlockSize - 1) >> DaxFsVolume.BlockShift;
            FreeBlocks(di, firstFree, long.MaxValue);
            di.DropDaxEntries((ulong)firstFree, ulong.MaxValue);
        }
        else
        {
            di.Size = size;
        }
        di.UpdateTime(); // setattr: ATTR_MTIME | ATTR_CTIME with ATTR_SIZE
        return 0;
    }

    /// <summary>Zero [pos, end of its block) on the media or in the page cache (truncate / punch-hole edges).</summary>
    private int ZeroPartialBlock(DaxInode di, long pos)
    {
        var off = pos & (DaxFsVolume.BlockSize - 1);
        if (off == 0) return 0;
        return ZeroFileRange(di, pos, DaxFsVolume.BlockSize - off);
    }

    /// <summary>Zero file bytes [pos, pos+len) in place: dax_zero_range on dax mounts, the page cache otherwise.</summary>
    internal int ZeroFileRange(DaxInode di, long pos, long len)
    {
        if (len <= 0) return 0;
        if (di.IsDax) return FsDax.DaxZeroRange(di, pos, len, IomapOps);
        return ZeroPagecacheRange(di, pos, len);
    }

    /// <summary>Free file blocks [fblk, fblk+count) of an inode.</summary>
    internal void FreeBlocks(DaxInode di, long fblk, long count)
    {
        var freed = new List<(long, long)>();
        di.Node.Extents.Remove(fblk, count, freed);
        foreach (var (s, c) in freed) Volume.Free(s, c);
        if (freed.Count > 0) di.MetadataDirty = true;
    }

    // ---- allocation -------------------------------------------------------------------------------------

    /// <summary>
    /// Allocate up to <paramref name="count"/> blocks at file block <paramref name="fblk"/> (a hole) and zero them
    /// on the media: dax_zero_page_range per block on a dax mount (clears poison on whole pages), a zeroing write
    /// bio otherwise. Unwritten allocations are not zeroed (they read as zeros). Returns the extent or −errno
    /// (−ENOSPC, or the zeroing error, in which case nothing stays allocated).
    /// </summary>
    internal long AllocateBlocks(DaxInode di, long fblk, long count, bool unwritten, out Extent? ext)
    {
        ext = null;
        var goal = 0L;
        var prev = fblk > 0 ? di.Node.Extents.Lookup(fblk - 1, out _) : null;
        if (prev != null) goal = prev.DevOf(fblk - 1) + 1;
        var (start, got) = Volume.Allocate(count, goal);
        if (got == 0) return -Errno.ENOSPC;
        if (!unwritten)
        {
            var z = ZeroDeviceBlocks(start, got, di.IsDax);
            if (z < 0)
            {
                Volume.Free(start, got);
                return z;
            }
        }
        ext = new Extent(fblk, start, got, unwritten);
        di.Node.Extents.Insert(ext);
        di.MetadataDirty = true;
        return 0;
    }

    /// <summary>
    /// Zero device blocks [start, start+count) of a file: dax_zero_page_range per page for a DAX inode (XFS
    /// xfs_zero_extent), else write bios of the zero page (blkdev_issue_zeroout).
    /// </summary>
    internal int ZeroDeviceBlocks(long start, long count, bool dax)
    {
        using var fn = Machine.Tracer.Fn("daxfs_zero_blocks", "fs");
        if (dax && DaxDev != null)
        {
            for (var b = start; b < start + count; b++)
            {
                var r = DaxDev.ZeroPageRange((ulong)b, 1);
                if (r < 0) return r;
            }
            return 0;
        }
        if (Bdev == null) return -Errno.EIO;
        var zero = FsDax.ZeroPfn;
        for (var b = start; b < start + count;)
        {
            var bio = new Bio(Bdev, BioOp.REQ_OP_WRITE, b << (DaxFsVolume.BlockShift - 9));
            var n = 0;
            while (b < start + count && n < Bio.BIO_MAX_VECS)
            {
                bio.AddPage(zero, DaxFsVolume.BlockSize, 0);
                b++;
                n++;
            }
            var e = Bdev.SubmitBioWait(bio);
            if (e < 0) return e;
        }
        return 0;
    }

    /// <summary>
    /// Convert unwritten blocks [fblk, fblk+count) of extent <paramref name="e"/> to written, zeroing them on the
    /// media first (ext4's EXT4_GET_BLOCKS_CREATE_ZERO for DAX). 0 or −errno.
    /// </summary>
    internal int ConvertUnwritten(DaxInode di, Extent e, long fblk, long count)
    {
        var z = ZeroDeviceBlocks(e.DevOf(fblk), count, di.IsDax);
        if (z < 0) return z;
        di.Node.Extents.MarkWritten(fblk, count);
        di.MetadataDirty = true;
        return 0;
    }

    // ---- inspection (filefrag) --------------------------------------------------------------------------

    /// <summary>
    /// filefrag -v: the extents of a file as (file offset, device byte offset, length, unwritten), in file order.
    /// Device offsets are relative to the start of the block device (sector 0 of /dev/pmemN).
    /// </summary>
    public IReadOnlyList<(long FileOffset, long DeviceOffset, long Length, bool Unwritten)> Fiemap(string path)
    {
        var list = new List<(long, long, long, bool)>();
        if (Volume.Walk(path, out var node, out _, out _) < 0 || node == null) return list;
        foreach (var e in node.Extents.Extents)
            list.Add((e.FileBlock << DaxFsVolume.BlockShift, e.DevBlock << DaxFsVolume.BlockShift, e.Count << DaxFsVolume.BlockShift, e.Unwritten));
        return list;
    }

    /// <summary>The device byte offset holding file byte <paramref name="fileOffset"/>, or −1 for a hole (or no such file).</summary>
    public long DeviceOffsetOf(string path, long fileOffset)
    {
        if (fileOffset < 0 || Volume.Walk(path, out var node, out _, out _) < 0 || node == null) return -1;
        var e = node.Extents.Lookup(fileOffset >> DaxFsVolume.BlockShift, out _);
        if (e == null) return -1;
        return (e.DevOf(fileOffset >> DaxFsVolume.BlockShift) << DaxFsVolume.BlockShift) + (fileOffset & (DaxFsVolume.BlockSize - 1));
    }

    /// <summary>The device sector (512 B, relative to /dev/pmemN) holding file byte <paramref name="fileOffset"/>, or −1.</summary>
    public long SectorOf(string path, long fileOffset)
    {
        var d = DeviceOffsetOf(path, fileOffset);
        return d < 0 ? -1 : d >> 9;
    }

    /// <inheritdoc/>
    public override string ToString() => $"daxfs on {MountPoint} (dax={Options.Dax.ToString().ToLowerInvariant()}, {Options.FailureRoute})";
}
