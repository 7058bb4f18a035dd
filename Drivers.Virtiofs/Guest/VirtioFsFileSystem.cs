using KernelSim.Dax;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// The guest's virtio-fs mount (fs/fuse/virtio_fs.c fill_super + fs/fuse/inode.c, dir.c): INIT negotiation, dentry
/// and attribute caching with timeouts on the share's simulated clock, per-inode DAX selection, open/close,
/// guest-side truncate with the DAX ordering (unmap before the host truncates), and eviction (REMOVEMAPPING,
/// FORGET on hiprio). Flat namespace: a path is a file name in the shared directory.
/// </summary>
public sealed class VirtioFsFileSystem : FileSystem
{
    private readonly Dictionary<string, (FuseInode Inode, ulong ValidUntil)> _dentries = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, FuseInode> _inodes = [];

    internal VirtioFsFileSystem(Machine machine, VirtioFsShare share, FuseConn conn, DaxMountMode mode, FuseConnDax? dax, bool pinUserPages)
        : base(machine, "virtiofs")
    {
        Share = share;
        Conn = conn;
        Mode = mode;
        Dax = dax;
        DaxIo = dax != null ? new FuseDaxIo(machine, dax, share.FsDax) : null;
        DirectIo = new FuseDirectIo(machine, conn, pinUserPages);
    }

    /// <summary>The share.</summary>
    public VirtioFsShare Share { get; }

    /// <summary>The FUSE connection.</summary>
    public FuseConn Conn { get; }

    /// <summary>fc-&gt;dax_mode.</summary>
    public DaxMountMode Mode { get; }

    /// <summary>fc-&gt;dax (null when DAX is off or there is no window).</summary>
    public FuseConnDax? Dax { get; }

    /// <summary>DAX I/O paths (null without <see cref="Dax"/>).</summary>
    public FuseDaxIo? DaxIo { get; }

    /// <summary>FUSE_READ / FUSE_WRITE I/O.</summary>
    public FuseDirectIo DirectIo { get; }

    /// <summary>Inodes in the inode cache, by node id.</summary>
    public IReadOnlyDictionary<ulong, FuseInode> Inodes => _inodes;

    private ulong Now => Share.Clock.NowNs;

    /// <summary>fuse_send_init + process_init_reply. 0, or −errno when INIT itself could not be answered.</summary>
    internal int SendInit(bool hasWindow)
    {
        var newInit = Machine.Profile.VirtioFsDaxModes;
        Span<byte> args = stackalloc byte[FuseConst.InitInSize];
        args = args[..(newInit ? FuseConst.InitInSize : 16)];
        FuseWire.Put(args, 0, FuseConst.KernelVersion);
        FuseWire.Put(args, 4, newInit ? 36u : 31u);
        FuseWire.Put(args, 8, 32u * 4096);
        var flags = FuseConst.FUSE_ASYNC_READ | FuseConst.FUSE_BIG_WRITES | FuseConst.FUSE_MAX_PAGES;
        ulong flags2 = 0;
        if (hasWindow) flags |= FuseConst.FUSE_MAP_ALIGNMENT;
        if (newInit)
        {
            flags |= FuseConst.FUSE_INIT_EXT;
            if (Mode is DaxMountMode.Default or DaxMountMode.Inode) flags2 |= FuseConst.FUSE_HAS_INODE_DAX >> 32;
            FuseWire.Put(args, 16, (uint)flags2);
        }
        FuseWire.Put(args, 12, flags);
        var err = Conn.Request(FuseOpcode.FUSE_INIT, 0, args, out var o);
        var ok = err == 0 && o.Length >= 24;
        if (ok)
        {
            var major = FuseWire.U32(o, 0);
            var rflags = (ulong)FuseWire.U32(o, 12);
            if (major != FuseConst.KernelVersion) ok = false;
            else
            {
                Conn.Minor = FuseWire.U32(o, 4);
                Conn.MaxWrite = Math.Max(4096u, FuseWire.U32(o, 20));
                if (o.Length >= 36 && (rflags & FuseConst.FUSE_INIT_EXT) != 0) rflags |= (ulong)FuseWire.U32(o, 32) << 32;
                if (o.Length >= 30 && (rflags & FuseConst.FUSE_MAX_PAGES) != 0) Conn.MaxPages = Math.Max((uint)1, FuseWire.U16(o, 28));
                if ((rflags & FuseConst.FUSE_MAP_ALIGNMENT) != 0)
                {
                    Conn.MapAlignment = o.Length >= 32 ? FuseWire.U16(o, 30) : (ushort)0;
                    // fuse_dax_check_alignment
                    if (Dax != null && Conn.MapAlignment > FuseConst.FUSE_DAX_SHIFT)
                    {
                        Machine.State.Printk($"FUSE: map_alignment {Conn.MapAlignment} incompatible with dax mem range size {FuseConst.FUSE_DAX_SZ}");
                        ok = false;
                    }
                }
                if ((rflags & FuseConst.FUSE_HAS_INODE_DAX) != 0) Conn.InodeDax = true;
            }
        }
        Conn.ConnInit = true;
        if (!ok) Conn.ConnError = true;
        return err == -Errno.ENOTCONN ? err : 0;
    }

