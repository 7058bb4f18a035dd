using System.Buffers.Binary;

namespace KernelSim.Drivers.Pmem;

/// <summary>enum nd_pfn_mode (drivers/nvdimm/nd.h): where the struct pages of a pfn/dax device live.</summary>
public enum NdPfnMode : uint
{
    /// <summary>No mode chosen ("none").</summary>
    PFN_MODE_NONE = 0,
    /// <summary>Memmap in system RAM ("ram", ndctl --map=mem).</summary>
    PFN_MODE_RAM = 1,
    /// <summary>Memmap on the device itself ("pmem", ndctl --map=dev).</summary>
    PFN_MODE_PMEM = 2,
}

/// <summary>
/// struct nd_pfn_sb (drivers/nvdimm/pfn.h), the 4 KiB info block of an fsdax ("NVDIMM_PFN_INFO") or devdax
/// ("NVDIMM_DAX_INFO") namespace, stored at offset SZ_4K of the namespace, little endian. Offsets: signature 0,
/// uuid 16, parent_uuid 32, flags 48, version_major 52, version_minor 54, dataoff 56, npfns 64, mode 72,
/// start_pad 76, end_trunc 80, align 84, page_size 88, page_struct_size 92, padding, checksum 4088.
/// </summary>
public sealed class PfnSb
{
    /// <summary>sizeof(struct nd_pfn_sb).</summary>
    public const int Size = 4096;

    /// <summary>Where the info block lives in the namespace (SZ_4K).</summary>
    public const ulong Offset = 4096;

    /// <summary>PFN_SIG: "NVDIMM_PFN_INFO\0".</summary>
    public const string PFN_SIG = "NVDIMM_PFN_INFO\0";

    /// <summary>DAX_SIG: "NVDIMM_DAX_INFO\0".</summary>
    public const string DAX_SIG = "NVDIMM_DAX_INFO\0";

    /// <summary>The signature (16 bytes).</summary>
    public string Signature { get; set; } = PFN_SIG;
    /// <summary>The pfn/dax device's uuid.</summary>
    public byte[] Uuid { get; set; } = new byte[16];
    /// <summary>The namespace's uuid (zeros for a label-less namespace).</summary>
    public byte[] ParentUuid { get; set; } = new byte[16];
    /// <summary>flags.</summary>
    public uint Flags { get; set; }
    /// <summary>version_major (1).</summary>
    public ushort VersionMajor { get; set; } = 1;
    /// <summary>version_minor (4 since page_size/page_struct_size, 5.8).</summary>
    public ushort VersionMinor { get; set; } = 4;
    /// <summary>dataoff: start of the data area, relative to the namespace base + start_pad.</summary>
    public ulong DataOff { get; set; }
    /// <summary>npfns.</summary>
    public ulong Npfns { get; set; }
    /// <summary>mode.</summary>
    public NdPfnMode Mode { get; set; }
    /// <summary>start_pad.</summary>
    public uint StartPad { get; set; }
    /// <summary>end_trunc.</summary>
    public uint EndTrunc { get; set; }
    /// <summary>align.</summary>
    public uint Align { get; set; }
    /// <summary>page_size.</summary>
    public uint PageSize { get; set; } = 4096;
    /// <summary>page_struct_size (MAX_STRUCT_PAGE_SIZE, 64).</summary>
    public ushort PageStructSize { get; set; } = 64;
    /// <summary>checksum (nd_sb_checksum of the block with this field zero).</summary>
    public ulong Checksum { get; set; }

    /// <summary>The 4096 little-endian bytes (padding zero).</summary>
    public byte[] ToBytes()
    {
        var b = new byte[Size];
        WriteTo(b);
        return b;
    }

    /// <summary>Encode the block into <paramref name="s"/> (4096 bytes, padding cleared), as <see cref="ToBytes"/> does.</summary>
    public void WriteTo(Span<byte> s)
    {
        s = s[..Size];
        s.Clear();
        WriteHeader(s);
        BinaryPrimitives.WriteUInt64LittleEndian(s[4088..], Checksum);
    }

    /// <summary>Bytes up to the last field before the padding (page_struct_size ends at 94), rounded up to a 32-bit word.</summary>
    private const int HeaderBytes = 96;

