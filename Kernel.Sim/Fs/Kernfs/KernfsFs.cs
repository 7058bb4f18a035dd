using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Kernfs;

/// <summary>
/// A kernfs-style pseudo filesystem (fs/kernfs/dir.c, inode.c, file.c): a tree of <see cref="KernfsNode"/>s built by
/// kernel code. Path lookup follows links inside the tree (40 at most, −ELOOP after). open(2) applies the permission
/// bits — a process with <see cref="Process.CapSysAdmin"/> is root and bypasses them (CAP_DAC_OVERRIDE), any other is
/// treated as a non-owner (the "other" bits) — then kernfs_fop_open's rule: −EACCES when the file lacks the read or
/// write operation the open asks for. Nothing can be created or removed from user space (−EACCES / −EPERM).
/// </summary>
public class KernfsFs : FileSystem
{
    private const int MaxLinks = 40;
    private Dictionary<KernfsNode, KernfsInode>? _inodes;
    private ulong _nextIno = 1;
    private KernelPtr? _scratch;

    /// <summary>A pseudo filesystem called <paramref name="name"/> ("sysfs", "proc", "debugfs") on <paramref name="machine"/>.</summary>
    protected KernfsFs(Machine machine, string name) : base(machine, name) => Root = KernfsDir.NewRoot(() => _nextIno++);

    /// <summary>The root directory (the mount point).</summary>
    public KernfsDir Root { get; }

    /// <summary>
    /// The entry list <see cref="KernfsOpenFile.ReadDir"/> refills: one per thread for all kernfs filesystems (a thread
    /// runs one system call at a time, and getdents64, the only caller, copies the records out before it returns).
    /// </summary>
    internal static List<DirEntry> DirEntries => _dirEntries ??= [];

    [ThreadStatic] private static List<DirEntry>? _dirEntries;

    internal KernelPtr Scratch => _scratch ??= Machine.Kmalloc(PageDefs.PAGE_SIZE) ?? throw new InvalidOperationException("out of memory for the kernfs buffer");

    /// <summary>
    /// Walk <paramref name="path"/> (relative to the root) following links in every component, and in the last one
    /// unless <paramref name="followLast"/> is false. 0 with the node, or −ENOENT / −ENOTDIR / −ELOOP.
    /// </summary>
    public int Walk(string path, bool followLast, out KernfsNode? node) => Walk(path, 0, followLast, out node);

    /// <summary><see cref="Walk(string, bool, out KernfsNode?)"/> of the components of <paramref name="path"/> from <paramref name="start"/> on.</summary>
    private int Walk(string path, int start, bool followLast, out KernfsNode? node)
    {
        node = null;
        KernfsNode cur = Root;
        // The components are sliced out of the path (no allocation per component); a followed link's target
        // becomes the new path, followed by what was left of the old one.
        var pos = start;
        var links = 0;
        while (NextPart(path, ref pos, out var part))
        {
            if (cur is not KernfsDir dir) return -Errno.ENOTDIR;
            if (part is ".") continue;
            if (part is "..")
            {
                cur = dir.Parent ?? dir;
                continue;
            }
            var next = dir.Child(part);
            if (next == null || !next.Active) return -Errno.ENOENT;
            if (next is KernfsLink l && (HasPart(path, pos) || followLast))
            {
                if (++links > MaxLinks) return -Errno.ELOOP;
                // The walk of the target text from the link's directory ends on the target itself when every name on
                // the way down is still that node's entry: go there directly (no text, no re-walk).
                if (l.Target is not KernfsLink && ReachableByName(dir, l.Target))
                {
                    cur = l.Target;
                    continue;
                }
                path = HasPart(path, pos) ? l.TargetPath() + "/" + path[pos..] : l.TargetPath();
                pos = 0;
                continue;
            }
            cur = next;
        }
        node = cur;
        return 0;
    }

    /// <summary>The next non-empty '/'-separated component of <paramref name="path"/> from <paramref name="pos"/>.</summary>
    private static bool NextPart(string path, ref int pos, out ReadOnlySpan<char> part)
    {
        // A plain scan: sysfs components are a few characters long, too short for the vector searches' set-up to pay.
        var i = pos;
        while (i < path.Length && path[i] == '/') i++;
        if (i == path.Length)
        {
            pos = i;
            part = default;
            return false;
        }
        var start = i;
        while (i < path.Length && path[i] != '/') i++;
        part = path.AsSpan(start, i - start);
        pos = i;
        return true;
    }

