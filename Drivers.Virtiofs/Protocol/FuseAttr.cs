using System.Buffers.Binary;

namespace KernelSim.Drivers.Virtiofs.Protocol;

/// <summary>struct fuse_attr (88 bytes): the fields the model uses; times are zero.</summary>
public readonly record struct FuseAttr(ulong Ino, ulong Size, ulong Blocks, uint Mode, uint Nlink, uint Blksize, uint Flags)
{
    /// <summary>Encode into 88 bytes.</summary>
    public void Write(Span<byte> b)
    {
        b[..FuseConst.AttrSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, Ino);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], Size);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], Blocks);
        // atime, mtime, ctime (u64) at 24..48; atimensec, mtimensec, ctimensec at 48..60
        BinaryPrimitives.WriteUInt32LittleEndian(b[60..], Mode);
        BinaryPrimitives.WriteUInt32LittleEndian(b[64..], Nlink);
        // uid 68, gid 72, rdev 76
        BinaryPrimitives.WriteUInt32LittleEndian(b[80..], Blksize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[84..], Flags);
    }

    /// <summary>Decode 88 bytes (the caller checked the length).</summary>
    public static FuseAttr Read(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(b),
        BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[16..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[60..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[64..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[80..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[84..]));
}
