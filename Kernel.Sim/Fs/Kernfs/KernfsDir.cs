using KernelSim.Uapi;

namespace KernelSim.Fs.Kernfs;

/// <summary>
/// A kernfs directory (kernfs_create_dir): children in creation order. A directory may also resolve names on demand
/// (<see cref="DynamicLookup"/> / <see cref="DynamicList"/>), as procfs does for /proc/&lt;pid&gt;.
/// </summary>
public sealed class KernfsDir : KernfsNode
{
    /// <summary>Children from which on a directory keeps a name index; below it a lookup scans the children.</summary>
    private const int IndexFrom = 32;

    private readonly List<KernfsNode> _children = [];
    // Most kernfs directories hold a handful of attributes and are built per machine (sysfs on its first lookup): a
    // scan of their names is as quick as hashing one, and no dictionary is built and regrown for each of them.
    private Dictionary<string, KernfsNode>? _byName;
    // One bit of 128 per name (NameHash) of the children ever added: a name whose bit is clear is not here, without a
    // scan (every add checks for a duplicate first). Removal leaves the bit set.
    private ulong _nameBitsLo, _nameBitsHi;
    // The inode numbering of the tree the directory is in: the root's, given to each directory as it is numbered.
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
        if (Find(name) is { } n) return n;
        var d = DynamicLookup?.Invoke(name);
        if (d != null) Adopt(d);
        return d;
    }

    /// <summary><see cref="Child(string)"/> for a name sliced out of a path: no string unless a dynamic lookup needs one.</summary>
    internal KernfsNode? Child(ReadOnlySpan<char> name)
    {
        if (Find(name) is { } n) return n;
        return DynamicLookup == null ? null : Child(name.ToString());
    }

    /// <summary>The static child called <paramref name="name"/> (ordinal comparison), or null.</summary>
    private KernfsNode? Find(ReadOnlySpan<char> name)
    {
        if (_byName != null) return _byName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var n) ? n : null;
        if (name.IsEmpty) return null;
        var h = NameHash(name);
        if ((((h < 64 ? _nameBitsLo : _nameBitsHi) >> h) & 1) == 0) return null;
        foreach (var c in _children)
            if (c.Name.Length == name.Length && name.SequenceEqual(c.Name)) return c;
        return null;
    }

    /// <summary>Whether <paramref name="node"/> is the static child under its name (what a lookup of that name finds first).</summary>
    internal bool HasStaticChild(KernfsNode node) => ReferenceEquals(Find(node.Name), node);

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
        if (Find(node.Name) != null) return -Errno.EEXIST;
        Adopt(node);
        _children.Add(node);
        var h = NameHash(node.Name);
        if (h < 64) _nameBitsLo |= 1UL << h;
        else _nameBitsHi |= 1UL << h;
        if (_byName != null) _byName.Add(node.Name, node);
        else if (_children.Count == IndexFrom)
        {
            _byName = new Dictionary<string, KernfsNode>(IndexFrom * 2, StringComparer.Ordinal);
            foreach (var c in _children) _byName.Add(c.Name, c);
        }
        return 0;
    }

    /// <summary>Attach <paramref name="node"/> and return it; a taken name is a kernel bug here (<see cref="InvalidOperationException"/>).</summary>
    public T Add<T>(T node) where T : KernfsNode =>
        TryAdd(node) == 0 ? node : throw new InvalidOperationException($"sysfs: cannot create duplicate filename '{Path}/{node.Name}'");

    /// <summary>
    /// Room for <paramref name="children"/> children without regrowing the list (a builder that knows how many entries
    /// it adds); changes nothing else.
    /// </summary>
    public void EnsureCapacity(int children) => _children.EnsureCapacity(children);

    /// <summary>A text attribute (see <see cref="KernfsAttribute"/>) added to this directory.</summary>
    public KernfsAttribute Attr(string name, int perm, Func<ShowResult>? show, Func<string, long>? store = null) =>
        Add(new KernfsAttribute(name, perm, show, store));

    /// <summary>
    /// A text attribute of <paramref name="obj"/> (see <see cref="KernfsAttribute{T}"/>): show and store get the object,
    /// so they need not capture it (pass static lambdas).
    /// </summary>
    public KernfsAttribute<T> Attr<T>(string name, int perm, T obj, Func<T, ShowResult>? show, Func<T, string, long>? store = null) =>
        Add(new KernfsAttribute<T>(name, perm, obj, show, store));

    /// <summary>
    /// The directory at <paramref name="relPath"/> below this one ("bus/nd/devices"), creating missing levels
    /// (kernfs_create_dir for each); throws when a level exists and is not a directory.
    /// </summary>
    public KernfsDir Dir(string relPath)
    {
        var d = this;
        // The components are sliced out of the path; a name string is made only for a level that is created.
        var rest = relPath.AsSpan();
        while (!rest.IsEmpty)
        {
            var slash = rest.IndexOf('/');
            var part = slash < 0 ? rest : rest[..slash];
            rest = slash < 0 ? default : rest[(slash + 1)..];
            if (part.IsEmpty) continue;
            var c = d.Child(part);
            d = c switch
            {
                null => d.Add(new KernfsDir(part.Length == relPath.Length ? relPath : part.ToString())),
                KernfsDir sub => sub,
                _ => throw new InvalidOperationException($"{c.Path} is not a directory"),
            };
        }
        return d;
    }

    /// <summary>kernfs_remove_by_name: detach the child and everything below it; false when absent.</summary>
    public bool Remove(string name)
    {
        var n = Find(name);
        if (n == null) return false;
        _byName?.Remove(name);
        _children.Remove(n);
        Deactivate(n);
        return true;
    }

    /// <summary>0–127 from the name's length and its first, middle and last characters (a filter, not an identity).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int NameHash(ReadOnlySpan<char> name) =>
        (int)(((uint)name.Length * 0x9E3779B1u ^ name[0] * 0x85EBCA77u ^ name[^1] * 0xC2B2AE3Du ^ name[name.Length >> 1] * 0x27D4EB2Fu) >> 25);

    private static void Deactivate(KernfsNode n)
    {
        n.Active = false;
        if (n is KernfsDir d) foreach (var c in d._children) Deactivate(c);
    }

    // Inode numbers are handed out when a node reaches a mounted tree; a subtree built detached gets them on attach.
    private void Adopt(KernfsNode node)
    {
        node.Parent = this;
        if (_nextIno is { } next) Number(node, next);
    }

    private static void Number(KernfsNode n, Func<ulong> next)
    {
        if (n.Ino == 0) n.Ino = next();
        if (n is not KernfsDir d) return;
        d._nextIno = next;
        foreach (var c in d._children) Number(c, next);
    }
}
