using System.Buffers.Binary;
using System.Text;

namespace KernelSim.Drivers.Pmem;

/// <summary>The on-media constants of the Block Translation Table (drivers/nvdimm/btt.h).</summary>
public static class BttConst
{
    /// <summary>BTT_SIG: "BTT_ARENA_INFO\0" in a 16-byte field.</summary>
    public const string BTT_SIG = "BTT_ARENA_INFO";
    /// <summary>BTT_SIG_LEN.</summary>
    public const int BTT_SIG_LEN = 16;
    /// <summary>MAP_ENT_SIZE: one little-endian 32-bit map entry per external LBA.</summary>
    public const int MAP_ENT_SIZE = 4;
    /// <summary>MAP_TRIM_SHIFT: bit 31 is the Z (trim/zero) flag.</summary>
    public const int MAP_TRIM_SHIFT = 31;
    /// <summary>MAP_ERR_SHIFT: bit 30 is the E (error) flag.</summary>
    public const int MAP_ERR_SHIFT = 30;
    /// <summary>MAP_TRIM_MASK.</summary>
    public const uint MAP_TRIM_MASK = 1u << MAP_TRIM_SHIFT;
    /// <summary>MAP_ERR_MASK.</summary>
    public const uint MAP_ERR_MASK = 1u << MAP_ERR_SHIFT;
    /// <summary>MAP_LBA_MASK: the post-map block number.</summary>
    public const uint MAP_LBA_MASK = ~(MAP_TRIM_MASK | MAP_ERR_MASK);
    /// <summary>MAP_ENT_NORMAL: both flag bits set means "a normal mapping".</summary>
    public const uint MAP_ENT_NORMAL = 0xC0000000;
    /// <summary>LOG_ENT_SIZE: sizeof(struct log_entry) (lba, old_map, new_map, seq).</summary>
    public const int LOG_ENT_SIZE = 16;
    /// <summary>LOG_GRP_SIZE: sizeof(struct log_group), four slots of which two are used.</summary>
    public const int LOG_GRP_SIZE = 64;
    /// <summary>ARENA_MIN_SIZE: 16 MiB.</summary>
    public const ulong ARENA_MIN_SIZE = 1UL << 24;
    /// <summary>ARENA_MAX_SIZE: 512 GiB.</summary>
    public const ulong ARENA_MAX_SIZE = 1UL << 39;
    /// <summary>RTT_VALID.</summary>
    public const uint RTT_VALID = 1u << 31;
    /// <summary>BTT_PG_SIZE.</summary>
    public const int BTT_PG_SIZE = 4096;
    /// <summary>BTT_DEFAULT_NFREE = ND_MAX_LANES: free blocks (and flog lanes) per arena.</summary>
    public const int BTT_DEFAULT_NFREE = 256;
    /// <summary>LOG_SEQ_INIT.</summary>
    public const uint LOG_SEQ_INIT = 1;
    /// <summary>IB_FLAG_ERROR_MASK: the arena is in an error state (writes fail with −EIO).</summary>
    public const uint IB_FLAG_ERROR_MASK = 1;
    /// <summary>INT_LBASIZE_ALIGNMENT: the internal block size is the external one rounded up to 64.</summary>
    public const int INT_LBASIZE_ALIGNMENT = 64;
    /// <summary>The v1.1 (label-less / NVDIMM_CCLASS_BTT) arenas start 4 KiB into the namespace (nd_btt-&gt;initial_offset).</summary>
    public const ulong V1_INITIAL_OFFSET = 4096;

    /// <summary>btt_lbasize_supported (drivers/nvdimm/btt_devs.c): the sector_size values a BTT accepts.</summary>
    public static IReadOnlyList<uint> LbasizeSupported { get; } = [512, 520, 528, 4096, 4104, 4160, 4224];

    /// <summary>ent_lba(ent).</summary>
    public static uint EntLba(uint ent) => ent & MAP_LBA_MASK;
    /// <summary>ent_e_flag(ent).</summary>
    public static bool EntEFlag(uint ent) => (ent & MAP_ERR_MASK) != 0;
    /// <summary>ent_z_flag(ent).</summary>
    public static bool EntZFlag(uint ent) => (ent & MAP_TRIM_MASK) != 0;
    /// <summary>ent_normal(ent): both flags set.</summary>
    public static bool EntNormal(uint ent) => EntEFlag(ent) && EntZFlag(ent);

