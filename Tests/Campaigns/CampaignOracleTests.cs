using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Tests.Campaigns;

/// <summary>The campaign oracle on its own: crafted models and operation results, exact verdicts.</summary>
public class CampaignOracleTests
{
    /// <summary>Region byte i is (i * 7 + 1); the user buffer is all 0xee.</summary>
    private static CampaignOracle Oracle()
    {
        var region = new byte[CampaignPlan.Region];
        for (var i = 0; i < region.Length; i++) region[i] = (byte)(i * 7 + 1);
        var user = new byte[CampaignPlan.BufSize];
        Array.Fill(user, (byte)0xee);
        return new CampaignOracle(new ByteModel(region), new ByteModel(user));
    }

    private static byte RegionByte(ulong i) => (byte)(i * 7 + 1);

    private static readonly Func<ulong, bool> None = _ => false;

    /// <summary>A "kernel" that delivered <paramref name="len"/> region bytes from <paramref name="pos"/> into buffer offset <paramref name="off"/>; the rest of the buffer holds 0xee.</summary>
    private static Func<ulong, byte?> Delivered(ulong off, ulong pos, ulong len) => b => b >= off && b < off + len ? RegionByte(pos + (b - off)) : (byte)0xee;

    [Test]
    public void Read_CorrectBytes_NoMismatch_AndTheBufferModelTakesThem()
    {
        var o = Oracle();
        var mismatches = o.Read([(0x10, 8)], pos: 100, n: 8, Delivered(0x10, 100, 8), None);
        Assert.That(mismatches, Is.Empty);
        Assert.That(o.User.TryGet(0x10, out var first) && first == RegionByte(100), Is.True);
        Assert.That(o.User.TryGet(0x17, out var last) && last == RegionByte(107), Is.True);
        Assert.That(o.User.TryGet(0x18, out var after) && after == 0xee, Is.True, "the byte after the read is untouched");
    }

    [Test]
    public void Read_OneWrongByte_IsReportedWithBufferAndRegionOffsets()
    {
        var o = Oracle();
        var good = Delivered(0x10, 100, 8);
        var mismatches = o.Read([(0x10, 8)], 100, 8, b => b == 0x13 ? (byte)0x00 : good(b), None);
        // Region byte 103 = 103 * 7 + 1 = 722 = 0x2d2 -> 0xd2.
        Assert.That(mismatches, Is.EqualTo(new[] { "buf+0x13 = 0x00, file/device offset 103 holds 0xd2" }));
        Assert.That(o.User.TryGet(0x13, out var v) && v == 0x00, Is.True, "the buffer model takes what the buffer holds: the corruption is reported once");
    }

    [Test]
    public void Read_UnmappedByte_IsReportedAsUnmapped()
    {
        var mismatches = Oracle().Read([(0x20, 1)], 0, 1, b => b == 0x20 ? null : (byte)0xee, None);
        Assert.That(mismatches, Is.EqualTo(new[] { "buf+0x20 = unmapped, file/device offset 0 holds 0x01" }));
    }

    [Test]
    public void Read_Short_BytesPastTheCountMustBeUnchanged()
    {
        var o = Oracle();
        var good = Delivered(0x40, 0, 8);
        // copy_to_user stores nothing past what it reports: the tail keeps the buffer's old bytes (0xee).
        Assert.That(o.Read([(0x40, 8)], 0, 5, b => b < 0x45 ? good(b) : (byte)0xee, None), Is.Empty);
        Assert.That(o.User.TryGet(0x44, out var claimed) && claimed == RegionByte(4), Is.True);
        Assert.That(o.User.TryGet(0x45, out var tail) && tail == 0xee, Is.True);
        // A byte stored past the count (even the file's own byte) is caught.
        var stray = Oracle().Read([(0x40, 8)], 0, 5, b => b < 0x46 ? good(b) : (byte)0xee, None);
        // A read that failed or never returned may have stored some of its bytes: old or the file's, nothing else.
        Assert.That(Oracle().Read([(0x40, 8)], 0, 0, b => b < 0x46 ? good(b) : (byte)0xee, None, counted: false), Is.Empty);
        Assert.That(Oracle().Read([(0x40, 8)], 0, 0, b => b == 0x41 ? (byte)0x99 : (byte)0xee, None, counted: false),
            Is.EqualTo(new[] { "buf+0x41 = 0x99 in the range of a call that stopped, expected 0xee (unchanged) or file/device offset 1's 0x08" }));
        Assert.That(stray, Is.EqualTo(new[] { $"buf+0x45 = 0x{RegionByte(5):x2} past the count (5 of 8), expected 0xee (unchanged)" }));
    }