    /// <summary>fuse_should_enable_dax: never → no; no window → no; always → yes; inode modes → fc-&gt;inode_dax and FUSE_ATTR_DAX.</summary>
    private bool ShouldEnableDax(uint attrFlags)
    {
        if (Mode == DaxMountMode.Never || Dax == null) return false;
        if (Mode is DaxMountMode.Always or DaxMountMode.Legacy) return true;
        return Conn.InodeDax && (attrFlags & FuseConst.FUSE_ATTR_DAX) != 0;
    }

    /// <summary>fuse_iget: the cached inode (nlookup++) or a new one with its DAX decision.</summary>
    private FuseInode Iget(ulong nodeid, in FuseAttr attr, ulong attrValid)
    {
        if (!_inodes.TryGetValue(nodeid, out var inode))
        {
            inode = new FuseInode(this, nodeid, (int)attr.Mode) { SDax = ShouldEnableDax(attr.Flags), AttrDax = (attr.Flags & FuseConst.FUSE_ATTR_DAX) != 0 };
            inode.Size = (long)attr.Size;
            inode.AttrValidUntil = Now + attrValid * 1_000_000_000UL;
            _inodes.Add(nodeid, inode);
        }
        else
        {
            ChangeAttributes(inode, attr, attrValid);
        }
        inode.Nlookup++;
        return inode;
    }

    /// <summary>
    /// fuse_change_attributes: new i_size and timeout; a changed size → truncate_pagecache (unmap user PTEs past
    /// the new EOF); a flipped FUSE_ATTR_DAX in inode mode marks the inode dontcache (switches on next instantiation).
    /// </summary>
    internal void ChangeAttributes(FuseInode inode, in FuseAttr attr, ulong attrValid)
    {
        var old = inode.Size;
        inode.AttrValidUntil = Now + attrValid * 1_000_000_000UL;
        var newDax = (attr.Flags & FuseConst.FUSE_ATTR_DAX) != 0;
        if (Mode is DaxMountMode.Default or DaxMountMode.Inode && Conn.InodeDax && newDax != inode.AttrDax) inode.DontCache = true;
        inode.AttrDax = newDax;
        if ((long)attr.Size != old)
        {
            inode.Size = (long)attr.Size;
            TruncatePagecache(inode, inode.Size);
        }
    }

    /// <summary>truncate_pagecache(inode, newsize) for a DAX file: unmap user PTEs from round_up(newsize, PAGE_SIZE).</summary>
    private void TruncatePagecache(FuseInode inode, long newsize)
    {
        var holebegin = (long)PageDefs.PageAlign((ulong)newsize);
        UnmapMappingRange(inode, holebegin, long.MaxValue - holebegin);
    }

