using KernelSim.Drivers.Pmem.LibNdctl;

namespace KernelSim.Tests.Pmem.NdctlTool;

/// <summary>
/// The ndctl program's per-thread string table and the span parsers that replaced substrings: the same text as the
/// concatenations and splits they replace, and the same object for a text seen before.
/// </summary>
public class NdStringsTests
{
    [Test]
    public void Path_Numbered_Latin1_GiveTheConcatenatedText_AndTheSameObjectAgain()
    {
        var a = NdStrings.Path("/sys/bus/nd/devices/region0", "size");
        Assert.That(a, Is.EqualTo("/sys/bus/nd/devices/region0/size"));
        Assert.That(NdStrings.Path("/sys/bus/nd/devices/region0", "size"), Is.SameAs(a));
        Assert.That(NdStrings.Numbered("namespace", 12, "."), Is.EqualTo("namespace12."));
        Assert.That(NdStrings.Numbered("/dev/ndctl", 0, ""), Is.EqualTo("/dev/ndctl0"));
        Assert.That(NdStrings.Numbered("x", -3, "y"), Is.EqualTo("x-3y"));
        Assert.That(NdStrings.Latin1(new byte[] { 0x63, 0x61, 0x66, 0xe9 }), Is.EqualTo("caf\u00e9"));
        Assert.That(NdStrings.Get(""), Is.SameAs(""));
        var longText = new string('z', 500);
        Assert.That(NdStrings.Get(longText), Is.EqualTo(longText), "texts beyond the cached length are still made");
        Assert.That(NdStrings.Path(longText, "a"), Is.EqualTo(longText + "/a"));
    }

    [Test]
    public void ManyTexts_EachComesBackEqual_EvenWhenTheyEvictEachOther()
    {
        var texts = Enumerable.Range(0, 5000).Select(i => $"/sys/devices/ndbus0/region{i % 7}/namespace{i}.0/attr{i % 13}").ToArray();
        foreach (var t in texts) Assert.That(NdStrings.Get(t), Is.EqualTo(t));
        foreach (var t in texts.Reverse()) Assert.That(NdStrings.Get(t.AsSpan()), Is.EqualTo(t));
    }

    [TestCase("")]
    [TestCase("4096")]
    [TestCase("4096 ")]
    [TestCase("4096 2097152")]
    [TestCase("[4096] 2097152")]
    [TestCase("4096 [2097152]")]
    [TestCase("512 [4096]  ")]
    [TestCase("[] 4096")]
    [TestCase("x 4096")]
    public void LbaSizeParse_Terminated_IsTheParseOfTheTextWithASpaceAppended(string text)
    {
        var a = LbaSize.Parse(text, terminated: true);
        var b = LbaSize.Parse(text + " ");
        Assert.That((a.Supported, a.Select), Is.EqualTo((b.Supported, b.Select)));
    }

    [Test]
    public void LbaSizeParse_SelectedField()
    {
        var l = LbaSize.Parse("512 520 [4096] 4104 ");
        Assert.That((l.Supported, l.Selected), Is.EqualTo((new List<ulong> { 512, 520, 4096, 4104 }, 4096u)));
    }

    [TestCase("248:0", true, 248, 0)]
    [TestCase("10:7\n", true, 10, 7)]
    [TestCase("1:2:3", false, 0, 0)]
    [TestCase("12", false, 0, 0)]
    [TestCase("a:1", false, 0, 1)]
    public void ParseDev_MajorColonMinor(string text, bool ok, int major, int minor)
    {
        Assert.That(NdBus.ParseDev(text, out var ma, out var mi), Is.EqualTo(ok));
        if (ok) Assert.That((ma, mi), Is.EqualTo((major, minor)));
    }
}
