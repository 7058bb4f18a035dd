using KernelSim.Uapi;

namespace KernelSim.Fs.Kernfs;

/// <summary>
/// struct kernfs_node (fs/kernfs): one directory, attribute file or symbolic link of a kernfs-style pseudo filesystem
/// (sysfs, and here also procfs and debugfs). Nodes are created by kernel code, never by user space.
/// </summary>
public abstract class KernfsNode
{
    /// <summary>A node called <paramref name="name"/> with mode <paramref name="mode"/> (S_IFMT bits and permissions).</summary>
    protected KernfsNode(string name, int mode)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/') || name is "." or "..") throw new ArgumentException($"bad kernfs name '{name}'", nameof(name));
        Name = name;
        Mode = mode;
    }

    /// <summary>kn-&gt;name.</summary>
    public string Name { get; }

    /// <summary>kn-&gt;mode: S_IFDIR / S_IFREG / S_IFLNK and the permission bits.</summary>
    public int Mode { get; }

    /// <summary>kn-&gt;parent (null for a root or a detached node).</summary>
    public KernfsDir? Parent { get; internal set; }

    /// <summary>The inode number (kernfs_ino); 0 until the node is attached to a tree.</summary>
    public ulong Ino { get; internal set; }

    /// <summary>False once <see cref="KernfsDir.Remove"/> took it out of the tree (kernfs_active).</summary>
    public bool Active { get; internal set; } = true;

    /// <summary>The inode last made for this node (KernfsFs.InodeOf checks its superblock before using it).</summary>
    internal KernfsInode? CachedInode;

    /// <summary>The path from the filesystem root ("bus/nd/devices/region0"); "" for the root.</summary>
    public string Path => Parent == null ? "" : Parent.Parent == null ? Name : $"{Parent.Path}/{Name}";

    /// <summary>The root of the tree the node is in.</summary>
    public KernfsDir Root
    {
        get
        {
            var n = this;
            while (n.Parent != null) n = n.Parent;
            return (KernfsDir)n;
        }
    }

    /// <summary>True for S_IFDIR.</summary>
    public bool IsDir => (Mode & Fcntl.S_IFMT) == Fcntl.S_IFDIR;

    /// <inheritdoc/>
    public override string ToString() => $"kernfs {Path} mode={Convert.ToString(Mode, 8)}";
}

/// <summary>
/// A symbolic link node (kernfs_create_link): it points at another node of the same tree and reads back as the relative
/// path from its own directory (kernfs_get_target_path), e.g. "../../devices/ndbus0/region0".
/// </summary>
public sealed class KernfsLink : KernfsNode
{
    /// <summary>A link called <paramref name="name"/> to <paramref name="target"/> (S_IFLNK | 0777).</summary>
    public KernfsLink(string name, KernfsNode target) : base(name, Fcntl.S_IFLNK | 0x1ff) => Target = target;

    /// <summary>The node it points at.</summary>
    public KernfsNode Target { get; }

    /// <summary>kernfs_get_target_path: "../" for each level from the link's directory up to the common ancestor, then the target's path below it.</summary>
    public string TargetPath()
    {
        // Same text as joining ".." per level above the common ancestor and the names below it, without the node
        // lists: climb both chains to the common ancestor, then fill one char buffer (ndctl's scans follow many links).
        var from = Depth(Parent);
        var to = Depth(Target);
        KernfsNode? a = Parent, b = Target;
        var common = from;
        for (; common > to; common--) a = a!.Parent;
        var db = to;
        for (; db > common; db--) b = b!.Parent;
        while (!ReferenceEquals(a, b))
        {
            a = a!.Parent;
            b = b!.Parent;
            common--;
        }
        var ups = from - common;
        var downs = to - common;
        if (ups + downs == 0) return "";
        var len = ups * 2 + ups + downs - 1;
        var n = Target;
        for (var i = 0; i < downs; i++, n = n!.Parent) len += n!.Name.Length;
        Span<char> buf = len <= 256 ? stackalloc char[len] : new char[len];
        var pos = 0;
        for (var i = 0; i < ups; i++)
        {
            if (pos > 0) buf[pos++] = '/';
            buf[pos++] = '.';
            buf[pos++] = '.';
        }
        var end = len;
        n = Target;
        for (var i = 0; i < downs; i++, n = n!.Parent)
        {
            var name = n!.Name;
            end -= name.Length;
            name.AsSpan().CopyTo(buf[end..]);
            if (end > 0) buf[--end] = '/';
        }
        return new string(buf);
    }

    /// <summary>The number of nodes from the root down to <paramref name="n"/> (0 for none).</summary>
    private static int Depth(KernfsNode? n)
    {
        var d = 0;
        for (; n != null; n = n.Parent) d++;
        return d;
    }
}