    /// <summary>unmap_mapping_range(inode-&gt;i_mapping, start, len): zap every user PTE mapping file bytes in [start, start+len).</summary>
    internal void UnmapMappingRange(FuseInode inode, long start, long len)
    {
        var end = len > long.MaxValue - start ? long.MaxValue : start + len;
        foreach (var p in Machine.Scheduler.Processes)
        {
            foreach (var v in p.Mm.Vmas.ToList())
            {
                if (v.File is not FuseFile f || f.Inode != inode) continue;
                var vStartOff = (long)(v.PgOff << PageDefs.PAGE_SHIFT);
                var vEndOff = vStartOff + (long)(v.End - v.Start);
                var s = Math.Max(start, vStartOff);
                var e = Math.Min(end, vEndOff);
                if (s >= e) continue;
                p.Mm.ZapRange(v.Start + (ulong)(s - vStartOff) & PageDefs.PAGE_MASK, v.Start + PageDefs.PageAlign((ulong)(e - vStartOff)));
            }
        }
    }

    /// <summary>
    /// fuse_lookup_name / dentry revalidation: a cached dentry whose entry timeout has not expired is used as is;
    /// otherwise LOOKUP (whose attributes refresh the inode). 0 with the inode, or −errno.
    /// </summary>
    public int LookupInode(string path, out FuseInode? inode)
    {
        inode = null;
        var name = path.Trim('/');
        if (name.Length == 0 || name.Contains('/')) return -Errno.ENOENT;
        if (_dentries.TryGetValue(name, out var d) && d.ValidUntil > Now)
        {
            inode = d.Inode;
            return 0;
        }
        var nameSize = FuseWire.NameSize(name);
        var nameArg = FuseWire.Name(nameSize <= 256 ? stackalloc byte[256] : new byte[nameSize], name);
        var err = Conn.Request(FuseOpcode.FUSE_LOOKUP, FuseConst.RootId, nameArg, out var o);
        if (err < 0)
        {
            _dentries.Remove(name);
            return err;
        }
        if (o.Length < FuseConst.EntryOutSize) return -Errno.EIO;
        var nodeid = FuseWire.U64(o, 0);
        if (nodeid == 0) return -Errno.ENOENT;
        var entryValid = FuseWire.U64(o, 16);
        var attrValid = FuseWire.U64(o, 24);
        inode = Iget(nodeid, FuseAttr.Read(o[40..]), attrValid);
        _dentries[name] = (inode, Now + entryValid * 1_000_000_000UL);
        return 0;
    }

    /// <summary>fuse_update_attributes: GETATTR when the attribute timeout has expired. 0 or −errno.</summary>
    public int UpdateAttributes(FuseInode inode, ulong fh = 0, bool force = false)
    {
        if (!force && inode.AttrValidUntil > Now) return 0;
        var err = Conn.Request(FuseOpcode.FUSE_GETATTR, inode.NodeId, FuseWire.GetattrIn(stackalloc byte[FuseConst.GetattrInSize], fh != 0 ? 1u : 0u, fh), out var o);
        if (err < 0) return err;
        if (o.Length < FuseConst.AttrOutSize) return -Errno.EIO;
        ChangeAttributes(inode, FuseAttr.Read(o[16..]), FuseWire.U64(o, 0));
        return 0;
    }

    /// <inheritdoc/>
    public override Inode? Lookup(string path) => LookupInode(path, out var i) == 0 ? i : null;

