namespace KernelSim.Fs;

/// <summary>
/// mapping-&gt;i_pages: an index → folio radix tree shaped like the kernel's xarray (lib/xarray.c, include/linux/xarray.h):
/// nodes of XA_CHUNK_SIZE = 64 slots (XA_CHUNK_SHIFT 6), a root that grows a level whenever an index does not fit
/// (xas_expand) and empty nodes freed on removal (xas_delete_node). A lookup is one array load per level; sequential
/// lookups hit the last leaf node directly (the xa_state cursor of xas_next), so it neither hashes nor allocates.
/// Walks run in index order. Given a machine's memory, its leaves come from the memory's frame pool (if any), and when the
/// machine is released its leaves and folios go back there and the tree is empty.
/// </summary>
internal sealed class FolioXarray(Mm.PhysicalMemory? phys = null) : Mm.IPoolBorrower
{
    private const int ChunkShift = 6;
    private const int ChunkSize = 1 << ChunkShift;
    private const ulong ChunkMask = ChunkSize - 1;

    /// <summary>An xa_node: inner nodes hold child nodes, leaves (shift 0) hold folios (a pooled leaf comes empty).</summary>
    private sealed class Node(int shift)
    {
        public readonly int Shift = shift;
        public readonly Node?[]? Kids = shift == 0 ? null : new Node?[ChunkSize];
        public readonly Folio?[]? Leaves = shift == 0 ? new Folio?[ChunkSize] : null;
        public int Count;
    }

    private Node? _root;
    // The cursor: the leaf holding [_leafBase, _leafBase + 64) of the last lookup or store.
    private Folio?[]? _leaf;
    private ulong _leafBase;

    /// <summary>A new node: a leaf lent by the memory's frame pool (cleared), or allocated.</summary>
    private Node NewNode(int shift) => shift == 0 && phys?.LendXaLeaf(this) is Node leaf ? leaf : new Node(shift);

    /// <inheritdoc/>
    public bool Lent { get; set; }

    /// <summary>
    /// The machine is released: every leaf goes back to <paramref name="pool"/> cleared, with its folios (reset); the tree
    /// is empty afterwards. Inner nodes are left to the GC (a file under 64 pages has none).
    /// </summary>
    public void ReturnLent(Mm.FramePool pool)
    {
        if (_root != null) ReturnLeaves(_root, pool);
        _root = null;
        _leaf = null;
        Count = 0;
        Version++;
    }

    private static void ReturnLeaves(Node n, Mm.FramePool pool)
    {
        if (n.Shift != 0)
        {
            foreach (var kid in n.Kids!) if (kid != null) ReturnLeaves(kid, pool);
            return;
        }
        var leaves = n.Leaves!;
        for (var i = 0; i < leaves.Length; i++)
        {
            if (leaves[i] is { } f) pool.ReturnFolio(f);
            leaves[i] = null;
        }
        n.Count = 0;
        pool.ReturnXaLeaf(n);
    }

    /// <summary>The number of folios stored.</summary>
    public int Count { get; private set; }

    /// <summary>Counts every <see cref="Store"/> and <see cref="Erase(ulong, out Folio?)"/>: unchanged, every index holds the folio it held.</summary>
    public ulong Version { get; private set; }

    /// <summary>True when <paramref name="index"/> is below the root's reach (a root of shift s covers 64^(s/6+1) indices).</summary>
    private static bool Fits(Node root, ulong index) => root.Shift + ChunkShift >= 64 || index >> (root.Shift + ChunkShift) == 0;

    /// <summary>xa_load: the folio at <paramref name="index"/>, or null.</summary>
    public Folio? Load(ulong index)
    {
        var leaf = _leaf;
        if (leaf != null && (index ^ _leafBase) <= ChunkMask) return leaf[(int)(index & ChunkMask)];
        return LoadSlow(index);
    }