    [Test]
    public void Read_AByteStoredJustOutsideTheRange_IsCaughtByTheGuard()
    {
        var good = Delivered(0x40, 0, 8);
        var mismatches = Oracle().Read([(0x40, 8)], 0, 8, b => b == 0x48 ? (byte)0x11 : good(b), None);
        Assert.That(mismatches, Is.EqualTo(new[] { "buf+0x48 = 0x11 outside the read's range, expected 0xee (unchanged)" }));
    }

    [Test]
    public void Read_PastTheFileSize_IsCaught()
    {
        var o = Oracle();
        o.Size = (100, 100);
        Assert.That(o.Read([(0, 16)], 90, 16, Delivered(0, 90, 16), None)[0], Is.EqualTo("read returned 16 bytes at offset 90 of a file of at most 100 bytes"));
    }

    [Test]
    public void Read_OverlappingSegments_TheLaterSegmentWins()
    {
        var o = Oracle();
        // Segment 1 fills buf+0..3 from region 0..3, segment 2 fills buf+2..5 from region 4..7.
        byte?[] delivered = [RegionByte(0), RegionByte(1), RegionByte(4), RegionByte(5), RegionByte(6), RegionByte(7)];
        var mismatches = o.Read([(0, 4), (2, 4)], 0, 8, b => b < 6 ? delivered[b] : (byte)0xee, None);
        Assert.That(mismatches, Is.Empty);
        Assert.That(o.User.TryGet(2, out var v) && v == RegionByte(4), Is.True);
    }

    [Test]
    public void Read_OverlappingSegmentsOfACallThatStopped_AnySegmentMayHaveStoredLast()
    {
        // Segment 1 covers buf+0..3 (region 0..3), segment 2 buf+2..5 (region 4..7); the call never returned. buf+2 holds
        // segment 2's byte (region 4), buf+3 a byte neither segment has: the first is possible, the second is reported.
        byte?[] stored = [0xee, 0xee, RegionByte(4), 0x99, 0xee, 0xee];
        var o = Oracle();
        Assert.That(o.Read([(0, 4), (2, 4)], 0, 0, b => b < 6 ? stored[b] : (byte)0xee, None, counted: false),
            Is.EqualTo(new[] { "buf+0x3 = 0x99 in the range of a call that stopped, expected 0xee (unchanged) or file/device offset 3's 0x16" }));
        Assert.That(o.User.IsChecked(2), Is.False, "either segment may have stored buf+2 last: unknown");
        // The next read's check starts afresh: without segment 2, buf+2 = region 4's byte is not region 2's and is reported.
        Assert.That(Oracle().Read([(0, 4)], 0, 0, b => b < 6 ? stored[b] : (byte)0xee, None, counted: false), Is.EqualTo(new[]
        {
            $"buf+0x2 = 0x{RegionByte(4):x2} in the range of a call that stopped, expected 0xee (unchanged) or file/device offset 2's 0x{RegionByte(2):x2}",
            "buf+0x3 = 0x99 in the range of a call that stopped, expected 0xee (unchanged) or file/device offset 3's 0x16",
        }));
    }

    [Test]
    public void Read_ManyWrongBytes_ReportsFour()
    {
        var mismatches = Oracle().Read([(0, 10)], 0, 10, b => b < 10 ? (byte)0x00 : (byte)0xee, None);
        Assert.That(mismatches, Has.Count.EqualTo(CampaignOracle.MaxReported));
        Assert.That(mismatches[3], Is.EqualTo("buf+0x3 = 0x00, file/device offset 3 holds 0x16"));
    }

    [Test]
    public void Read_ReturningBytesOfAPoisonedSourceLine_IsCorruption_OnlyWithinTheCount()
    {
        var o = Oracle();
        var inside = o.Read([(0, 100)], 0, 100, Delivered(0, 0, 100), l => l == 64);
        Assert.That(inside, Is.EqualTo(new[] { "read returned bytes of the poisoned line at file/device offset 64" }));
        var before = Oracle().Read([(0, 100)], 0, 64, b => b < 64 ? RegionByte(b) : (byte)0xee, l => l == 64);
        Assert.That(before, Is.Empty, "a read that stops at the poisoned line returned none of its bytes");
    }

    [Test]
    public void Write_TakesTheSourceOverTheCount_PastItOldOrNew()
    {
        var o = Oracle();
        o.User.Set(0, 0x11);
        o.User.Set(1, 0x22);
        o.User.Set(2, 0x33);
        o.Size = (CampaignPlan.Region, CampaignPlan.Region);
        var accepted = o.Write([(0, 4)], pos: 10, n: 2, None);
        Assert.That(accepted, Is.False);
        Assert.That(o.Region.TryGet(10, out var a) && a == 0x11, Is.True);
        Assert.That(o.Region.TryGet(11, out var b) && b == 0x22, Is.True);
        Assert.That(o.Region.Expected(12), Is.EqualTo($"0x{RegionByte(12):x2} or 0x33"), "the kernel may have stored it");
        Assert.That(o.Region.Allows(12, 0x34), Is.False);
        Assert.That(o.Region.TryGet(14, out var c) && c == RegionByte(14), Is.True, "past the range: unchanged");
    }