    /// <summary>
    /// fuse_create (the -&gt;create inode operation) = fuse_mknod(S_IFREG | mode, rdev 0): FUSE_MKNOD {mode &amp; ~umask,
    /// rdev, umask} + name to the root; create_new_entry checks the reply (nodeid 0 or a different file type → −EIO),
    /// then fuse_iget and the dentry. 0 with the inode, or −errno.
    /// </summary>
    public override long Create(string path, int mode, out Inode? inode)
    {
        inode = null;
        var name = path.Trim('/');
        if (name.Length == 0) return -Errno.EISDIR;
        if (name.Contains('/')) return -Errno.ENOENT;
        var umask = (uint)(Machine.Current?.Umask ?? 0);
        var fmode = (uint)(Fcntl.S_IFREG | (mode & 0xfff)) & ~umask;
        var size = FuseConst.MknodInSize + FuseWire.NameSize(name);
        var args = FuseWire.MknodIn(size <= 272 ? stackalloc byte[272] : new byte[size], fmode, 0, umask, name);
        var err = Conn.Request(FuseOpcode.FUSE_MKNOD, FuseConst.RootId, args, out var o);
        if (err < 0) return err;
        var r = NewEntry(name, o, fmode, out var fi);
        inode = fi;
        return r;
    }

    /// <summary>
    /// create_new_entry / fuse_create_open's reply checks and the new dentry: fuse_entry_out shorter than 128 bytes, a
    /// nodeid of 0 or the root, or a type that differs from <paramref name="mode"/>'s → −EIO; then fuse_iget.
    /// </summary>
    private int NewEntry(string name, ReadOnlySpan<byte> o, uint mode, out FuseInode? inode)
    {
        inode = null;
        if (o.Length < FuseConst.EntryOutSize) return -Errno.EIO;
        var nodeid = FuseWire.U64(o, 0);
        var attr = FuseAttr.Read(o[40..]);
        if (nodeid == 0 || nodeid == FuseConst.RootId || ((attr.Mode ^ mode) & Fcntl.S_IFMT) != 0) return -Errno.EIO;
        inode = Iget(nodeid, attr, FuseWire.U64(o, 24));
        _dentries[name] = (inode, Now + FuseWire.U64(o, 16) * 1_000_000_000UL);
        return 0;
    }

    /// <summary>
    /// fuse_atomic_open for a name that does not exist: FUSE_CREATE {flags, S_IFREG | mode &amp; ~umask, umask,
    /// open_flags 0} + name, answered by fuse_entry_out + fuse_open_out; a non-regular type, nodeid 0 → −EIO. A server
    /// without CREATE (−ENOSYS) sets fc-&gt;no_create and from then on the file is made with FUSE_MKNOD and opened with
    /// FUSE_OPEN (finish_no_open). 0 with the open file, or −errno.
    /// </summary>
    private int CreateOpen(string name, int flags, int mode, out KFile? file)
    {
        file = null;
        if (!Conn.NoCreate)
        {
            var umask = (uint)(Machine.Current?.Umask ?? 0);
            var fmode = (uint)(Fcntl.S_IFREG | (mode & 0xfff)) & ~umask;
            // build_open_flags forces O_LARGEFILE; fuse_create_open drops O_NOCTTY; O_TRUNC goes when O_EXCL is set.
            var oflags = (flags | Fcntl.O_LARGEFILE) & ~Fcntl.O_NOCTTY;
            if ((oflags & Fcntl.O_EXCL) != 0) oflags &= ~Fcntl.O_TRUNC;
            var size = FuseConst.CreateInSize + FuseWire.NameSize(name);
            var args = FuseWire.CreateIn(size <= 272 ? stackalloc byte[272] : new byte[size], (uint)oflags, fmode, umask, 0, name);
            var err = Conn.Request(FuseOpcode.FUSE_CREATE, FuseConst.RootId, args, out var o);
            if (err == -Errno.ENOSYS) Conn.NoCreate = true;
            else if (err < 0) return err;
            else
            {
                if (o.Length < FuseConst.EntryOutSize + FuseConst.OpenOutSize) return -Errno.EIO;
                var fh = FuseWire.U64(o, FuseConst.EntryOutSize);
                var openFlags = FuseWire.U32(o, FuseConst.EntryOutSize + 8);
                var r = NewEntry(name, o, (uint)Fcntl.S_IFREG, out var fi);
                if (r < 0) return r;
                file = new FuseFile(fi!, flags & ~(Fcntl.O_CREAT | Fcntl.O_EXCL | Fcntl.O_NOCTTY | Fcntl.O_TRUNC), fh, openFlags);
                return 0;
            }
        }
        var c = Create(name, mode, out var inode);
        if (c < 0) return (int)c;
        var o2 = OpenFile((FuseInode)inode!, flags, out var f);
        file = f;
        return o2;
    }

