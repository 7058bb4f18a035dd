using KernelSim.Mm;

namespace KernelSim.Drivers.Virtiofs.Host;

/// <summary>
/// A regular file on the host, as the host kernel's page cache holds it: a size and 4 KiB pages of host memory.
/// Truncation drops the pages past the new end (which also removes them from every MAP_SHARED mapping, so the
/// VMM's window mapping and the EPT entries for them are gone) and zeroes the tail of a partial last page, as
/// truncate_pagecache does. Not a kernel type.
/// </summary>
public sealed class HostFile
{
    private readonly HostMemory _mem;
    private readonly SortedDictionary<ulong, ulong> _pages = [];

    internal HostFile(HostMemory mem, string name, ulong nodeId)
    {
        _mem = mem;
        Name = name;
        NodeId = nodeId;
    }

    /// <summary>File name in the shared directory.</summary>
    public string Name { get; }

    /// <summary>The FUSE node id the daemon uses for it.</summary>
    public ulong NodeId { get; }

    /// <summary>st_size.</summary>
    public long Size { get; private set; }

    /// <summary>st_mode (S_IFREG | permissions): 0644 for files the other party creates, the guest's mode for CREATE / MKNOD.</summary>
    public int Mode { get; internal set; } = KernelSim.Uapi.Fcntl.S_IFREG | 0x1a4;

    /// <summary>Whether the daemon sets FUSE_ATTR_DAX on this file's attributes (per-inode DAX).</summary>
    public bool AttrDax { get; set; } = true;

    /// <summary>Pages present in the host page cache.</summary>
    public int CachedPages => _pages.Count;

    /// <summary>Number of pages a mapping can reach: ceil(size / 4096).</summary>
    public ulong PagesInFile => PageDefs.PageAlign((ulong)Size) >> PageDefs.PAGE_SHIFT;

    /// <summary>
    /// The host frame backing page <paramref name="index"/> for an access through a mapping: null when the page is
    /// beyond EOF (the mapping's access faults); a page inside the file that was never written is allocated zeroed.
    /// </summary>
    internal ulong? Backing(ulong index)
    {
        if (index >= PagesInFile) return null;
        if (!_pages.TryGetValue(index, out var pfn))
        {
            pfn = _mem.AllocPage();
            _pages.Add(index, pfn);
        }
        return pfn;
    }

    /// <summary>pread: bytes read (0 at or past EOF).</summary>
    public int Read(long offset, Span<byte> into)
    {
        if (offset < 0 || offset >= Size) return 0;
        var n = (int)Math.Min(into.Length, Size - offset);
        var done = 0;
        while (done < n)
        {
            var pos = (ulong)offset + (ulong)done;
            var idx = pos >> PageDefs.PAGE_SHIFT;
            var off = (int)PageDefs.OffsetInPage(pos);
            var chunk = Math.Min(n - done, (int)PageDefs.PAGE_SIZE - off);
            if (_pages.TryGetValue(idx, out var pfn)) _mem.Read(pfn, off, into.Slice(done, chunk));
            else into.Slice(done, chunk).Clear();
            done += chunk;
        }
        return n;
    }

    /// <summary>pwrite: writes every byte, extending the file.</summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset));
        if (offset + data.Length > Size) SetSize(offset + data.Length);
        var done = 0;
        while (done < data.Length)
        {
            var pos = (ulong)offset + (ulong)done;
            var idx = pos >> PageDefs.PAGE_SHIFT;
            var off = (int)PageDefs.OffsetInPage(pos);
            var chunk = Math.Min(data.Length - done, (int)PageDefs.PAGE_SIZE - off);
            var pfn = Backing(idx)!.Value;
            _mem.Write(pfn, off, data.Slice(done, chunk));
            done += chunk;
        }
    }

    /// <summary>ftruncate: shrink (drop pages past the end, zero the partial tail) or extend (a hole).</summary>
    public void SetSize(long size)
    {
        if (size < 0) throw new ArgumentOutOfRangeException(nameof(size));
        var firstGone = PageDefs.PageAlign((ulong)size) >> PageDefs.PAGE_SHIFT;
        List<ulong>? drop = null;
        foreach (var k in _pages.Keys) if (k >= firstGone) (drop ??= []).Add(k);
        if (drop != null)
        {
            foreach (var k in drop)
            {
                _mem.FreePage(_pages[k]);
                _pages.Remove(k);
            }
        }
        // Zero the tail of the page holding the (old or new) end: truncate_pagecache on shrink, and the
        // pagecache_isize_extended/zeroing that keeps stale bytes from reappearing on extend.
        var edge = Math.Min(size, Size);
        var tailOff = (int)PageDefs.OffsetInPage((ulong)edge);
        if (tailOff != 0 && _pages.TryGetValue((ulong)edge >> PageDefs.PAGE_SHIFT, out var last))
            _mem.Zero(last, tailOff, (int)PageDefs.PAGE_SIZE - tailOff);
        Size = size;
    }

    /// <summary>The whole file.</summary>
    public byte[] ReadAll()
    {
        var b = new byte[Size];
        Read(0, b);
        return b;
    }

    /// <inheritdoc/>
    public override string ToString() => $"host file {Name} (nodeid {NodeId}) size={Size}";
}
