using System.Buffers;
using System.Buffers.Binary;

namespace KernelSim.Drivers.Virtiofs.Protocol;

/// <summary>
/// struct fuse_in_header (include/uapi/linux/fuse.h), 40 bytes little-endian: len, opcode, unique, nodeid, uid,
/// gid, pid, then total_extlen (u16, 7.38+) and padding (u16) — a u32 padding before 7.38.
/// </summary>
public readonly record struct FuseInHeader(uint Len, FuseOpcode Opcode, ulong Unique, ulong NodeId, uint Uid, uint Gid, uint Pid, ushort TotalExtlen)
{
    /// <summary>Encode into the first 40 bytes of <paramref name="b"/>.</summary>
    public void Write(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b, Len);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)Opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], Unique);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], NodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(b[24..], Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[28..], Gid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[32..], Pid);
        BinaryPrimitives.WriteUInt16LittleEndian(b[36..], TotalExtlen);
        BinaryPrimitives.WriteUInt16LittleEndian(b[38..], 0);
    }

    /// <summary>Decode; false when fewer than 40 bytes are given.</summary>
    public static bool TryRead(ReadOnlySpan<byte> b, out FuseInHeader h)
    {
        h = default;
        if (b.Length < FuseConst.InHeaderSize) return false;
        h = new FuseInHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(b),
            (FuseOpcode)BinaryPrimitives.ReadUInt32LittleEndian(b[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[28..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[32..]),
            BinaryPrimitives.ReadUInt16LittleEndian(b[36..]));
        return true;
    }

    /// <summary>
    /// Decode from a reader over pipe memory (the 40 bytes may span segments) and advance past them; false, with the
    /// reader unmoved, when fewer than 40 bytes remain.
    /// </summary>
    public static bool TryRead(ref SequenceReader<byte> r, out FuseInHeader h)
    {
        h = default;
        if (r.Remaining < FuseConst.InHeaderSize) return false;
        r.TryReadLittleEndian(out int len);
        r.TryReadLittleEndian(out int opcode);
        r.TryReadLittleEndian(out long unique);
        r.TryReadLittleEndian(out long nodeid);
        r.TryReadLittleEndian(out int uid);
        r.TryReadLittleEndian(out int gid);
        r.TryReadLittleEndian(out int pid);
        r.TryReadLittleEndian(out short extlen);
        r.Advance(2); // padding
        h = new FuseInHeader((uint)len, (FuseOpcode)(uint)opcode, (ulong)unique, (ulong)nodeid, (uint)uid, (uint)gid, (uint)pid, (ushort)extlen);
        return true;
    }
}
