using KernelSim.Drivers.Virtiofs.Protocol;

namespace KernelSim.Drivers.Virtiofs.Transport;

/// <summary>
/// One FUSE request as it crossed a virtqueue, decoded from the wire bytes (not from the sender's intent), and
/// its reply. Fields that the opcode does not carry are zero.
/// </summary>
public sealed class FuseMessage
{
    /// <summary>Position in the log (0-based).</summary>
    public int Seq { get; init; }
    /// <summary>Virtqueue name ("hiprio", "requests.0").</summary>
    public required string Queue { get; init; }
    /// <summary>in.h.opcode.</summary>
    public FuseOpcode Opcode { get; init; }
    /// <summary>in.h.unique.</summary>
    public ulong Unique { get; init; }
    /// <summary>in.h.nodeid.</summary>
    public ulong NodeId { get; init; }
    /// <summary>in.h.len.</summary>
    public uint Len { get; init; }
    /// <summary>Bytes the device could read (in header + args + data).</summary>
    public int RequestBytes { get; init; }
    /// <summary>fh (SETUPMAPPING, READ, WRITE, RELEASE, FLUSH, FSYNC, SETATTR with FATTR_FH).</summary>
    public ulong Fh { get; init; }
    /// <summary>foffset (SETUPMAPPING) or offset (READ/WRITE).</summary>
    public ulong Offset { get; init; }
    /// <summary>len (SETUPMAPPING), size (READ/WRITE, SETATTR).</summary>
    public ulong Size { get; init; }
    /// <summary>flags (SETUPMAPPING), read/write_flags (READ/WRITE), fsync_flags, INIT flags (low 32 bits) | flags2 &lt;&lt; 32.</summary>
    public ulong Flags { get; init; }
    /// <summary>moffset (SETUPMAPPING).</summary>
    public ulong MOffset { get; init; }
    /// <summary>valid (SETATTR); open_flags (CREATE).</summary>
    public uint Valid { get; init; }
    /// <summary>CREATE / MKNOD: the mode argument.</summary>
    public uint Mode { get; init; }
    /// <summary>CREATE / MKNOD: the umask argument.</summary>
    public uint Umask { get; init; }
    /// <summary>The name of a LOOKUP.</summary>
    public string? Name { get; init; }
    /// <summary>REMOVEMAPPING entries (moffset, len).</summary>
    public IReadOnlyList<(ulong MOffset, ulong Len)> Removals { get; init; } = [];
    /// <summary>Data pages passed by guest-physical address (direct I/O), as (gpa, len, device-writable).</summary>
    public IReadOnlyList<PageDesc> Pages { get; init; } = [];
    /// <summary>out.h.error of the reply; null when there was no reply (FORGET, or the device gave none).</summary>
    public int? Error { get; internal set; }
    /// <summary>Reply bytes the device wrote (out header + args + data).</summary>
    public int ReplyBytes { get; internal set; }
    /// <summary>A device-side problem with this request (e.g. "QueueReader(FindMemoryRegion)").</summary>
    public string? DeviceError { get; internal set; }

    /// <summary>e.g. "SETUPMAPPING nodeid=5 fh=0xffffffffffffffff foffset=0 len=2097152 flags=2 moffset=0 → 0".</summary>
    public override string ToString()
    {
        var args = Opcode switch
        {
            FuseOpcode.FUSE_SETUPMAPPING => $" fh=0x{Fh:x} foffset={Offset} len={Size} flags={Flags} moffset={MOffset}",
            FuseOpcode.FUSE_REMOVEMAPPING => " " + string.Join(",", Removals.Select(r => $"{{moffset={r.MOffset} len={r.Len}}}")),
            FuseOpcode.FUSE_READ or FuseOpcode.FUSE_WRITE => $" fh={Fh} offset={Offset} size={Size}",
            FuseOpcode.FUSE_SETATTR => $" valid={Valid} size={Size}",
            FuseOpcode.FUSE_LOOKUP or FuseOpcode.FUSE_UNLINK => $" name={Name}",
            FuseOpcode.FUSE_CREATE => $" flags=0x{Flags:x} mode=0{Convert.ToString(Mode, 8)} umask=0{Convert.ToString(Umask, 8)} name={Name}",
            FuseOpcode.FUSE_MKNOD => $" mode=0{Convert.ToString(Mode, 8)} rdev={Size} umask=0{Convert.ToString(Umask, 8)} name={Name}",
            FuseOpcode.FUSE_INIT => $" flags=0x{Flags:x}",
            _ => "",
        };
        return $"[{Queue}] {Opcode} unique={Unique} nodeid={NodeId}{args} → {(Error is { } e ? e.ToString() : "no reply")}";
    }
}

/// <summary>A data descriptor of a virtqueue chain that points at guest memory (a pinned page of a direct I/O).</summary>
/// <param name="Gpa">Guest-physical address.</param>
/// <param name="Len">Bytes.</param>
/// <param name="DeviceWritable">True for buffers the device fills (READ data).</param>
public readonly record struct PageDesc(ulong Gpa, uint Len, bool DeviceWritable);
