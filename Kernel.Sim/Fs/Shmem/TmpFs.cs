using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// tmpfs (mm/shmem.c, shmem_fs_type "tmpfs"): regular files whose only copy is the page cache in DRAM (no swap in
/// this model). Flat namespace: a path is a file name in the mount. Also the internal mount (shm_mnt) whose unlinked
/// inodes back memfd_create(2).
/// </summary>
public sealed class TmpFs : FileSystem
{
    private readonly Dictionary<string, ShmemInode> _files = new(StringComparer.Ordinal);
    private ulong _nextIno = 2;

    private TmpFs(Machine machine) : base(machine, "tmpfs")
    {
    }

    /// <summary>The files, by name.</summary>
    public IReadOnlyDictionary<string, ShmemInode> Files => _files;

    /// <summary>mount -t tmpfs: create the filesystem and mount it on the machine's VFS (throws for a taken mount point: setup error).</summary>
    public static TmpFs Mount(Machine machine, TmpFsOptions? options = null)
    {
        options ??= new TmpFsOptions();
        var fs = new TmpFs(machine);
        var r = machine.Vfs.Mount(fs, options.MountPoint);
        if (r < 0) throw new InvalidOperationException($"mount {options.MountPoint}: {Errno.Describe(r)}");
        return fs;
    }

    /// <summary>shmem_init's kern_mount: an instance in no mount table (shm_mnt).</summary>
    internal static TmpFs KernMount(Machine machine) => new(machine);

    /// <summary>The full path of a file in this mount ("/mnt/tmpfs/f").</summary>
    public string PathOf(string name) => MountPoint == "/" ? "/" + name : MountPoint + "/" + name;

    /// <inheritdoc/>
    public override Inode? Lookup(string path) => _files.GetValueOrDefault(path.Trim('/'));

    /// <summary>shmem_create → shmem_mknod → shmem_get_inode(S_IFREG | mode): −EEXIST if the name is taken.</summary>
    public override long Create(string path, int mode, out Inode? inode)
    {
        inode = null;
        var name = path.Trim('/');
        if (name.Length == 0) return -Errno.EISDIR;
        if (name.Contains('/')) return -Errno.ENOENT;
        if (_files.ContainsKey(name)) return -Errno.EEXIST;
        var i = NewInode(Fcntl.S_IFREG | (mode & 0xfff), name);
        _files.Add(name, i);
        inode = i;
        return 0;
    }

    /// <summary>shmem_get_inode: a new inode of this instance (unlinked until a name is added).</summary>
    internal ShmemInode NewInode(int mode, string name) => new(this, _nextIno++, mode, name);

    /// <summary>shmem_unlink: the name goes; open files and mappings keep the inode and its pages.</summary>
    public override int Unlink(string path)
    {
        if (!_files.Remove(path.Trim('/'), out var inode)) return -Errno.ENOENT;
        inode.ClearNlink();
        return 0;
    }

    /// <inheritdoc/>
    public override KFile OpenInode(Inode inode, int flags) => new ShmemFile((ShmemInode)inode, flags);

    /// <summary>
    /// shmem_setattr(ATTR_SIZE): F_SEAL_SHRINK / F_SEAL_GROW → −EPERM; shrinking unmaps the pages past the new end
    /// (unmap_mapping_range) and removes them with shmem_truncate_range — a poisoned folio among them goes too (SH5).
    /// </summary>
    public override int Truncate(Inode inode, long size)
    {
        if (size < 0) return -Errno.EINVAL;
        var si = (ShmemInode)inode;
        var old = si.Size;
        if ((size < old && (si.Seals & Memfd.F_SEAL_SHRINK) != 0) || (size > old && (si.Seals & Memfd.F_SEAL_GROW) != 0)) return -Errno.EPERM;
        if (size < old)
        {
            var holebegin = (long)PageDefs.PageAlign((ulong)size);
            UnmapMappingRange(si, holebegin, long.MaxValue - holebegin);
            si.Mapping!.TruncateInodePages(size);
        }
        si.Size = size;
        return 0;
    }

    /// <summary>
    /// unmap_mapping_range(inode-&gt;i_mapping, start, len, even_cows = 1): zap every user PTE that maps file bytes in
    /// [start, start+len) — shared mappings and the private copies of it alike (truncation and hole punching).
    /// </summary>
    internal void UnmapMappingRange(ShmemInode inode, long start, long len)
    {
        var end = len > long.MaxValue - start ? long.MaxValue : start + len;
        foreach (var p in Machine.Scheduler.Processes)
        {
            foreach (var v in p.Mm.Vmas)
            {
                if (v.File is not ShmemFile f || f.Inode != inode) continue;
                var vStartOff = (long)(v.PgOff << PageDefs.PAGE_SHIFT);
                var vEndOff = vStartOff + (long)(v.End - v.Start);
                var s = Math.Max(start, vStartOff);
                var e = Math.Min(end, vEndOff);
                if (s >= e) continue;
                p.Mm.ZapRange(v.Start + (ulong)(s - vStartOff) & PageDefs.PAGE_MASK, v.Start + PageDefs.PageAlign((ulong)(e - vStartOff)));
            }
        }
    }

    /// <summary>The file's bytes [0, i_size) as its page cache holds them (holes read as zero; inspection, no CPU semantics).</summary>
    public byte[] ReadData(string name)
    {
        var inode = _files.GetValueOrDefault(name) ?? throw new InvalidOperationException($"no file {name}");
        var data = new byte[inode.Size];
        foreach (var f in inode.Mapping!.Folios)
        {
            var off = (long)(f.Index << PageDefs.PAGE_SHIFT);
            if (off >= data.Length) continue;
            var n = (int)Math.Min(data.Length - off, (long)PageDefs.PAGE_SIZE);
            Machine.Phys.ReadSpan(f.Pfn, 0, n).CopyTo(data.AsSpan((int)off, n));
        }
        return data;
    }
}