    [Test]
    public void Write_PoisonedSourceLineInsideTheCount_IsAccepted_AndItsLineUnknown()
    {
        var o = Oracle();
        Assert.That(o.Write([(0, 200)], 1000, 200, l => l == 64), Is.True);
        Assert.That(o.Region.TryGet(1063, out _), Is.True);
        Assert.That(o.Region.IsChecked(1064), Is.False);
        Assert.That(o.Region.IsChecked(1127), Is.False);
        Assert.That(o.Region.TryGet(1128, out _), Is.True);
        Assert.That(Oracle().Write([(0, 200)], 1000, 64, l => l == 64), Is.False, "the count stopped before the poisoned line");
    }

    [Test]
    public void Write_PoisonedSourceLine_IsTheBufferLine_NotTheLineOfTheOperation()
    {
        // Segment at buf+0x30: buffer line 0x40..0x7f is operation bytes 0x10..0x4f, region 1016..1079 (not 1064..1127).
        var o = Oracle();
        Assert.That(o.Write([(0x30, 200)], 1000, 200, l => l == 0x40), Is.True);
        Assert.That(o.Region.TryGet(1015, out _), Is.True);
        Assert.That(o.Region.IsChecked(1016), Is.False);
        Assert.That(o.Region.IsChecked(1079), Is.False);
        Assert.That(o.Region.TryGet(1080, out _), Is.True);
    }

    [Test]
    public void LoadAndStore_CompareAndUpdateTheBufferModel()
    {
        var o = Oracle();
        o.Store(0x100, 5, 0x5a, done: 3);
        Assert.That(o.User.TryGet(0x102, out var v) && v == 0x5a, Is.True);
        Assert.That(o.User.Expected(0x103), Is.EqualTo("0xee or 0x5a"));
        Assert.That(o.Load(0x100, [0x5a, 0x5a, 0x5b, 0xee, 0x5a], done: 5, None), Is.EqualTo(new[] { "load buf+0x102 = 0x5b, expected 0x5a" }));
        Assert.That(o.Load(0x100, [0x5a, 0x5a, 0x5b], done: 2, None), Is.Empty, "bytes past the count are not compared");
        Assert.That(o.Load(0x100, [0x5a], done: 1, l => l == 0x100), Is.EqualTo(new[] { "load returned bytes of the poisoned line at buf+0x100" }));
    }

    [Test]
    public void Lost_RegionBytesBecomeUnknown()
    {
        var o = Oracle();
        o.Lost(4096, 100);
        Assert.That(o.Region.TryGet(4095, out _), Is.True);
        Assert.That(o.Region.TryGet(4096, out _), Is.False);
        Assert.That(o.Region.TryGet(4195, out _), Is.False);
        Assert.That(o.Region.TryGet(4196, out _), Is.True);
    }

    [Test]
    public void FinalChecks_BufferFileAndMedia()
    {
        var o = Oracle();
        var buf = Enumerable.Repeat((byte?)0xee, (int)CampaignPlan.BufSize).ToArray();
        buf[5] = null; // unmapped: not compared
        buf[9] = 0xef;
        var mismatches = new List<string>();
        o.CheckBuffer(buf, mismatches);
        Assert.That(mismatches, Is.EqualTo(new[] { "user buffer buf+0x9 = 0xef, expected 0xee" }));

        var file = new byte[128];
        for (var i = 0; i < file.Length; i++) file[i] = RegionByte((ulong)i);
        file[70] ^= 1;
        mismatches.Clear();
        o.CheckFile(file, "host file", mismatches);
        Assert.That(mismatches, Is.EqualTo(new[] { $"host file offset 70 = 0x{RegionByte(70) ^ 1:x2}, expected 0x{RegionByte(70):x2}" }));

        var media = new byte[CampaignPlan.Region];
        for (var i = 0; i < media.Length; i++) media[i] = RegionByte((ulong)i);
        media[1] ^= 1;
        media[2] ^= 1; // same line: one report
        media[130] ^= 1; // a skipped line
        mismatches.Clear();
        o.CheckMedia(media, line => line == 128, mismatches);
        Assert.That(mismatches, Is.EqualTo(new[] { $"media offset 1 = 0x{RegionByte(1) ^ 1:x2}, expected 0x{RegionByte(1):x2}" }));
    }
}
