using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// fs/ramfs (with a selectable write_end, see <see cref="RamFsOptions.WriteEnd"/>): regular files whose data
/// lives only in the page cache (DRAM pages, index → pfn, per-folio uptodate). Flat namespace: a path is a
/// file name in the mount. "ramfs" in traces.
/// </summary>
public sealed class RamFs : FileSystem
{
    private readonly Dictionary<string, Inode> _files = new(StringComparer.Ordinal);
    private ulong _nextIno = 2;

    private RamFs(Machine machine, RamFsOptions options) : base(machine, "ramfs")
    {
        Options = options;
    }

    /// <summary>The mount options.</summary>
    public RamFsOptions Options { get; }

    /// <summary>The files, by path.</summary>
    public IReadOnlyDictionary<string, Inode> Files => _files;

    /// <summary>mount -t ramfs: create the filesystem and mount it on the machine's VFS (throws for a taken mount point: setup error).</summary>
    public static RamFs Mount(Machine machine, RamFsOptions? options = null)
    {
        options ??= new RamFsOptions();
        var fs = new RamFs(machine, options);
        var r = machine.Vfs.Mount(fs, options.MountPoint);
        if (r < 0) throw new InvalidOperationException($"mount {options.MountPoint}: {Errno.Describe(r)}");
        return fs;
    }

    /// <summary>The full path of a file in this mount ("/mnt/ramfs/f").</summary>
    public string PathOf(string name) => MountPoint == "/" ? "/" + name : MountPoint + "/" + name;

    /// <inheritdoc/>
    public override Inode? Lookup(string path) => _files.GetValueOrDefault(Normalize(path));

    /// <inheritdoc/>
    public override long Create(string path, int mode, out Inode? inode)
    {
        inode = null;
        var name = Normalize(path);
        if (name.Length == 0) return -Errno.EISDIR;
        if (_files.ContainsKey(name)) return -Errno.EEXIST;
        var aops = Options.WriteEnd == WriteEndPolicy.Block ? (AddressSpaceOperations)new BlockWriteAops() : new SimpleWriteAops();
        inode = new Inode(this, _nextIno++, Fcntl.S_IFREG | (mode & 0xfff)) { Mapping = new AddressSpace(Machine.Phys, aops) };
        _files.Add(name, inode);
        return 0;
    }

    /// <summary>Create an empty regular file (test and scenario setup); throws if it exists.</summary>
    public Inode Create(string path)
    {
        var r = Create(path, 0x1a4, out var inode);
        if (r < 0) throw new InvalidOperationException($"create {path}: {Errno.Describe(r)}");
        return inode!;
    }

    /// <summary>
    /// Create (or replace the data of) a file whose pages are cached and uptodate with <paramref name="data"/>
    /// (setup: as if written earlier).
    /// </summary>
    public Inode CreateWithData(string path, ReadOnlySpan<byte> data)
    {
        var inode = Lookup(path) ?? Create(path);
        var mapping = inode.Mapping!;
        mapping.TruncateInodePagesFinal();
        for (var off = 0; off < data.Length; off += (int)PageDefs.PAGE_SIZE)
        {
            var f = mapping.GetOrCreate((ulong)off >> PageDefs.PAGE_SHIFT, out _) ?? throw new InvalidOperationException("out of memory");
            var n = Math.Min(data.Length - off, (int)PageDefs.PAGE_SIZE);
            data.Slice(off, n).CopyTo(Machine.Phys.WriteSpan(f.Pfn, 0, n));
            f.Uptodate = true;
        }
        inode.Size = data.Length;
        return inode;
    }

    /// <summary>The file's bytes [0, i_size) as the page cache holds them (holes read as zero; no CPU semantics).</summary>
    public byte[] ReadData(string path)
    {
        var inode = Lookup(path) ?? throw new InvalidOperationException($"no file {path}");
        var data = new byte[inode.Size];
        ReadData(inode, data);
        return data;
    }

    /// <summary>
    /// <see cref="ReadData(string)"/> of <paramref name="inode"/> into the caller's <paramref name="into"/> (its first
    /// into.Length bytes of the file: the caller sizes it to i_size), so a check run again and again reuses one buffer.
    /// </summary>
    public void ReadData(Inode inode, Span<byte> into)
    {
        var mapping = inode.Mapping!;
        for (var off = 0; off < into.Length; off += (int)PageDefs.PAGE_SIZE)
        {
            var n = Math.Min(into.Length - off, (int)PageDefs.PAGE_SIZE);
            if (mapping.Find((ulong)off >> PageDefs.PAGE_SHIFT) is { } f) Machine.Phys.ReadSpan(f.Pfn, 0, n).CopyTo(into.Slice(off, n));
            else into.Slice(off, n).Clear();
        }
    }

    /// <inheritdoc/>
    public override int Unlink(string path)
    {
        var name = Normalize(path);
        if (!_files.Remove(name, out var inode)) return -Errno.ENOENT;
        inode.Nlink = 0;
        return 0;
    }

    /// <inheritdoc/>
    public override KFile OpenInode(Inode inode, int flags) => new RamFsFile(inode, flags, Options.Nowait);

    /// <inheritdoc/>
    public override int Truncate(Inode inode, long size)
    {
        if (size < 0) return -Errno.EINVAL;
        if (size < inode.Size) inode.Mapping?.TruncateInodePages(size);
        inode.Size = size;
        return 0;
    }

    private static string Normalize(string path) => path.Trim('/');
}
