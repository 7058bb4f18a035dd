using System.Text.RegularExpressions;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// machine.devdax-align (campaigns/devdax-align.yaml): each devdax seed draws a 4 KiB, 2 MiB or 1 GiB device from a
/// stream of its own, the plans stay those of a 2M-only campaign, the oracle checks each SIGBUS's si_addr and
/// si_addr_lsb at that alignment, and shrunk seeds pin them in their scenario.
/// </summary>
public class DevdaxAlignTests : TempDirTest
{
    private static string DevdaxAlign => RepoFiles.Path("campaigns/devdax-align.yaml");

    private const ulong K4 = 4096, M2 = 2UL << 20, G1 = 1UL << 30;

    [Test]
    public void AlignOf_DrawsEachListedAlignment_Deterministically_AndLeavesThePlansAlone()
    {
        var spec = CampaignParser.ParseFile(DevdaxAlign);
        Assert.That(spec.DevdaxAligns, Is.EqualTo(new[] { K4, M2, G1 }));
        var twoMegOnly = CampaignParser.ParseText("d.yaml", File.ReadAllText(DevdaxAlign).Replace(", devdax-align: [4K, 2M, 1G]", "", StringComparison.Ordinal));
        Assert.That(twoMegOnly.DevdaxAligns, Is.EqualTo(new[] { M2 }));
        var drawn = new List<ulong>();
        for (ulong seed = 1; seed <= 60; seed++)
        {
            drawn.Add(DevdaxWorkload.AlignOf(spec, seed));
            Assert.That(DevdaxWorkload.AlignOf(twoMegOnly, seed), Is.EqualTo(M2));
            Assert.That(PlanGenerator.Generate(spec, seed).Describe(), Is.EqualTo(PlanGenerator.Generate(twoMegOnly, seed).Describe()), $"seed {seed}");
        }
        Assert.That((DevdaxWorkload.AlignOf(spec, 1), DevdaxWorkload.AlignOf(spec, 5), DevdaxWorkload.AlignOf(spec, 14)), Is.EqualTo((K4, G1, M2)));
        Assert.That(drawn.Distinct().Order(), Is.EqualTo(new[] { K4, M2, G1 }));
        Assert.That(drawn.Count(a => a == K4), Is.InRange(10, 30));
        Assert.That(drawn.Count(a => a == G1), Is.InRange(10, 30));
    }

    [Test]
    public void SpecHash_WithoutTheKey_IsThatOf2MAlone_AndTheListChangesIt()
    {
        var spec = CampaignParser.ParseFile(DevdaxAlign);
        var without = CampaignParser.ParseText("d.yaml", File.ReadAllText(DevdaxAlign).Replace(", devdax-align: [4K, 2M, 1G]", "", StringComparison.Ordinal));
        var explicit2M = CampaignParser.ParseText("d.yaml", File.ReadAllText(DevdaxAlign).Replace("[4K, 2M, 1G]", "2M", StringComparison.Ordinal));
        Assert.That(CampaignProvenance.SpecHash(explicit2M), Is.EqualTo(CampaignProvenance.SpecHash(without)));
        Assert.That(CampaignProvenance.SpecHash(spec), Is.Not.EqualTo(CampaignProvenance.SpecHash(without)));
    }

    [TestCase("devdax-align: 8K", "machine.devdax-align: 4K, 2M or 1G (a list draws one per seed)")]
    [TestCase("devdax-align: [2M, 4K, 2M]", "machine.devdax-align: 2M is listed twice")]
    [TestCase("devdax-align: []", "machine.devdax-align: 4K, 2M or 1G (a list draws one per seed)")]
    public void DevdaxAlign_BadValue_IsRefusedWithItsLine(string key, string message)
    {
        var ex = Assert.Throws<KernelSim.Scenarios.ScenarioException>(() => CampaignParser.ParseText("x.yaml", $"campaign: x\nprofiles: [6.12]\nworkloads: {{devdax: 1}}\nmachine: {{{key}}}\n"));
        Assert.That(ex!.Message, Does.StartWith("x.yaml:4:").And.EndWith(message));
    }

    [TestCase(1UL, "4K")]
    [TestCase(14UL, "2M")]
    [TestCase(5UL, "1G")]
    public void PoisonedLoads_SigbusAtEachAlignment_NoSilentCorruption(ulong seed, string align)
    {
        // The oracle wants SIGBUS BUS_MCEERR_AR with the release's si_addr and si_addr_lsb 12 / 21 / 30: any other
        // signal would be silent corruption.
        var spec = CampaignParser.ParseFile(DevdaxAlign);
        var plan = PlanGenerator.Generate(spec, seed);
        foreach (var profile in spec.Profiles)
        {
            var run = SeedRunner.Run(spec, plan, profile);
            Assert.That(run.Records.Where(r => r.Outcome is Outcome.SimBug or Outcome.SilentCorruption).Select(r => $"{r.Call}: {r.Detail}"), Is.Empty, $"{align} on {profile}");
            Assert.That(run.Records.Count(r => r.Outcome == Outcome.SigbusAr), Is.GreaterThan(0), $"{align} on {profile}");
        }
    }

    [TestCase("1", "5.10", "{size: 32M, mode: devdax, align: 4K}", "len: 64K", "dax+0x6000", 12)]
    [TestCase("5", "5.10", "{size: 2G, mode: devdax, align: 1G}", "len: 1G", "dax+0x2000", 30)]
    [TestCase("5", "6.12", "{size: 2G, mode: devdax, align: 1G}", "len: 1G", "dax+0x0", 30)]
    public void Shrink_4KAnd1GSeeds_PinSiAddrLsb_AndFailOnAnotherAlignment(string seed, string kernel, string ns, string len, string siAddr, int lsb)
    {
        var path = Path.Combine(Dir, "s.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", seed, "--campaign", DevdaxAlign, "--kernel", kernel, "--target", "SIGBUS-AR@load", "--out", path);
        Assert.That(code, Is.Zero, err);
        var text = File.ReadAllText(path);
        Assert.That(text, Does.Contain($"  pmem: {{bus: nfit, namespaces: [{ns}]}}\n"));
        Assert.That(text, Does.Contain($"  - mmap-file: {{fd: f, name: dax, {len}, prot: rw, flags: shared}}\n"));
        Assert.That(text, Does.Contain($"signal: {{signo: SIGBUS, code: BUS_MCEERR_AR, addr: {siAddr}, lsb: {lsb}}}\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);

        // The same load on a 2 MiB-aligned device gets si_addr_lsb 21: the scenario fails.
        // A 2 MiB-aligned /dev/dax0.0 starts at physical 0x100200000: the poison moves with the device.
        var devOff = Convert.ToUInt64(Regex.Match(text, "say: 'poison-line: /dev/dax0.0 byte 0x([0-9a-f]+)'").Groups[1].Value, 16);
        var twoMeg = Write("2m.yaml", Regex.Replace(text.Replace(ns, "{size: 32M, mode: devdax, align: 2M}", StringComparison.Ordinal).Replace(len, "len: 2M", StringComparison.Ordinal),
            "poison: \\{pa: 0x[0-9a-f]+\\}", $"poison: {{pa: 0x{0x100200000 + devOff:x}}}"));
        (rc, output, _) = CliRun.Invoke("run", twoMeg);
        Assert.That(rc, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("si_addr_lsb=21 (differs in si_addr_lsb"));
    }
}