    /// <summary>
    /// fuse_unlink: the name is looked up first (LOOKUP unless the dentry is valid; −ENOENT without a request), then
    /// FUSE_UNLINK {name} to the root. On success fuse_entry_unlinked drops i_nlink and the dentry goes; the inode is
    /// evicted (fuse_evict_inode: REMOVEMAPPING of its DAX ranges, FORGET of its lookups) once no file has it open
    /// and no mapping uses it. An −ENOENT or −EINTR reply invalidates the dentry.
    /// </summary>
    public override int Unlink(string path)
    {
        var name = path.Trim('/');
        var r = LookupInode(name, out var inode);
        if (r < 0) return r;
        var nameSize = FuseWire.NameSize(name);
        var err = Conn.Request(FuseOpcode.FUSE_UNLINK, FuseConst.RootId, FuseWire.Name(nameSize <= 256 ? stackalloc byte[256] : new byte[nameSize], name), out _);
        if (err < 0)
        {
            if (err is -Errno.ENOENT or -Errno.EINTR) _dentries.Remove(name);
            return err;
        }
        _dentries.Remove(name);
        if (inode!.Nlink > 0) inode.ClearNlink(); // drop_nlink of a file with one link
        inode.AttrValidUntil = 0;
        MaybeEvict(inode);
        return 0;
    }

    /// <summary>iput_final for an unlinked inode (fuse's drop_inode deletes at once): evict when nothing holds it.</summary>
    internal void MaybeEvict(FuseInode inode)
    {
        if (inode.Nlink > 0 || inode.OpenCount > 0 || !_inodes.ContainsKey(inode.NodeId)) return;
        foreach (var p in Machine.Scheduler.Processes)
            foreach (var v in p.Mm.Vmas)
                if (v.File is FuseFile f && f.Inode == inode) return; // vma->vm_file keeps the inode
        Dax?.InodeCleanup(inode);
        if (inode.Nlookup > 0) Conn.Forget(inode.NodeId, inode.Nlookup);
        inode.Nlookup = 0;
        _inodes.Remove(inode.NodeId);
    }

    /// <inheritdoc/>
    public override KFile OpenInode(Inode inode, int flags)
    {
        OpenFile((FuseInode)inode, flags, out var f);
        return f ?? new FuseFile((FuseInode)inode, flags, 0, 0);
    }

    private int OpenFile(FuseInode inode, int flags, out FuseFile? file)
    {
        file = null;
        var err = Conn.Request(FuseOpcode.FUSE_OPEN, inode.NodeId, FuseWire.OpenIn(stackalloc byte[FuseConst.OpenInSize], (uint)(flags & ~(Fcntl.O_CREAT | Fcntl.O_EXCL | Fcntl.O_NOCTTY | Fcntl.O_TRUNC))), out var o);
        if (err < 0) return err;
        if (o.Length < FuseConst.OpenOutSize) return -Errno.EIO;
        file = new FuseFile(inode, flags, FuseWire.U64(o, 0), FuseWire.U32(o, 8));
        return 0;
    }