    /// <summary>nd_inc_seq (drivers/nvdimm/nd.h): the sequence 1 → 2 → 3 → 1, 0 stays 0.</summary>
    public static uint NdIncSeq(uint seq) => (seq & 3) switch { 1 => 2, 2 => 3, 3 => 1, _ => 0 };
}

/// <summary>struct log_entry: one flog slot.</summary>
/// <param name="Lba">The pre-map LBA written.</param>
/// <param name="OldMap">The block it mapped to before (now free; may carry the E flag).</param>
/// <param name="NewMap">The block it maps to now.</param>
/// <param name="Seq">Sequence number 1–3 (0: never written).</param>
public readonly record struct BttLogEntry(uint Lba, uint OldMap, uint NewMap, uint Seq)
{
    /// <summary>The 16 little-endian bytes on the media.</summary>
    public void Write(Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dst, Lba);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[4..], OldMap);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[8..], NewMap);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[12..], Seq);
    }

    /// <summary>Decode 16 bytes.</summary>
    public static BttLogEntry Read(ReadOnlySpan<byte> src) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(src),
        BinaryPrimitives.ReadUInt32LittleEndian(src[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(src[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(src[12..]));

    /// <summary>ent_is_padding: all four fields zero.</summary>
    public bool IsPadding => Lba == 0 && OldMap == 0 && NewMap == 0 && Seq == 0;
}

/// <summary>
/// struct btt_sb, the 4 KiB arena info block: signature, uuid, parent_uuid, flags, version, external/internal lbasize and
/// nlba, nfree, infosize, then the offsets of the next arena, data, map, log and backup info block relative to this
/// arena, padding, and the nd_sb_checksum in the last 8 bytes. Little-endian; uuids in RFC 4122 byte order.
/// </summary>
public sealed record BttSb
{
    /// <summary>uuid: the BTT's own uuid.</summary>
    public Guid Uuid { get; init; }
    /// <summary>parent_uuid: the namespace's uuid (zero for a label-less namespace).</summary>
    public Guid ParentUuid { get; init; }
    /// <summary>flags (IB_FLAG_ERROR).</summary>
    public uint Flags { get; init; }
    /// <summary>version_major (1 for label-less namespaces, 2 for NVDIMM_CCLASS_BTT2).</summary>
    public ushort VersionMajor { get; init; }
    /// <summary>version_minor.</summary>
    public ushort VersionMinor { get; init; }
    /// <summary>external_lbasize.</summary>
    public uint ExternalLbasize { get; init; }
    /// <summary>external_nlba.</summary>
    public uint ExternalNlba { get; init; }
    /// <summary>internal_lbasize.</summary>
    public uint InternalLbasize { get; init; }
    /// <summary>internal_nlba.</summary>
    public uint InternalNlba { get; init; }
    /// <summary>nfree.</summary>
    public uint Nfree { get; init; }
    /// <summary>infosize (4096).</summary>
    public uint Infosize { get; init; }
    /// <summary>nextoff: 0 for the last arena.</summary>
    public ulong Nextoff { get; init; }
    /// <summary>dataoff.</summary>
    public ulong Dataoff { get; init; }
    /// <summary>mapoff.</summary>
    public ulong Mapoff { get; init; }
    /// <summary>logoff.</summary>
    public ulong Logoff { get; init; }
    /// <summary>info2off.</summary>
    public ulong Info2off { get; init; }

    /// <summary>Byte offsets of the fields.</summary>
    public const int OffUuid = 16, OffParentUuid = 32, OffFlags = 48, OffVersionMajor = 52, OffVersionMinor = 54,
        OffExternalLbasize = 56, OffExternalNlba = 60, OffInternalLbasize = 64, OffInternalNlba = 68, OffNfree = 72,
        OffInfosize = 76, OffNextoff = 80, OffDataoff = 88, OffMapoff = 96, OffLogoff = 104, OffInfo2off = 112,
        OffChecksum = 4088;

    /// <summary>The 4096 bytes as btt_arena_write_layout writes them, with the checksum.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[NdChecksum.SbSize];
        Encoding.ASCII.GetBytes(BttConst.BTT_SIG).CopyTo(b, 0);
        Uuid.ToByteArray(bigEndian: true).CopyTo(b, OffUuid);
        ParentUuid.ToByteArray(bigEndian: true).CopyTo(b, OffParentUuid);
        var s = b.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s[OffFlags..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(s[OffVersionMajor..], VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(s[OffVersionMinor..], VersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(s[OffExternalLbasize..], ExternalLbasize);
        BinaryPrimitives.WriteUInt32LittleEndian(s[OffExternalNlba..], ExternalNlba);
        BinaryPrimitives.WriteUInt32LittleEndian(s[OffInternalLbasize..], InternalLbasize);
        BinaryPrimitives.WriteUInt32LittleEndian(s[OffInternalNlba..], InternalNlba);
        BinaryPrimitives.WriteUInt32LittleEndian(s[OffNfree..], Nfree);
        BinaryPrimitives.WriteUInt32LittleEndian(s[OffInfosize..], Infosize);
        BinaryPrimitives.WriteUInt64LittleEndian(s[OffNextoff..], Nextoff);
        BinaryPrimitives.WriteUInt64LittleEndian(s[OffDataoff..], Dataoff);
        BinaryPrimitives.WriteUInt64LittleEndian(s[OffMapoff..], Mapoff);
        BinaryPrimitives.WriteUInt64LittleEndian(s[OffLogoff..], Logoff);
        BinaryPrimitives.WriteUInt64LittleEndian(s[OffInfo2off..], Info2off);
        BinaryPrimitives.WriteUInt64LittleEndian(s[OffChecksum..], NdChecksum.SbChecksum(b));
        return b;
    }

    /// <summary>Decode the fields of a 4096-byte block (no validation: see <see cref="IsValid"/>).</summary>
    public static BttSb FromBytes(ReadOnlySpan<byte> b) => new()
    {
        Uuid = new Guid(b.Slice(OffUuid, 16), bigEndian: true),
        ParentUuid = new Guid(b.Slice(OffParentUuid, 16), bigEndian: true),
        Flags = BinaryPrimitives.ReadUInt32LittleEndian(b[OffFlags..]),
        VersionMajor = BinaryPrimitives.ReadUInt16LittleEndian(b[OffVersionMajor..]),
        VersionMinor = BinaryPrimitives.ReadUInt16LittleEndian(b[OffVersionMinor..]),
        ExternalLbasize = BinaryPrimitives.ReadUInt32LittleEndian(b[OffExternalLbasize..]),
        ExternalNlba = BinaryPrimitives.ReadUInt32LittleEndian(b[OffExternalNlba..]),
        InternalLbasize = BinaryPrimitives.ReadUInt32LittleEndian(b[OffInternalLbasize..]),
        InternalNlba = BinaryPrimitives.ReadUInt32LittleEndian(b[OffInternalNlba..]),
        Nfree = BinaryPrimitives.ReadUInt32LittleEndian(b[OffNfree..]),
        Infosize = BinaryPrimitives.ReadUInt32LittleEndian(b[OffInfosize..]),
        Nextoff = BinaryPrimitives.ReadUInt64LittleEndian(b[OffNextoff..]),
        Dataoff = BinaryPrimitives.ReadUInt64LittleEndian(b[OffDataoff..]),
        Mapoff = BinaryPrimitives.ReadUInt64LittleEndian(b[OffMapoff..]),
        Logoff = BinaryPrimitives.ReadUInt64LittleEndian(b[OffLogoff..]),
        Info2off = BinaryPrimitives.ReadUInt64LittleEndian(b[OffInfo2off..]),
    };

    /// <summary>
    /// nd_btt_arena_is_valid (drivers/nvdimm/btt_devs.c): the signature matches, a non-zero parent_uuid equals
    /// <paramref name="parentUuid"/>, and the stored checksum equals nd_sb_checksum. (An arena with IB_FLAG_ERROR is
    /// still valid; the kernel only logs it.)
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> b, Guid parentUuid)
    {
        if (b.Length != NdChecksum.SbSize) return false;
        if (!b[..BttConst.BTT_SIG_LEN].SequenceEqual("BTT_ARENA_INFO\0\0"u8)) return false; // BTT_SIG in its 16-byte field
        var parent = new Guid(b.Slice(OffParentUuid, 16), bigEndian: true);
        if (parent != Guid.Empty && parent != parentUuid) return false;
        return BinaryPrimitives.ReadUInt64LittleEndian(b[OffChecksum..]) == NdChecksum.SbChecksum(b);
    }
}
