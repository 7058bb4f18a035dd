namespace KernelSim.Drivers.Virtiofs.Host;

/// <summary>
/// The shared host directory the daemon serves, and the API of "the other party": a host process or another guest
/// sharing the directory that creates, writes, extends and truncates files at any step of a scenario. Flat
/// namespace (file names). Not a kernel type.
/// </summary>
public sealed class HostShare
{
    private readonly Dictionary<string, HostFile> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, HostFile> _byNode = [];
    private readonly List<string> _events = [];
    private ulong _nextNode = 2;

    internal HostShare(HostMemory mem) => Memory = mem;

    /// <summary>Host memory backing the files' pages.</summary>
    public HostMemory Memory { get; }

    /// <summary>Files by name.</summary>
    public IReadOnlyDictionary<string, HostFile> Files => _byName;

    /// <summary>What the other party did, in order ("truncate F 2097152").</summary>
    public IReadOnlyList<string> Events => _events;

    /// <summary>The file with a node id, or null.</summary>
    public HostFile? ByNode(ulong nodeId) => _byNode.GetValueOrDefault(nodeId);

    /// <summary>The file with a name, or null.</summary>
    public HostFile? this[string name] => _byName.GetValueOrDefault(name);

    /// <summary>
    /// Create a file of <paramref name="size"/> bytes filled with a deterministic pattern (byte i = (i*7+13) mod 251)
    /// unless <paramref name="data"/> is given. <paramref name="nodeId"/> picks the FUSE node id (0 = next free).
    /// Returns null for a duplicate name or node id.
    /// </summary>
    public HostFile? CreateFile(string name, long size = 0, ulong nodeId = 0, bool attrDax = true, ReadOnlySpan<byte> data = default)
    {
        if (string.IsNullOrEmpty(name) || _byName.ContainsKey(name) || size < 0) return null;
        if (nodeId == 0) while (_byNode.ContainsKey(_nextNode) || _nextNode == 1) _nextNode++;
        var id = nodeId == 0 ? _nextNode++ : nodeId;
        if (id == 1 || _byNode.ContainsKey(id)) return null;
        var f = new HostFile(Memory, name, id) { AttrDax = attrDax };
        if (!data.IsEmpty) f.Write(0, data);
        else if (size > 0)
        {
            // The pattern repeats every 251 bytes: build one period and tile it.
            var period = new byte[251];
            for (var i = 0; i < period.Length; i++) period[i] = Pattern(i);
            var buf = new byte[size];
            for (long i = 0; i < size; i += period.Length) period.AsSpan(0, (int)Math.Min(period.Length, size - i)).CopyTo(buf.AsSpan((int)i));
            f.Write(0, buf);
        }
        _byName.Add(name, f);
        _byNode.Add(id, f);
        _events.Add($"create {name} {f.Size}");
        return f;
    }

    /// <summary>
    /// unlink(2) on the host (virtiofsd's unlinkat for FUSE_UNLINK, or the other party): the name goes; the file stays
    /// reachable by node id for the daemon's open handles and window mappings, as an unlinked host inode does.
    /// </summary>
    public bool Unlink(string name)
    {
        if (!_byName.Remove(name)) return false;
        _events.Add($"unlink {name}");
        return true;
    }

    /// <summary>The default content byte at file offset i.</summary>
    public static byte Pattern(long i) => (byte)((i * 7 + 13) % 251);

    /// <summary>Another party truncates (or extends) the file to <paramref name="size"/>. False if there is no such file.</summary>
    public bool Truncate(string name, long size)
    {
        if (!_byName.TryGetValue(name, out var f) || size < 0) return false;
        f.SetSize(size);
        _events.Add($"truncate {name} {size}");
        return true;
    }

    /// <summary>Another party extends the file to <paramref name="size"/> (ftruncate up; no effect when smaller).</summary>
    public bool Extend(string name, long size)
    {
        if (!_byName.TryGetValue(name, out var f) || size < 0) return false;
        if (size > f.Size) f.SetSize(size);
        _events.Add($"extend {name} {size}");
        return true;
    }

    /// <summary>Another party writes bytes at <paramref name="offset"/> (extending the file if needed).</summary>
    public bool Write(string name, long offset, ReadOnlySpan<byte> data)
    {
        if (!_byName.TryGetValue(name, out var f) || offset < 0) return false;
        f.Write(offset, data);
        _events.Add($"write {name} {offset} {data.Length}");
        return true;
    }
}