    /// <summary>
    /// fuse_atomic_open / fuse_open: lookup; a missing name with O_CREAT is created (FUSE_CREATE, or FUSE_MKNOD then
    /// FUSE_OPEN); otherwise O_CREAT|O_EXCL → −EEXIST, O_TRUNC (through the guarded setattr), FUSE_OPEN. 0 with the
    /// file, or −errno.
    /// </summary>
    public override int Open(string path, int flags, int mode, out KFile? file)
    {
        file = null;
        var r = LookupInode(path, out var inode);
        if (r == -Errno.ENOENT && (flags & Fcntl.O_CREAT) != 0)
        {
            var name = path.Trim('/');
            if (name.Length == 0 || name.Contains('/')) return r;
            return CreateOpen(name, flags, mode, out file);
        }
        if (r < 0) return r;
        if ((flags & (Fcntl.O_CREAT | Fcntl.O_EXCL)) == (Fcntl.O_CREAT | Fcntl.O_EXCL)) return -Errno.EEXIST;
        if ((flags & Fcntl.O_TRUNC) != 0 && (flags & Fcntl.O_ACCMODE) != Fcntl.O_RDONLY)
        {
            var t = Setattr(inode!, 0, 0);
            if (t < 0) return t;
        }
        r = OpenFile(inode!, flags, out var f);
        file = f;
        return r;
    }

    /// <inheritdoc/>
    public override int Truncate(Inode inode, long size) => Setattr((FuseInode)inode, size, 0);

    /// <summary>
    /// fuse_do_setattr with FATTR_SIZE, with the DAX ordering (R10): invalidate_lock exclusive (new DAX faults
    /// wait), break layouts (no page of the file may be pinned), SETATTR {valid FATTR_SIZE [| FATTR_FH], size}, then
    /// i_size from the reply and truncate_pagecache (user PTEs past the new EOF removed). No REMOVEMAPPING.
    /// </summary>
    public int Setattr(FuseInode inode, long size, ulong fh)
    {
        if (size < 0) return -Errno.EINVAL;
        if (inode.IsDax) BreakLayouts(inode);
        var valid = FuseConst.FATTR_SIZE | (fh != 0 ? FuseConst.FATTR_FH : 0);
        var err = Conn.Request(FuseOpcode.FUSE_SETATTR, inode.NodeId, FuseWire.SetattrIn(stackalloc byte[FuseConst.SetattrInSize], valid, fh, (ulong)size), out var o);
        if (err < 0) return err;
        if (o.Length < FuseConst.AttrOutSize) return -Errno.EIO;
        var attr = FuseAttr.Read(o[16..]);
        inode.AttrValidUntil = Now + FuseWire.U64(o, 0) * 1_000_000_000UL;
        var old = inode.Size;
        inode.Size = (long)attr.Size;
        if (inode.Size != old || inode.IsDax) TruncatePagecache(inode, inode.Size);
        return 0;
    }

    /// <summary>
    /// fuse_dax_break_layouts (whole file since R11): wait until no page the file maps in the window is pinned by
    /// GUP. Nothing runs concurrently here, so a pin held now would be held forever: reported as a livelock.
    /// </summary>
    private void BreakLayouts(FuseInode inode)
    {
        if (Dax == null) return;
        foreach (var d in inode.Tree.Values)
        {
            var first = Dax.Window.Start.Pfn + (d.WindowOffset >> PageDefs.PAGE_SHIFT);
            for (ulong i = 0; i < d.Length >> PageDefs.PAGE_SHIFT; i++)
            {
                if (Machine.Gup.PinCount(first + i) > 0)
                    throw HungTask.Blocked($"fuse_dax_break_layouts: window page 0x{(first + i) << PageDefs.PAGE_SHIFT:x} stays pinned");
            }
        }
    }

    /// <summary>
    /// Unmount: fuse_dax_inode_cleanup for every DAX inode (REMOVEMAPPING in batches), FORGET for each inode's
    /// lookups on the hiprio queue, DESTROY, then the connection is gone (−ENOTCONN).
    /// </summary>
    internal void Kill()
    {
        foreach (var inode in _inodes.Values)
        {
            Dax?.InodeCleanup(inode);
            if (inode.Nlookup > 0) Conn.Forget(inode.NodeId, inode.Nlookup);
            inode.Nlookup = 0;
        }
        _inodes.Clear();
        _dentries.Clear();
        Conn.Request(FuseOpcode.FUSE_DESTROY, 0, [], out _);
        Conn.Connected = false;
    }
}
