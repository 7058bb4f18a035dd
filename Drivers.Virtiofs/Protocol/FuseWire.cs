using System.Buffers.Binary;

namespace KernelSim.Drivers.Virtiofs.Protocol;

/// <summary>
/// Little-endian field access for the FUSE argument structs (include/uapi/linux/fuse.h). Offsets are the
/// structs' natural layout; every reader checks the length first so a truncated message is an error, never an
/// exception. Each struct has a span form that fills caller memory (a stack buffer or the reply's place in the used
/// ring) and returns the filled slice, and an array form for tests and tools.
/// </summary>
public static class FuseWire
{
    /// <summary>u64 at offset.</summary>
    public static ulong U64(ReadOnlySpan<byte> b, int off) => BinaryPrimitives.ReadUInt64LittleEndian(b[off..]);
    /// <summary>u32 at offset.</summary>
    public static uint U32(ReadOnlySpan<byte> b, int off) => BinaryPrimitives.ReadUInt32LittleEndian(b[off..]);
    /// <summary>u16 at offset.</summary>
    public static ushort U16(ReadOnlySpan<byte> b, int off) => BinaryPrimitives.ReadUInt16LittleEndian(b[off..]);
    /// <summary>Write a u64.</summary>
    public static void Put(Span<byte> b, int off, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b[off..], v);
    /// <summary>Write a u32.</summary>
    public static void Put(Span<byte> b, int off, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b[off..], v);
    /// <summary>Write a u16.</summary>
    public static void Put(Span<byte> b, int off, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b[off..], v);

    /// <summary>struct fuse_setupmapping_in: fh, foffset, len, flags, moffset.</summary>
    public static Span<byte> SetupMappingIn(Span<byte> b, ulong fh, ulong foffset, ulong len, ulong flags, ulong moffset)
    {
        b = b[..FuseConst.SetupMappingInSize];
        Put(b, 0, fh); Put(b, 8, foffset); Put(b, 16, len); Put(b, 24, flags); Put(b, 32, moffset);
        return b;
    }

    /// <summary>Bytes of a fuse_removemapping_in with <paramref name="count"/> entries.</summary>
    public static int RemoveMappingInSize(int count) => FuseConst.RemoveMappingInSize + count * FuseConst.RemoveMappingOneSize;

    /// <summary>struct fuse_removemapping_in + count × fuse_removemapping_one.</summary>
    public static Span<byte> RemoveMappingIn(Span<byte> b, ReadOnlySpan<(ulong MOffset, ulong Len)> entries)
    {
        b = b[..RemoveMappingInSize(entries.Length)];
        Put(b, 0, (uint)entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            Put(b, 4 + i * 16, entries[i].MOffset);
            Put(b, 12 + i * 16, entries[i].Len);
        }
        return b;
    }

    /// <summary>struct fuse_read_in / fuse_write_in: fh, offset, size, read/write_flags, lock_owner, flags.</summary>
    public static Span<byte> ReadWriteIn(Span<byte> b, ulong fh, ulong offset, uint size, uint rwFlags, uint flags)
    {
        b = b[..FuseConst.ReadInSize];
        b.Clear();
        Put(b, 0, fh); Put(b, 8, offset); Put(b, 16, size); Put(b, 20, rwFlags); Put(b, 32, flags);
        return b;
    }

    /// <summary>struct fuse_setattr_in with valid, fh and size (other fields zero).</summary>
    public static Span<byte> SetattrIn(Span<byte> b, uint valid, ulong fh, ulong size)
    {
        b = b[..FuseConst.SetattrInSize];
        b.Clear();
        Put(b, 0, valid); Put(b, 8, fh); Put(b, 16, size);
        return b;
    }

    /// <summary>struct fuse_getattr_in.</summary>
    public static Span<byte> GetattrIn(Span<byte> b, uint getattrFlags, ulong fh)
    {
        b = b[..FuseConst.GetattrInSize];
        b.Clear();
        Put(b, 0, getattrFlags); Put(b, 8, fh);
        return b;
    }

