using KernelSim.Drivers.Pmem.LibNdctl;

namespace KernelSim.Tests.Pmem.NdctlTool;

/// <summary>The pieces of the ndctl program that need no machine: json-c output, parse-options, parse_size64, the user-space-only rule.</summary>
public class NdctlUnitTests
{
    [Test]
    public void JsonC_Pretty_EmptyContainers_Escapes_Doubles()
    {
        var j = new JObject().Add("a", new JArray()).Add("b", new JObject()).Add("p", new JString("/dev/x\"y"))
            .Add("t", new JDouble(25)).Add("u", new JDouble(-12.0625)).Add("n", new JInt(-1L)).Add("f", new JBool(false));
        Assert.That(j.ToPretty(), Is.EqualTo("{\n  \"a\":[\n  ],\n  \"b\":{\n  },\n  \"p\":\"\\/dev\\/x\\\"y\",\n  \"t\":25.0,\n  \"u\":-12.0625,\n  \"n\":-1,\n  \"f\":false\n}"));
        j.Add("a", new JInt(1L));
        Assert.That(j.Keys, Is.EqualTo(new[] { "a", "b", "p", "t", "u", "n", "f" }), "re-adding a key keeps its place");
    }

    [TestCase(4999UL * 1024, "5118976")]
    [TestCase(5000UL * 1024, "\"4.88 MiB (5.12 MB)\"")]
    [TestCase(2UL << 30, "\"2.00 GiB (2.15 GB)\"")]
    [TestCase(3UL << 40, "\"3.00 TiB (3.30 TB)\"")]
    public void DisplaySize_MdadmRounding(ulong bytes, string text) => Assert.That(new JSize(bytes, true).ToPretty(), Is.EqualTo(text));

    [Test]
    public void DisplayHex_ZeroHasNoPrefix() =>
        Assert.That((new JHex(0, true).ToPretty(), new JHex(0x1f, true).ToPretty(), new JHex(0x1f, false).ToPretty()), Is.EqualTo(("\"0\"", "\"0x1f\"", "31")));

    [TestCase("2M", 2UL << 20)]
    [TestCase("0x1000", 4096UL)]
    [TestCase("010", 8UL)]
    [TestCase("", 0UL)]
    [TestCase("1G5", ulong.MaxValue)]
    [TestCase("-1", ulong.MaxValue)]
    [TestCase("abc", ulong.MaxValue)]
    public void ParseSize64(string s, ulong v) => Assert.That(SizeParse.Parse64(s), Is.EqualTo(v));

    [Test]
    public void EncodeTemperature_KeepsWholeDegrees_DecodeHasTheSign()
    {
        Assert.That(NdJson.EncodeTemp(40.9), Is.EqualTo(640u));
        Assert.That(NdJson.EncodeTemp(-5), Is.EqualTo(0x8000u | 80));
        Assert.That(NdJson.DecodeTemp(0x8000u | 81), Is.EqualTo(-5.0625));
    }

    private static (int Rc, OptValues V, List<string> Args, string Err) Parse(params string[] argv)
    {
        Opt[] opts =
        [
            new('B', "block", OptKind.String, "n", "block"),
            new('n', "count", OptKind.String, "count", "count"),
            new('N', "no-notify", OptKind.Boolean, null, "no notify"),
            new('u', "human", OptKind.Boolean, null, "human"),
            new('\0', "namespace", OptKind.String, "ns", "ns"),
        ];
        var io = new NdctlIo(null!);
        var v = new OptValues();
        try
        {
            var rest = ParseOptions.Parse(io, ["cmd", .. argv], opts, ["ndctl cmd"], v);
            return (0, v, rest, io.Err.ToString());
        }
        catch (NdctlExit e)
        {
            return (e.Status, v, [], io.Err.ToString());
        }
    }

    [Test]
    public void ParseOptions_ShortClusters_AttachedValues_Abbreviations_Negation_DashDash()
    {
        var (rc, v, rest, _) = Parse("-uNB8", "--cou=3", "ns0", "--no-human", "--notify", "--", "-x");
        Assert.That(rc, Is.Zero);
        Assert.That(v.Str("block"), Is.EqualTo("8"));
        Assert.That(v.Str("count"), Is.EqualTo("3"));
        Assert.That(v.Bool("human"), Is.False);
        Assert.That(v.Bool("no-notify", true), Is.False, "--notify is the negation of --no-notify");
        Assert.That(rest, Is.EqualTo(new[] { "ns0", "-x" }));
    }

    [TestCase(new[] { "-x" }, "  Error: unknown switch `x'\n")]
    [TestCase(new[] { "--bogus" }, "  Error: unknown option `bogus'\n")]
    [TestCase(new[] { "-B" }, "  Error: switch `B' requires a value\n")]
    [TestCase(new[] { "--human=1" }, "  Error: option `human' takes no value\n")]
    [TestCase(new[] { "--n" }, "  Error: Ambiguous option: n (could be --no-human or --namespace)\n")]
    public void ParseOptions_Errors_Exit129(string[] argv, string first)
    {
        var (rc, _, _, err) = Parse(argv);
        Assert.That(rc, Is.EqualTo(129));
        Assert.That(err, Does.StartWith(first + "\n usage: ndctl cmd\n"));
    }

    /// <summary>Issue 18: the ndctl program reaches the kernel only through files and ioctls, never through driver objects.</summary>
    [Test]
    public void NdctlProgram_UsesNoDriverOrMachineObjects()
    {
        var dir = Path.Combine(KernelSim.Tests.Cli.RepoFiles.Root, "Drivers.Pmem", "Ndctl");
        string[] forbidden = ["NvdimmBus", "PmemDevice", "NfitFirmware", "Badrange", "Nvdimm.", "Machine", "Pmem(", "Drivers.Pmem.NdRegion", "WorkQueue"];
        foreach (var file in Directory.GetFiles(dir, "*.cs"))
        {
            var text = File.ReadAllText(file);
            foreach (var f in forbidden) Assert.That(text, Does.Not.Contain(f), $"{Path.GetFileName(file)} uses {f}");
        }
    }
}
