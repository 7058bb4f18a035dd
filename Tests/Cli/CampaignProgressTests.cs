using KernelSim.Cli.Rendering;

namespace KernelSim.Tests.Cli;

/// <summary>Campaign progress: on stderr only, a bar on a terminal, a plain line when asked, nothing in captured output.</summary>
public class CampaignProgressTests
{
    [Test]
    public void PlainLine_ShowsDoneTotalRateAndEta()
    {
        Assert.That(CampaignProgress.PlainLine("pmem-10k", 1200, 10000, 1200, TimeSpan.FromSeconds(12.6), final: false),
            Is.EqualTo("campaign pmem-10k: 1200/10000 seeds (12.0%), 95.2 seeds/s, ETA 1m32s"));
        // A resumed run: 5000 seeds were done before; the rate counts only this run's 500 seeds.
        Assert.That(CampaignProgress.PlainLine("x", 5500, 10000, 500, TimeSpan.FromSeconds(50), final: false),
            Is.EqualTo("campaign x: 5500/10000 seeds (55.0%), 10.0 seeds/s, ETA 7m30s"));
        Assert.That(CampaignProgress.PlainLine("x", 30000, 10_000_000, 30000, TimeSpan.FromSeconds(100), final: false),
            Is.EqualTo("campaign x: 30000/10000000 seeds (0.3%), 300.0 seeds/s, ETA 9h13m"));
        Assert.That(CampaignProgress.PlainLine("x", 200, 200, 200, TimeSpan.FromSeconds(5.5), final: true),
            Is.EqualTo("campaign x: 200/200 seeds (100.0%), 36.4 seeds/s, in 5.5s"));
        Assert.That(CampaignProgress.PlainLine("x", 0, 200, 0, TimeSpan.Zero, final: false),
            Is.EqualTo("campaign x: 0/200 seeds (0.0%), 0.0 seeds/s, ETA unknown"));
    }

    [TestCase("Auto", false, "None")]
    [TestCase("Plain", false, "Plain")]
    [TestCase("Bar", false, "Bar")]
    [TestCase("None", true, "None")]
    public void Resolve_AutoIsNothingWhenStderrIsNotATerminal(string asked, bool errorIsTerminal, string expected)
    {
        Assert.That(CampaignProgress.Resolve(Enum.Parse<ProgressMode>(asked), errorIsTerminal).ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void Campaign_CapturedOutput_HasNoProgress_UnlessAsked()
    {
        var example = RepoFiles.Path("campaigns/example.yaml");
        var (code, output, err) = CliRun.Invoke("campaign", example, "--seeds", "1..4");
        Assert.That(code, Is.Zero);
        Assert.That(err, Is.Empty);
        var (code2, output2, err2) = CliRun.Invoke("campaign", example, "--seeds", "1..4", "--progress", "plain");
        Assert.That(code2, Is.Zero);
        Assert.That(output2, Is.EqualTo(output), "progress never reaches stdout");
        Assert.That(err2, Does.Match("^campaign example: 4/4 seeds \\(100\\.0%\\), [0-9]+\\.[0-9] seeds/s, in [0-9.]+s\n$"));
    }
}
