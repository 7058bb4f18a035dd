using KernelSim.Uapi;

namespace KernelSim.Fs.Kernfs;

/// <summary>
/// A kernfs directory (kernfs_create_dir): children in creation order. A directory may also resolve names on demand
/// (<see cref="DynamicLookup"/> / <see cref="DynamicList"/>), as procfs does for /proc/&lt;pid&gt;.
/// </summary>
public sealed class KernfsDir : KernfsNode
{
    private readonly List<KernfsNode> _children = [];
    private readonly Dictionary<string, KernfsNode> _byName = new(StringComparer.Ordinal);
    private Func<ulong>? _nextIno;

    /// <summary>A directory called <paramref name="name"/>, mode S_IFDIR | <paramref name="perm"/> (0755 by default).</summary>
    public KernfsDir(string name, int perm = 0x1ed) : base(name, Fcntl.S_IFDIR | (perm & 0xfff))
    {
    }

    internal static KernfsDir NewRoot(Func<ulong> nextIno)
    {
        var root = new KernfsDir("root") { _nextIno = nextIno };
        root.Ino = nextIno();
        return root;
    }

    /// <summary>Names resolved on demand when no static child has them (procfs's pid directories); null when absent.</summary>
    public Func<string, KernfsNode?>? DynamicLookup { get; set; }

    /// <summary>The on-demand children listed by getdents64 after the static ones.</summary>
    public Func<IEnumerable<KernfsNode>>? DynamicList { get; set; }

    /// <summary>The static children in creation order.</summary>
    public IReadOnlyList<KernfsNode> Children => _children;


    /// <summary>The child called <paramref name="name"/> (static, then dynamic), or null (kernfs_find_ns).</summary>
    public KernfsNode? Child(string name)
    {
        if (_byName.TryGetValue(name, out var n)) return n;
        var d = DynamicLookup?.Invoke(name);
        if (d != null) Adopt(d);
        return d;
    }

    /// <summary><see cref="Child(string)"/> for a name sliced out of a path: no string unless a dynamic lookup needs one.</summary>
    internal KernfsNode? Child(ReadOnlySpan<char> name)
    {
        if (_byName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var n)) return n;
        return DynamicLookup == null ? null : Child(name.ToString());
    }

    /// <summary>Whether <paramref name="node"/> is the static child under its name (what a lookup of that name finds first).</summary>
    internal bool HasStaticChild(KernfsNode node) => _byName.TryGetValue(node.Name, out var n) && ReferenceEquals(n, node);

    /// <summary>All children: the static ones, then the dynamic ones.</summary>
    public IEnumerable<KernfsNode> List()
    {
        foreach (var c in _children) yield return c;
        if (DynamicList == null) yield break;
        foreach (var d in DynamicList())
        {
            Adopt(d);
            yield return d;
        }
    }

    /// <summary>kernfs_add_one: attach <paramref name="node"/>; −EEXIST when the name is taken (sysfs_warn_dup).</summary>
    public int TryAdd(KernfsNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (_byName.ContainsKey(node.Name)) return -Errno.EEXIST;
        Adopt(node);
        _children.Add(node);
        _byName.Add(node.Name, node);
        return 0;
    }

    /// <summary>Attach <paramref name="node"/> and return it; a taken name is a kernel bug here (<see cref="InvalidOperationException"/>).</summary>
    public T Add<T>(T node) where T : KernfsNode =>
        TryAdd(node) == 0 ? node : throw new InvalidOperationException($"sysfs: cannot create duplicate filename '{Path}/{node.Name}'");

    /// <summary>A text attribute (see <see cref="KernfsAttribute"/>) added to this directory.</summary>
    public KernfsAttribute Attr(string name, int perm, Func<ShowResult>? show, Func<string, long>? store = null) =>
        Add(new KernfsAttribute(name, perm, show, store));

    /// <summary>
    /// The directory at <paramref name="relPath"/> below this one ("bus/nd/devices"), creating missing levels
    /// (kernfs_create_dir for each); throws when a level exists and is not a directory.
    /// </summary>
    public KernfsDir Dir(string relPath)
    {
        var d = this;
        foreach (var part in relPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var c = d.Child(part);
            d = c switch
            {
                null => d.Add(new KernfsDir(part)),
                KernfsDir sub => sub,
                _ => throw new InvalidOperationException($"{c.Path} is not a directory"),
            };
        }
        return d;
    }

    /// <summary>kernfs_remove_by_name: detach the child and everything below it; false when absent.</summary>
    public bool Remove(string name)
    {
        if (!_byName.Remove(name, out var n)) return false;
        _children.Remove(n);
        Deactivate(n);
        return true;
    }

    private static void Deactivate(KernfsNode n)
    {
        n.Active = false;
        if (n is KernfsDir d) foreach (var c in d._children) Deactivate(c);
    }

    // Inode numbers are handed out when a node reaches a mounted tree; a subtree built detached gets them on attach.
    private void Adopt(KernfsNode node)
    {
        node.Parent = this;
        if (Root._nextIno is { } next) Number(node, next);
    }

    private static void Number(KernfsNode n, Func<ulong> next)
    {
        if (n.Ino == 0) n.Ino = next();
        if (n is KernfsDir d) foreach (var c in d._children) Number(c, next);
    }
}