    private Folio? LoadSlow(ulong index)
    {
        var n = _root;
        if (n == null || !Fits(n, index)) return null;
        while (n.Shift != 0)
        {
            n = n.Kids![(int)((index >> n.Shift) & ChunkMask)];
            if (n == null) return null;
        }
        _leaf = n.Leaves;
        _leafBase = index & ~ChunkMask;
        return n.Leaves![(int)(index & ChunkMask)];
    }

    /// <summary>xa_store: put <paramref name="folio"/> at <paramref name="index"/> (replacing what was there).</summary>
    public void Store(ulong index, Folio folio)
    {
        Version++;
        _root ??= NewNode(0);
        while (!Fits(_root, index))
        {
            // xas_expand: the old root becomes slot 0 of a new root one level up.
            var up = new Node(_root.Shift + ChunkShift);
            if (_root.Count != 0)
            {
                up.Kids![0] = _root;
                up.Count = 1;
            }
            _root = up;
        }
        var n = _root;
        while (n.Shift != 0)
        {
            var slot = (int)((index >> n.Shift) & ChunkMask);
            var kid = n.Kids![slot];
            if (kid == null)
            {
                kid = NewNode(n.Shift - ChunkShift);
                n.Kids[slot] = kid;
                n.Count++;
            }
            n = kid;
        }
        ref var s = ref n.Leaves![(int)(index & ChunkMask)];
        if (s == null)
        {
            n.Count++;
            Count++;
        }
        s = folio;
        _leaf = n.Leaves;
        _leafBase = index & ~ChunkMask;
    }

    /// <summary>xa_erase: remove the folio at <paramref name="index"/>; false if the slot was empty. Empty nodes are freed.</summary>
    public bool Erase(ulong index, out Folio? folio)
    {
        Version++;
        folio = null;
        if (_root == null || !Fits(_root, index)) return false;
        if (!Erase(_root, index, out folio)) return false;
        Count--;
        if (_root.Count == 0) _root = null;
        return true;
    }

    private bool Erase(Node n, ulong index, out Folio? folio)
    {
        var slot = (int)((index >> n.Shift) & ChunkMask);
        if (n.Shift == 0)
        {
            folio = n.Leaves![slot];
            if (folio == null) return false;
            n.Leaves[slot] = null;
            n.Count--;
            if (n.Count == 0 && ReferenceEquals(_leaf, n.Leaves)) _leaf = null; // the cursor must not outlive its node
            return true;
        }
        var kid = n.Kids![slot];
        folio = null;
        if (kid == null || !Erase(kid, index, out folio)) return false;
        if (kid.Count == 0)
        {
            n.Kids[slot] = null;
            n.Count--;
        }
        return true;
    }

    /// <summary>xa_find from <paramref name="index"/>: the first folio at or after it, or null.</summary>
    public Folio? FindFrom(ulong index)
    {
        var root = _root;
        if (root == null || !Fits(root, index)) return null;
        return FindFrom(root, index);
    }

    /// <summary>The first folio at or after <paramref name="index"/> (only its bits below the node's reach count) in n's subtree.</summary>
    private static Folio? FindFrom(Node n, ulong index)
    {
        var slot = (int)((index >> n.Shift) & ChunkMask);
        if (n.Shift == 0)
        {
            var leaves = n.Leaves!;
            for (; slot < ChunkSize; slot++) if (leaves[slot] is { } f) return f;
            return null;
        }
        var kids = n.Kids!;
        for (var first = true; slot < ChunkSize; slot++, first = false)
        {
            if (kids[slot] is not { } kid) continue;
            var f = FindFrom(kid, first ? index : 0);
            if (f != null) return f;
        }
        return null;
    }

    /// <summary>Every folio in index order (xa_for_each); a change during the walk is seen from the next index on.</summary>
    public IEnumerable<Folio> Values
    {
        get
        {
            for (var f = FindFrom(0); f != null; f = f.Index == ulong.MaxValue ? null : FindFrom(f.Index + 1)) yield return f;
        }
    }
}
