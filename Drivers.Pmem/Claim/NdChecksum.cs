using System.Buffers.Binary;

namespace KernelSim.Drivers.Pmem;

/// <summary>The checksum of libnvdimm's 4 KiB info blocks (BTT, pfn, dax): drivers/nvdimm/core.c and claim.c.</summary>
public static class NdChecksum
{
    /// <summary>Size of every info block (struct nd_gen_sb, btt_sb, nd_pfn_sb): 4096 bytes, checksum in the last 8.</summary>
    public const int SbSize = 4096;

    /// <summary>
    /// nd_fletcher64(addr, len, le): over little-endian 32-bit words, lo32 += word and hi32 += lo32 (lo32 wraps at 32 bits,
    /// hi32 does not); the result is hi32 &lt;&lt; 32 | lo32.
    /// </summary>
    public static ulong Fletcher64(ReadOnlySpan<byte> data)
    {
        uint lo32 = 0;
        ulong hi32 = 0;
        for (var i = 0; i + 4 <= data.Length; i += 4)
        {
            lo32 += BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            hi32 += lo32;
        }
        return hi32 << 32 | lo32;
    }

    /// <summary>nd_sb_checksum: Fletcher-64 of the 4 KiB block with its last 8 bytes (the checksum field) taken as zero.</summary>
    public static ulong SbChecksum(ReadOnlySpan<byte> sb)
    {
        if (sb.Length != SbSize) throw new ArgumentException("an info block is 4096 bytes", nameof(sb));
        Span<byte> copy = stackalloc byte[SbSize];
        sb.CopyTo(copy);
        copy[(SbSize - 8)..].Clear();
        return Fletcher64(copy);
    }
}