    /// <summary>The fields before the padding, into the first <see cref="HeaderBytes"/> bytes of <paramref name="s"/>.</summary>
    private void WriteHeader(Span<byte> s)
    {
        for (var i = 0; i < 16; i++) s[i] = (byte)Signature[i];
        Uuid.CopyTo(s[16..]);
        ParentUuid.CopyTo(s[32..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[48..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(s[52..], VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(s[54..], VersionMinor);
        BinaryPrimitives.WriteUInt64LittleEndian(s[56..], DataOff);
        BinaryPrimitives.WriteUInt64LittleEndian(s[64..], Npfns);
        BinaryPrimitives.WriteUInt32LittleEndian(s[72..], (uint)Mode);
        BinaryPrimitives.WriteUInt32LittleEndian(s[76..], StartPad);
        BinaryPrimitives.WriteUInt32LittleEndian(s[80..], EndTrunc);
        BinaryPrimitives.WriteUInt32LittleEndian(s[84..], Align);
        BinaryPrimitives.WriteUInt32LittleEndian(s[88..], PageSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[92..], PageStructSize);
    }

    /// <summary>The 16 signature bytes as text (one char per byte); the two known signatures without a new string.</summary>
    private static string ParseSignature(ReadOnlySpan<byte> b)
    {
        if (b.SequenceEqual("NVDIMM_PFN_INFO\0"u8)) return PFN_SIG;
        if (b.SequenceEqual("NVDIMM_DAX_INFO\0"u8)) return DAX_SIG;
        Span<char> sig = stackalloc char[16];
        for (var i = 0; i < 16; i++) sig[i] = (char)b[i];
        return new string(sig);
    }

    /// <summary>Decode 4096 bytes read from the media (no validation).</summary>
    public static PfnSb Parse(ReadOnlySpan<byte> b)
    {
        return new PfnSb
        {
            Signature = ParseSignature(b[..16]),
            Uuid = b.Slice(16, 16).ToArray(),
            ParentUuid = b.Slice(32, 16).ToArray(),
            Flags = BinaryPrimitives.ReadUInt32LittleEndian(b[48..]),
            VersionMajor = BinaryPrimitives.ReadUInt16LittleEndian(b[52..]),
            VersionMinor = BinaryPrimitives.ReadUInt16LittleEndian(b[54..]),
            DataOff = BinaryPrimitives.ReadUInt64LittleEndian(b[56..]),
            Npfns = BinaryPrimitives.ReadUInt64LittleEndian(b[64..]),
            Mode = (NdPfnMode)BinaryPrimitives.ReadUInt32LittleEndian(b[72..]),
            StartPad = BinaryPrimitives.ReadUInt32LittleEndian(b[76..]),
            EndTrunc = BinaryPrimitives.ReadUInt32LittleEndian(b[80..]),
            Align = BinaryPrimitives.ReadUInt32LittleEndian(b[84..]),
            PageSize = BinaryPrimitives.ReadUInt32LittleEndian(b[88..]),
            PageStructSize = BinaryPrimitives.ReadUInt16LittleEndian(b[92..]),
            Checksum = BinaryPrimitives.ReadUInt64LittleEndian(b[4088..]),
        };
    }

    /// <summary>
    /// nd_fletcher64(addr, len, le=true) (drivers/nvdimm/core.c): over little-endian u32 words, lo32 += word and
    /// hi32 += lo32; the result is hi32 &lt;&lt; 32 | lo32.
    /// </summary>
    public static ulong Fletcher64(ReadOnlySpan<byte> data) => NdChecksum.Fletcher64(data);

    /// <summary>nd_sb_checksum (drivers/nvdimm/btt_devs.c): nd_fletcher64 of the 4 KiB block with its checksum field zero.</summary>
    public static ulong SbChecksum(ReadOnlySpan<byte> block) => NdChecksum.SbChecksum(block[..Size]);

    /// <summary>Set <see cref="Checksum"/> to nd_sb_checksum of the encoded block.</summary>
    public void Seal()
    {
        // The block past the header is zero padding and a zero checksum field: each of those words only adds lo32 to hi32.
        Checksum = 0;
        Span<byte> head = stackalloc byte[HeaderBytes];
        WriteHeader(head);
        Checksum = NdChecksum.Fletcher64(head, (Size - HeaderBytes) / 4);
    }
}
