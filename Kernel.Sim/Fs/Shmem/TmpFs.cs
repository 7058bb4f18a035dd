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
    /// shmem_getattr (mm/shmem.c): on 6.0+ STATX_ATTR_APPEND / IMMUTABLE / NODUMP from info-&gt;fsflags and all three in
    /// the attributes mask (SH10); generic_fillattr; on 5.18+ stx_btime from i_crtime when STATX_BTIME is asked (SH9).
    /// </summary>
    public override int Getattr(Inode inode, Kstat stat, uint requestMask, int queryFlags)
    {
        var profile = Machine.Profile;
        var si = inode as ShmemInode;
        if (profile.ShmemFileattr && si != null)
        {
            if ((si.Fsflags & FsIoctl.FS_APPEND_FL) != 0) stat.Attributes |= Stat.STATX_ATTR_APPEND;
            if ((si.Fsflags & FsIoctl.FS_IMMUTABLE_FL) != 0) stat.Attributes |= Stat.STATX_ATTR_IMMUTABLE;
            if ((si.Fsflags & FsIoctl.FS_NODUMP_FL) != 0) stat.Attributes |= Stat.STATX_ATTR_NODUMP;
            stat.AttributesMask |= Stat.STATX_ATTR_APPEND | Stat.STATX_ATTR_IMMUTABLE | Stat.STATX_ATTR_NODUMP;
        }
        GenericFillattr(inode, stat);
        if (profile.ShmemBtime && si != null && (requestMask & Stat.STATX_BTIME) != 0)
        {
            stat.ResultMask |= Stat.STATX_BTIME;
            stat.Btime = si.Crtime;
        }
        return 0;
    }

    /// <summary>
    /// shmem_fileattr_get (mm/shmem.c, 6.0+, e408e695f5f1): fileattr_fill_flags(info-&gt;fsflags &amp; SHMEM_FL_USER_VISIBLE)
    /// — the flags and their FS_XFLAG_* twins, everything else 0. Before 6.0 tmpfs has no -&gt;fileattr_get (−ENOTTY).
    /// </summary>
    public override int FileattrGet(Inode inode, ref Fileattr fa)
    {
        if (!Machine.Profile.ShmemFileattr || inode is not ShmemInode si) return -Errno.ENOIOCTLCMD;
        var (flagsValid, fsxValid) = (fa.FlagsValid, fa.FsxValid);
        fa = Fileattr.FromFlags(si.Fsflags);
        (fa.FlagsValid, fa.FsxValid) = (flagsValid, fsxValid);
        return 0;
    }

    /// <summary>
    /// shmem_fileattr_set (mm/shmem.c, 6.0+): fileattr_has_fsx (an xflag without an FS_*_FL twin, an extent size, a
    /// project id or a CoW extent size) → −EOPNOTSUPP; a flag outside SHMEM_FL_USER_MODIFIABLE (IMMUTABLE, APPEND, NODUMP,
    /// NOATIME) → −EOPNOTSUPP; then info-&gt;fsflags takes the modifiable bits and ctime is updated. FS_IMMUTABLE_FL and
    /// FS_APPEND_FL, which the kernel accepts and then enforces through S_IMMUTABLE / S_APPEND, are not modelled and
    /// refused with the same −EOPNOTSUPP (docs/tmpfs.md "Not modelled").
    /// </summary>
    public override int FileattrSet(Inode inode, Fileattr fa)
    {
        if (!Machine.Profile.ShmemFileattr || inode is not ShmemInode si) return -Errno.ENOIOCTLCMD;
        const uint modifiable = FsIoctl.FS_IMMUTABLE_FL | FsIoctl.FS_APPEND_FL | FsIoctl.FS_NODUMP_FL | FsIoctl.FS_NOATIME_FL;
        if (fa.FsxValid && ((fa.Xflags & ~FsIoctl.FS_XFLAG_COMMON) != 0 || fa.Extsize != 0 || fa.Projid != 0 || fa.Cowextsize != 0))
            return -Errno.EOPNOTSUPP;
        if ((fa.Flags & ~modifiable) != 0) return -Errno.EOPNOTSUPP;
        if ((fa.Flags & (FsIoctl.FS_IMMUTABLE_FL | FsIoctl.FS_APPEND_FL)) != 0) return -Errno.EOPNOTSUPP; // S_IMMUTABLE / S_APPEND not modelled
        si.Fsflags = (si.Fsflags & ~modifiable) | (fa.Flags & modifiable);
        si.Ctime = (long)Machine.Clock.NowNs;
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
