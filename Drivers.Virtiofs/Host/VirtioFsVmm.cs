using KernelSim.Mm;

namespace KernelSim.Drivers.Virtiofs.Host;

/// <summary>
/// The VMM side of the DAX window (out-of-tree QEMU "cache BAR", Cloud Hypervisor ≤ v22 fs_slave_map/unmap): one
/// PROT_NONE reservation of <see cref="WindowBytes"/>, into which SETUPMAPPING maps host file ranges with
/// mmap(MAP_SHARED|MAP_FIXED) — checked against the window, never against the file size — and REMOVEMAPPING puts
/// PROT_NONE back. As the window's <see cref="IDeviceWindowHandler"/> it is also KVM's second-stage translation:
/// a guest access to a window page resolves through the mapping to the host file's page, or fails, and the
/// <see cref="HostFaultPolicy"/> says what the failure becomes. Not a kernel type.
/// </summary>
public sealed class VirtioFsVmm : IDeviceWindowHandler
{
    private readonly List<HostMapping> _maps = [];

    internal VirtioFsVmm(ulong windowBytes, HostFaultPolicy policy)
    {
        WindowBytes = windowBytes;
        Policy = policy;
    }

    /// <summary>Size of the window (the cache-size property).</summary>
    public ulong WindowBytes { get; }

    /// <summary>What a failed access becomes.</summary>
    public HostFaultPolicy Policy { get; set; }

    /// <summary>The current host mappings, by window offset.</summary>
    public IReadOnlyList<HostMapping> Mappings => _maps;

    /// <summary>Accesses that failed, in order (gpa offset in window, reason, action).</summary>
    public List<string> FaultLog { get; } = [];

    /// <summary>
    /// fs_slave_map: mmap(cache_base + moffset, len, prot, MAP_SHARED|MAP_FIXED, fd, foffset). -EINVAL when the
    /// range is not inside the window (the only check); an exact or partial overlap replaces/splits old mappings.
    /// </summary>
    public int Map(ulong moffset, ulong len, HostFile file, ulong foffset, bool read, bool write)
    {
        if (len == 0 || moffset >= WindowBytes || len > WindowBytes - moffset) return -Uapi.Errno.EINVAL;
        if (!PageDefs.IsPageAligned(moffset) || !PageDefs.IsPageAligned(len) || !PageDefs.IsPageAligned(foffset)) return -Uapi.Errno.EINVAL;
        Punch(moffset, len);
        _maps.Add(new HostMapping(moffset, len, file, foffset, read, write));
        _maps.Sort((a, b) => a.MOffset.CompareTo(b.MOffset));
        return 0;
    }

    /// <summary>fs_slave_unmap: replace [moffset, moffset+len) with anonymous PROT_NONE; len all-ones = the whole window.</summary>
    public int Unmap(ulong moffset, ulong len)
    {
        if (len == ulong.MaxValue)
        {
            _maps.Clear();
            return 0;
        }
        if (len == 0 || moffset >= WindowBytes || len > WindowBytes - moffset) return -Uapi.Errno.EINVAL;
        Punch(moffset, len);
        return 0;
    }

    private void Punch(ulong start, ulong len)
    {
        var end = start + len;
        for (var i = _maps.Count - 1; i >= 0; i--)
        {
            var m = _maps[i];
            if (m.End <= start || m.MOffset >= end) continue;
            _maps.RemoveAt(i);
            if (m.MOffset < start) _maps.Add(m with { Len = start - m.MOffset });
            if (m.End > end) _maps.Add(m with { MOffset = end, Len = m.End - end, FOffset = m.FOffset + (end - m.MOffset) });
        }
        _maps.Sort((a, b) => a.MOffset.CompareTo(b.MOffset));
    }

    /// <summary>The mapping covering window offset <paramref name="moffset"/>, or null (PROT_NONE).</summary>
    public HostMapping? Find(ulong moffset)
    {
        foreach (var m in _maps) if (moffset >= m.MOffset && moffset < m.End) return m;
        return null;
    }

    /// <summary>
    /// KVM's view of one guest access (docs/kernel/virtiofs.md#access-outcome): no host mapping → hard fault (VM
    /// stop); write to a read-only mapping → hard fault; mapped page beyond the host file's EOF → the policy;
    /// otherwise the host page.
    /// </summary>
    public WindowAccess Access(ulong pageIndex, bool write, bool userMode)
    {
        var off = pageIndex << PageDefs.PAGE_SHIFT;
        var m = Find(off);
        if (m == null) return Fail(off, "no host mapping: PROT_NONE placeholder, GUP fails hard", HostFaultAction.VmStop);
        if (write && !m.Write) return Fail(off, "write to a read-only host mapping, GUP fails hard", HostFaultAction.VmStop);
        if (!write && !m.Read) return Fail(off, "read of a write-only host mapping, GUP fails hard", HostFaultAction.VmStop);
        var fileIndex = (m.FOffset + (off - m.MOffset)) >> PageDefs.PAGE_SHIFT;
        var pfn = m.File.Backing(fileIndex);
        if (pfn != null) return WindowAccess.Backed(pfn.Value);
        var reason = $"{m.File.Name} page {fileIndex} is beyond host EOF ({m.File.Size})";
        var action = Policy switch
        {
            HostFaultPolicy.UpstreamAsyncLivelock => HostFaultAction.Livelock,
            HostFaultPolicy.ProposedGuestSigbus => userMode ? HostFaultAction.GuestSigbus : HostFaultAction.VmStop,
            HostFaultPolicy.ProposedMachineCheck => write ? HostFaultAction.VmStop : HostFaultAction.MachineCheck,
            _ => HostFaultAction.VmStop,
        };
        return Fail(off, reason, action);
    }

    private WindowAccess Fail(ulong off, string reason, HostFaultAction action)
    {
        FaultLog.Add($"window offset 0x{off:x}: {reason} → {action}");
        return new WindowAccess(action, 0, reason);
    }
}

/// <summary>One host mapping in the window: [MOffset, MOffset+Len) shows file bytes [FOffset, FOffset+Len).</summary>
/// <param name="MOffset">Window offset.</param>
/// <param name="Len">Length.</param>
/// <param name="File">The host file.</param>
/// <param name="FOffset">File offset.</param>
/// <param name="Read">PROT_READ.</param>
/// <param name="Write">PROT_WRITE.</param>
public sealed record HostMapping(ulong MOffset, ulong Len, HostFile File, ulong FOffset, bool Read, bool Write)
{
    /// <summary>One past the last window offset.</summary>
    public ulong End => MOffset + Len;
}
