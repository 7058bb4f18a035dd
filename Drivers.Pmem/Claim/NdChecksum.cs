using System.Buffers.Binary;
using System.Runtime.InteropServices;

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
    public static ulong Fletcher64(ReadOnlySpan<byte> data) => Fletcher64(data, 0);

    /// <summary>
    /// <see cref="Fletcher64(ReadOnlySpan{byte})"/> of <paramref name="data"/> followed by <paramref name="zeroWords"/>
    /// zero words (each adds lo32 to hi32 once), without building that buffer.
    /// </summary>
    internal static ulong Fletcher64(ReadOnlySpan<byte> data, int zeroWords)
    {
        // Trailing zero words only add lo32 to hi32 each: an info block is a short header and zero padding, so the
        // words past its last non-zero byte (found with one vectorised scan) are counted instead of summed.
        if ((data.Length & 3) == 0)
        {
            var used = (data.LastIndexOfAnyExcept((byte)0) + 4) & ~3;
            zeroWords += (data.Length - used) >> 2;
            data = data[..used];
        }
        uint lo32 = 0;
        ulong hi32 = 0;
        var i = 0;
        if (BitConverter.IsLittleEndian)
        {
            // Four words per step: the four running sums are independent adds for the CPU (the boot checksums 4 KiB three times).
            var w = MemoryMarshal.Cast<byte, uint>(data[..(data.Length & ~3)]);
            for (; i + 4 <= w.Length; i += 4)
            {
                var a = lo32 + w[i];
                var b = a + w[i + 1];
                var c = b + w[i + 2];
                lo32 = c + w[i + 3];
                hi32 += (ulong)a + b + c + lo32;
            }
            i *= 4;
        }
        for (; i + 4 <= data.Length; i += 4)
        {
            lo32 += BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            hi32 += lo32;
        }
        hi32 += (ulong)zeroWords * lo32;
        return hi32 << 32 | lo32;
    }

    /// <summary>nd_sb_checksum: Fletcher-64 of the 4 KiB block with its last 8 bytes (the checksum field) taken as zero.</summary>
    public static ulong SbChecksum(ReadOnlySpan<byte> sb)
    {
        if (sb.Length != SbSize) throw new ArgumentException("an info block is 4096 bytes", nameof(sb));
        return Fletcher64(sb[..(SbSize - 8)], zeroWords: 2);
    }
}
