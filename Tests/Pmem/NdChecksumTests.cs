using KernelSim.Drivers.Pmem;

namespace KernelSim.Tests.Pmem;

/// <summary>
/// nd_fletcher64 and nd_sb_checksum (drivers/nvdimm/core.c, claim.c): the four-words-per-step loop and the checksum
/// computed without a zeroed copy must give the kernel's word-by-word result, pinned here from an independent
/// computation, for every length (trailing bytes short of a word are ignored).
/// </summary>
public class NdChecksumTests
{
    private static byte[] Block(int len) => [.. Enumerable.Range(0, len).Select(i => (byte)(i * 31 + 7))];

    /// <summary>The kernel's loop, word by word.</summary>
    private static ulong Reference(ReadOnlySpan<byte> b)
    {
        uint lo = 0;
        ulong hi = 0;
        for (var i = 0; i + 4 <= b.Length; i += 4)
        {
            lo += BitConverter.ToUInt32(b[i..]);
            hi += lo;
        }
        return hi << 32 | lo;
    }

    [Test]
    public void Fletcher64_PinnedValues()
    {
        Assert.That(NdChecksum.Fletcher64(Block(4096)), Is.EqualTo(0x75807600fe020400UL));
        Assert.That(NdChecksum.Fletcher64(Enumerable.Repeat((byte)0xff, 4096).ToArray()), Is.EqualTo(0xfff7fe00fffffc00UL), "lo32 wraps at 32 bits");
        Assert.That(NdChecksum.Fletcher64(Block(4103)), Is.EqualTo(0xd7c7a00762472a07UL), "the 3 bytes past the last word are ignored");
    }

    [Test]
    public void SbChecksum_TakesTheChecksumFieldAsZero_PinnedValues()
    {
        var b = Block(4096);
        Assert.That(NdChecksum.SbChecksum(b), Is.EqualTo(0xb41c6f57a8eb2b66UL));
        Assert.That(PfnSb.SbChecksum(b), Is.EqualTo(0xb41c6f57a8eb2b66UL));
        Assert.That(NdChecksum.SbChecksum(Enumerable.Repeat((byte)0xff, 4096).ToArray()), Is.EqualTo(0xfff7fe03fffffc02UL));
        Assert.That(b[4088..], Is.Not.All.Zero, "the field held bytes that were ignored, not cleared in the caller's block");
    }

    [Test]
    public void Fletcher64_EveryLengthUpTo80_MatchesTheWordByWordLoop([Range(0, 80)] int len)
    {
        var b = Block(len);
        Assert.That(NdChecksum.Fletcher64(b), Is.EqualTo(Reference(b)));
        Assert.That(PfnSb.Fletcher64(b), Is.EqualTo(Reference(b)));
    }

    [Test]
    public void PfnSbSeal_FromTheHeaderAlone_EqualsTheChecksumOfTheWholeBlock()
    {
        var sb = new PfnSb
        {
            Signature = PfnSb.DAX_SIG, Mode = NdPfnMode.PFN_MODE_PMEM, DataOff = 0x1200000, Npfns = 0x3a00, StartPad = 0x1000, EndTrunc = 0x2000,
            Align = 0x200000, Uuid = [.. Enumerable.Range(1, 16).Select(i => (byte)(i * 17))], ParentUuid = [.. Enumerable.Range(1, 16).Select(i => (byte)(255 - i))],
            Flags = 0xdeadbeef, Checksum = 0x1234,
        };
        sb.Seal();
        var block = sb.ToBytes();
        Assert.That(BitConverter.ToUInt64(block, 4088), Is.EqualTo(sb.Checksum));
        block.AsSpan(4088).Clear();
        Assert.That(sb.Checksum, Is.EqualTo(Reference(block)));
        Assert.That(sb.Checksum, Is.Not.Zero);
    }
}