    /// <summary>struct fuse_open_in.</summary>
    public static Span<byte> OpenIn(Span<byte> b, uint flags)
    {
        b = b[..FuseConst.OpenInSize];
        b.Clear();
        Put(b, 0, flags);
        return b;
    }

    /// <summary>struct fuse_release_in / fuse_flush_in (both 24 bytes; fh first).</summary>
    public static Span<byte> FhIn24(Span<byte> b, ulong fh, uint flags)
    {
        b = b[..24];
        b.Clear();
        Put(b, 0, fh); Put(b, 8, flags);
        return b;
    }

    /// <summary>struct fuse_fsync_in.</summary>
    public static Span<byte> FsyncIn(Span<byte> b, ulong fh, uint fsyncFlags)
    {
        b = b[..FuseConst.FsyncInSize];
        b.Clear();
        Put(b, 0, fh); Put(b, 8, fsyncFlags);
        return b;
    }

    /// <summary>struct fuse_forget_in.</summary>
    public static Span<byte> ForgetIn(Span<byte> b, ulong nlookup)
    {
        b = b[..FuseConst.ForgetInSize];
        Put(b, 0, nlookup);
        return b;
    }

    /// <summary>Bytes of <paramref name="name"/> as LOOKUP's argument (UTF-8 plus the NUL).</summary>
    public static int NameSize(string name) => System.Text.Encoding.UTF8.GetByteCount(name) + 1;

    /// <summary>A NUL-terminated name (LOOKUP's argument) in <paramref name="b"/> (at least <see cref="NameSize"/> bytes).</summary>
    public static Span<byte> Name(Span<byte> b, string name)
    {
        var n = System.Text.Encoding.UTF8.GetBytes(name, b);
        b[n] = 0;
        return b[..(n + 1)];
    }

    /// <summary>struct fuse_entry_out (128 bytes).</summary>
    public static Span<byte> EntryOut(Span<byte> b, ulong nodeid, ulong entryValid, ulong attrValid, in FuseAttr attr)
    {
        b = b[..FuseConst.EntryOutSize];
        b.Clear();
        Put(b, 0, nodeid); Put(b, 16, entryValid); Put(b, 24, attrValid);
        attr.Write(b[40..]);
        return b;
    }

    /// <summary>struct fuse_create_in (16 bytes) followed by the NUL-terminated name: FUSE_CREATE's two in args as they go on the wire.</summary>
    public static Span<byte> CreateIn(Span<byte> b, uint flags, uint mode, uint umask, uint openFlags, string name)
    {
        Put(b, 0, flags); Put(b, 4, mode); Put(b, 8, umask); Put(b, 12, openFlags);
        return b[..(FuseConst.CreateInSize + Name(b[FuseConst.CreateInSize..], name).Length)];
    }

    /// <summary>struct fuse_mknod_in (16 bytes, padding zero) followed by the NUL-terminated name: FUSE_MKNOD's two in args.</summary>
    public static Span<byte> MknodIn(Span<byte> b, uint mode, uint rdev, uint umask, string name)
    {
        Put(b, 0, mode); Put(b, 4, rdev); Put(b, 8, umask); Put(b, 12, 0u);
        return b[..(FuseConst.MknodInSize + Name(b[FuseConst.MknodInSize..], name).Length)];
    }

    /// <summary>struct fuse_open_out (16 bytes): fh, open_flags, padding (backing_id from 7.40).</summary>
    public static Span<byte> OpenOut(Span<byte> b, ulong fh, uint openFlags)
    {
        b = b[..FuseConst.OpenOutSize];
        b.Clear();
        Put(b, 0, fh); Put(b, 8, openFlags);
        return b;
    }

    /// <summary>struct fuse_attr_out (104 bytes).</summary>
    public static Span<byte> AttrOut(Span<byte> b, ulong attrValid, in FuseAttr attr)
    {
        b = b[..FuseConst.AttrOutSize];
        b.Clear();
        Put(b, 0, attrValid);
        attr.Write(b[16..]);
        return b;
    }

}
