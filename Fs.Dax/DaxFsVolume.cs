using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>A file or directory of a <see cref="DaxFsVolume"/> (the on-"disk" inode, kept in host memory).</summary>
public sealed class FileNode
{
    internal FileNode(ulong ino, bool isDir)
    {
        Ino = ino;
        IsDir = isDir;
    }

    /// <summary>Inode number.</summary>
    public ulong Ino { get; }
    /// <summary>True for a directory.</summary>
    public bool IsDir { get; }
    /// <summary>File size in bytes (as of the last unmount/fsync of a mounted inode).</summary>
    public long Size { get; internal set; }
    /// <summary>The extent map.</summary>
    public ExtentTree Extents { get; } = new();
    /// <summary>Directory entries (directories only).</summary>
    internal Dictionary<string, FileNode> Children { get; } = new(StringComparer.Ordinal);
    /// <summary>Link count (0 once unlinked).</summary>
    public int Nlink { get; internal set; } = 1;
    /// <summary>The persistent FS_XFLAG_* flags (only FS_XFLAG_DAX is kept): set with FS_IOC_FSSETXATTR, inherited on create.</summary>
    public uint Xflags { get; internal set; }
    /// <summary>The permission bits (mode &amp; 07777) given at create / mkdir.</summary>
    internal int Perm { get; set; } = 0x1a4;
    /// <summary>Times (ns) as of the last commit: atime, mtime, ctime and the creation time (btime).</summary>
    internal long Atime, Mtime, Ctime, Crtime;
}

/// <summary>
/// A formatted filesystem image (mkfs): the superblock, inodes, directories, extent maps and the free-space map.
/// <b>All metadata lives in host memory</b>; only file data is stored on the device (4 KiB blocks, device block
/// n = device bytes [n·4096, n·4096+4096)). The image survives unmount, so the same data can be mounted again
/// with other options (dax=always, then dax=never).
/// </summary>
public sealed class DaxFsVolume
{
    /// <summary>Block size (4096 = PAGE_SIZE, as fsdax requires).</summary>
    public const int BlockSize = 4096;
    /// <summary>log2 of <see cref="BlockSize"/>.</summary>
    public const int BlockShift = 12;
    /// <summary>Blocks in 2 MiB: large allocations are aligned to this so PMD faults can map them.</summary>
    public const long PmdBlocks = 512;

    private readonly SortedList<long, long> _free = []; // start → count
    private ulong _nextIno = 2;

    private DaxFsVolume(long blocks)
    {
        BlockCount = blocks;
        if (blocks > 0) _free.Add(0, blocks);
        Root = new FileNode(1, isDir: true) { Perm = 0x1ed };
    }

    /// <summary>mkfs over a device of <paramref name="deviceBytes"/> bytes (whole 4 KiB blocks only).</summary>
    public static DaxFsVolume Format(long deviceBytes) => new(Math.Max(0, deviceBytes) / BlockSize);

    /// <summary>Device blocks.</summary>
    public long BlockCount { get; }
    /// <summary>The root directory (inode 1).</summary>
    public FileNode Root { get; }
    /// <summary>Free blocks.</summary>
    public long FreeBlocks
    {
        get
        {
            long n = 0;
            foreach (var c in _free.Values) n += c;
            return n;
        }
    }

    internal FileNode NewNode(bool isDir) => new(_nextIno++, isDir);

    /// <summary>
    /// Allocate up to <paramref name="want"/> contiguous blocks (fewer if no run is that long), preferring
    /// <paramref name="goal"/> (the block after the file's previous extent); requests of 2 MiB or more start on a
    /// 2 MiB boundary when such a run exists. Returns the first block and the count, or count 0 (−ENOSPC).
    /// </summary>
    internal (long Start, long Count) Allocate(long want, long goal)
    {
        if (want <= 0 || _free.Count == 0) return (0, 0);
        // 1. the goal, if free.
        foreach (var (s, c) in _free)
        {
            if (goal >= s && goal < s + c && want < PmdBlocks) return Take(goal, Math.Min(want, s + c - goal));
        }
        // 2. an aligned run for big requests.
        if (want >= PmdBlocks)
        {
            foreach (var (s, c) in _free)
            {
                var a = (s + PmdBlocks - 1) / PmdBlocks * PmdBlocks;
                if (a + want <= s + c) return Take(a, want);
            }
        }
        // 3. first fit, else the largest run.
        long bestS = -1, bestC = 0;
        foreach (var (s, c) in _free)
        {
            if (c >= want) return Take(s, want);
            if (c > bestC)
            {
                bestS = s;
                bestC = c;
            }
        }
        return Take(bestS, bestC);
    }

    private (long, long) Take(long start, long count)
    {
        long runS = -1, runC = 0;
        foreach (var (s, c) in _free)
        {
            if (start >= s && start < s + c)
            {
                runS = s;
                runC = c;
                break;
            }
        }
        if (runS < 0) return (0, 0);
        _free.Remove(runS);
        if (start > runS) _free.Add(runS, start - runS);
        var tail = runS + runC - (start + count);
        if (tail > 0) _free.Add(start + count, tail);
        return (start, count);
    }

    /// <summary>Return blocks to the free map (coalescing neighbours).</summary>
    internal void Free(long start, long count)
    {
        if (count <= 0) return;
        var idx = _free.IndexOfKey(start + count);
        if (idx >= 0)
        {
            count += _free.Values[idx];
            _free.RemoveAt(idx);
        }
        foreach (var (s, c) in _free)
        {
            if (s + c == start)
            {
                _free.Remove(s);
                start = s;
                count += c;
                break;
            }
        }
        _free.Add(start, count);
    }

    /// <summary>Resolve a path ("a/b/c", no leading '/') to its node; −ENOENT / −ENOTDIR.</summary>
    internal int Walk(string path, out FileNode? node, out FileNode? parent, out string name)
    {
        node = null;
        parent = null;
        name = "";
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var cur = Root;
        if (parts.Length == 0)
        {
            node = Root;
            return 0;
        }
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (!cur.Children.TryGetValue(parts[i], out var next)) return -Errno.ENOENT;
            if (!next.IsDir) return -Errno.ENOTDIR;
            cur = next;
        }
        parent = cur;
        name = parts[^1];
        node = cur.Children.GetValueOrDefault(name);
        return 0;
    }

    /// <summary>The owner of device block <paramref name="devBlock"/>: the file and its file block (the rmap btree query of XFS), or null for a free block.</summary>
    public (FileNode Node, long FileBlock)? ReverseMap(long devBlock)
    {
        var stack = new Stack<FileNode>();
        stack.Push(Root);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            foreach (var e in n.Extents.Extents)
            {
                if (devBlock >= e.DevBlock && devBlock < e.DevBlock + e.Count) return (n, e.FileBlock + (devBlock - e.DevBlock));
            }
            foreach (var c in n.Children.Values) stack.Push(c);
        }
        foreach (var o in Orphans)
        {
            foreach (var e in o.Extents.Extents)
            {
                if (devBlock >= e.DevBlock && devBlock < e.DevBlock + e.Count) return (o, e.FileBlock + (devBlock - e.DevBlock));
            }
        }
        return null;
    }

    /// <summary>Unlinked files still open (the orphan list): their blocks are freed at the last close.</summary>
    internal List<FileNode> Orphans { get; } = [];
}