    /// <summary>
    /// Whether walking <see cref="KernfsLink.TargetPath"/> from <paramref name="from"/> (the link's directory) reaches
    /// <paramref name="target"/>: the ".." steps climb to the common ancestor, then each name below it must look up
    /// (static children only) the very node on the target's parent chain, and that node must be active. Any other case
    /// (a removed or renamed-over node, a dynamic child) is left to the text walk.
    /// </summary>
    private static bool ReachableByName(KernfsDir from, KernfsNode target)
    {
        // The common ancestor is on from's parent chain: mark nothing, just test each ancestor of target against it.
        for (var n = target; n.Parent is { } parent; n = parent)
        {
            if (!n.Active || !parent.HasStaticChild(n)) return false;
            if (IsAncestorOrSelf(parent, from)) return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="a"/> is <paramref name="n"/> or one of its ancestors.</summary>
    private static bool IsAncestorOrSelf(KernfsNode a, KernfsNode n)
    {
        for (KernfsNode? x = n; x != null; x = x.Parent)
            if (ReferenceEquals(x, a)) return true;
        return false;
    }

    /// <summary>Whether a non-empty component follows <paramref name="pos"/>.</summary>
    private static bool HasPart(string path, int pos)
    {
        for (var i = pos; i < path.Length; i++)
            if (path[i] != '/') return true;
        return false;
    }

    /// <summary>The inode of <paramref name="node"/> (one per node and filesystem, made on first use).</summary>
    public KernfsInode InodeOf(KernfsNode node)
    {
        // A node's first inode lives on the node itself; only a node reached from a second filesystem (which no tree
        // here does: each tree has one root and one filesystem) keeps its inode of that one in the dictionary.
        if (node.CachedInode is not { } c) return node.CachedInode = new KernfsInode(this, node);
        if (ReferenceEquals(c.Sb, this)) return c;
        _inodes ??= new(ReferenceEqualityComparer.Instance);
        if (!_inodes.TryGetValue(node, out var inode)) _inodes[node] = inode = new KernfsInode(this, node);
        return inode;
    }

    /// <inheritdoc/>
    public override Inode? Lookup(string path) => Walk(path, true, out var n) == 0 ? InodeOf(n!) : null;

    /// <inheritdoc/>
    public override Inode? Lookup(string path, bool follow) => Walk(path, follow, out var n) == 0 ? InodeOf(n!) : null;

    /// <summary>No -&gt;create on kernfs directories: −EACCES.</summary>
    public override long Create(string path, int mode, out Inode? inode)
    {
        inode = null;
        return -Errno.EACCES;
    }

    /// <summary>No -&gt;unlink on kernfs directories: −EPERM for an existing name, −ENOENT otherwise.</summary>
    public override int Unlink(string path) => Walk(path, false, out _) == 0 ? -Errno.EPERM : -Errno.ENOENT;

    /// <summary>Truncation (O_TRUNC) of a kernfs file does nothing (kernfs_iop_setattr accepts the size).</summary>
    public override int Truncate(Inode inode, long size) => 0;

    /// <inheritdoc/>
    public override KFile OpenInode(Inode inode, int flags)
    {
        // A released text attribute's open file is taken again (see KernfsOpenFile.Release); otherwise a new one.
        if (SpareOpenFile is not { } of) return new KernfsOpenFile((KernfsInode)inode, flags, Machine.Current);
        SpareOpenFile = null;
        of.Reuse((KernfsInode)inode, flags, Machine.Current);
        return of;
    }

    /// <summary>The open file the last release gave back, for the next open (null when none).</summary>
    internal KernfsOpenFile? SpareOpenFile { get; set; }

    /// <summary>
    /// do_filp_open on kernfs: the walk (O_NOFOLLOW on a link: −ELOOP), O_CREAT of a missing name (−EACCES), O_DIRECTORY
    /// on a file (−ENOTDIR), write access to a directory (−EISDIR), the permission bits (−EACCES), then kernfs_fop_open.
    /// </summary>
    public override int Open(string path, int flags, int mode, out KFile? file) => OpenAt(path, 0, flags, mode, out file);

    /// <summary><see cref="Open"/> walking <paramref name="path"/> from <paramref name="at"/> on (the VFS's open: no substring per open).</summary>
    internal override int OpenAt(string path, int at, int flags, int mode, out KFile? file)
    {
        file = null;
        var r = Walk(path, at, (flags & Fcntl.O_NOFOLLOW) == 0, out var node);
        if (r == -Errno.ENOENT && (flags & Fcntl.O_CREAT) != 0) return -Errno.EACCES;
        if (r < 0) return r;
        if (node is KernfsLink) return -Errno.ELOOP;
        var acc = flags & Fcntl.O_ACCMODE;
        var wantsWrite = acc is Fcntl.O_WRONLY or Fcntl.O_RDWR || (flags & Fcntl.O_TRUNC) != 0;
        var wantsRead = acc is Fcntl.O_RDONLY or Fcntl.O_RDWR;
        if ((flags & (Fcntl.O_CREAT | Fcntl.O_EXCL)) == (Fcntl.O_CREAT | Fcntl.O_EXCL)) return -Errno.EEXIST;
        if (node is KernfsDir)
        {
            if (wantsWrite) return -Errno.EISDIR;
        }
        else if ((flags & Fcntl.O_DIRECTORY) != 0) return -Errno.ENOTDIR;
        var root = Machine.Current?.CapSysAdmin ?? true;
        if (!root && ((wantsRead && (node!.Mode & 0x4) == 0) || (wantsWrite && (node!.Mode & 0x2) == 0))) return -Errno.EACCES;
        var of = (KernfsOpenFile)OpenInode(InodeOf(node!), flags);
        if (node is KernfsFileNode f)
        {
            if ((wantsRead && !f.CanRead) || (wantsWrite && !f.CanWrite)) return -Errno.EACCES;
            var o = f.Open(of);
            if (o < 0) return o;
        }
        file = of;
        return 0;
    }

    /// <summary>readlink(2) on this filesystem: the link's relative target path, −EINVAL for a node that is not a link.</summary>
    public override int Readlink(string path, out string? target) => ReadlinkAt(path, 0, out target);

    /// <summary><see cref="Readlink"/> walking <paramref name="path"/> from <paramref name="at"/> on (no substring per call).</summary>
    internal override int ReadlinkAt(string path, int at, out string? target)
    {
        target = null;
        var r = Walk(path, at, false, out var node);
        if (r < 0) return r;
        if (node is not KernfsLink l) return -Errno.EINVAL;
        target = l.TargetPath();
        return 0;
    }
}
