using System.Buffers;
using System.Buffers.Binary;

namespace KernelSim.Drivers.Virtiofs.Protocol;

/// <summary>struct fuse_out_header (include/uapi/linux/fuse.h), 16 bytes: len (total reply bytes), error (0 or −errno), unique.</summary>
public readonly record struct FuseOutHeader(uint Len, int Error, ulong Unique)
{
    /// <summary>Encode into the first 16 bytes of <paramref name="b"/>.</summary>
    public void Write(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b, Len);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], Error);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], Unique);
    }

    /// <summary>Decode; false when fewer than 16 bytes are given.</summary>
    public static bool TryRead(ReadOnlySpan<byte> b, out FuseOutHeader h)
    {
        h = default;
        if (b.Length < FuseConst.OutHeaderSize) return false;
        h = new FuseOutHeader(BinaryPrimitives.ReadUInt32LittleEndian(b), BinaryPrimitives.ReadInt32LittleEndian(b[4..]), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]));
        return true;
    }

    /// <summary>
    /// Decode from a reader over pipe memory (the 16 bytes may span segments) and advance past them; false, with the
    /// reader unmoved, when fewer than 16 bytes remain.
    /// </summary>
    public static bool TryRead(ref SequenceReader<byte> r, out FuseOutHeader h)
    {
        h = default;
        if (r.Remaining < FuseConst.OutHeaderSize) return false;
        r.TryReadLittleEndian(out int len);
        r.TryReadLittleEndian(out int error);
        r.TryReadLittleEndian(out long unique);
        h = new FuseOutHeader((uint)len, error, (ulong)unique);
        return true;
    }
}
