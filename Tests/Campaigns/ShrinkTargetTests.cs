using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Campaigns;

/// <summary>`kernelsim shrink --target OUTCOME[@OP]`, its refusals, and scenarios written by the YAML emitter.</summary>
public class ShrinkTargetTests : TempDirTest
{
    private static string Example => RepoFiles.Path("campaigns/example.yaml");

    [Test]
    public void Shrink_Seed112_DefaultKeepsTheWorstOutcome_TargetEioAtPreadKeepsTheBadblocksRead()
    {
        // Seed 112 (pmem-direct, badblocks): its worst outcome is a misaligned O_DIRECT EINVAL (other-errno), and
        // a pread over the badblocks returns EIO. The default shrink keeps the EINVAL; --target keeps the EIO.
        var (code, _, err) = CliRun.Invoke("shrink", "112", "--campaign", Example);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.StartWith("# seed 112 on Linux 4.17: worst outcome other-errno; 9 -> 1 steps in 10 runs\n"));

        var path = Path.Combine(Dir, "s112.yaml");
        (code, _, err) = CliRun.Invoke("shrink", "112", "--campaign", Example, "--target", "EIO@pread", "--out", path);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.StartWith("# seed 112 on Linux 4.17: EIO@pread; 9 -> 2 steps in 11 runs\n# shrunk plan: pmem-direct kinds=[badblocks,unmapped-page] | badblocks 102+6; pread(buf+0xa400, 13824, 46080)\n"));
        var text = File.ReadAllText(path);
        Assert.That(text, Does.StartWith($"# Shrunk by `kernelsim shrink 112 --campaign {Example} --target EIO@pread` from 9 to 2 steps.\n"));
        Assert.That(text, Does.Contain("title: 'campaign example, seed 112 on Linux 4.17: EIO@pread'\n"));
        Assert.That(text, Does.EndWith(
            "steps:\n  - open: {path: /dev/pmem0, flags: O_RDWR|O_DIRECT, as: f}\n    expect: {signal: none}\n" +
            "  - ndctl: inject-error namespace0.0 --block=102 --count=6\n" +
            "  - pread: {fd: f, buf: buf+0xa400, len: 13824, pos: 46080}\n    expect:\n      errno: EIO\n      signal: none\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);
        Assert.That(output, Does.Contain("PASS example-seed-112"));
    }

    [Test]
    public void Shrink_TargetTheSeedDoesNotShow_Exit4_NothingWritten()
    {
        var path = Path.Combine(Dir, "none.yaml");
        var (code, output, err) = CliRun.Invoke("shrink", "112", "--campaign", Example, "--target", "panic", "--kernel", "6.12", "--out", path);
        Assert.That(code, Is.EqualTo(4));
        Assert.That(output, Is.Empty);
        Assert.That(err, Is.EqualTo("kernelsim: seed 112 shows no panic on Linux 6.12 (it shows Linux 6.12: EIO@preadv, other-errno@preadv, other-errno@pwrite, EIO@pread); nothing written\n"));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void Shrink_APassingSeed_Exit4_InsteadOfAFaultFreeScenario()
    {
        // Seed 4 (mmap-private) completes every operation on both profiles: there is nothing to preserve.
        var (code, output, err) = CliRun.Invoke("shrink", "4", "--campaign", Example);
        Assert.That(code, Is.EqualTo(4));
        Assert.That(output, Is.Empty);
        Assert.That(err, Is.EqualTo("kernelsim: seed 4 shows nothing worse than complete on Linux 4.17, Linux 6.12: nothing to preserve (name an outcome with --target); nothing written\n"));
    }

    [Test]
    public void Shrink_TargetCompleteAtFinalCheck_ShrinksToNoStep_AndTheScenarioRuns()
    {
        var path = Path.Combine(Dir, "s4.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "4", "--campaign", Example, "--target", "complete@final-check", "--out", path);
        Assert.That(code, Is.Zero, err);
        var text = File.ReadAllText(path);
        Assert.That(text, Does.EndWith("steps:\n  - load: {at: buf, len: 1}\n    expect:\n      ret: 1\n      signal: none\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);
    }

    [TestCase("EIO@")]
    [TestCase("eio")]
    [TestCase("corruption")]
    public void Shrink_BadTarget_Exit2(string target)
    {
        var (code, _, err) = CliRun.Invoke("shrink", "112", "--campaign", Example, "--target", target);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith($"kernelsim: --target '{target}': expected OUTCOME or OUTCOME@OP with an outcome of: complete, short, poison-accepted, EFAULT, EIO,"));
    }

    [Test]
    public void Shrink_CampaignNameWithQuotesAndColons_WritesYamlThatRunAccepts()
    {
        // The name reaches the scenario's name, title and comment: the emitter quotes it as YAML needs.
        const string name = "it's \"odd\": #1";
        var file = Write("odd.yaml", File.ReadAllText(Example).Replace("campaign: example", "campaign: 'it''s \"odd\": #1'", StringComparison.Ordinal));
        Assert.That(CampaignParser.ParseFile(file).Name, Is.EqualTo(name));
        var path = Path.Combine(Dir, "s46.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "46", "--campaign", file, "--out", path);
        Assert.That(code, Is.Zero, err);
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, File.ReadAllText(path) + output + runErr);
        Assert.That(output, Does.Contain("PASS it-s-odd-1-seed-46"));
        Assert.That(File.ReadAllText(path), Does.Contain("title: \"campaign it's \\\"odd\\\": #1, seed 46 on Linux 4.17: worst outcome panic\"\n"));
    }

    [TestCase("EIO@pwritev", "EIO", "pwritev")]
    [TestCase("panic", "panic", null)]
    [TestCase("SIGBUS-AR@load", "SIGBUS-AR", "load")]
    public void ShrinkTarget_Parse(string text, string outcome, string? op)
    {
        Assert.That(ShrinkTarget.TryParse(text, out var t), Is.True);
        Assert.That((Outcomes.Name(t.Outcome), t.Op, t.ToString()), Is.EqualTo((outcome, op, text)));
    }
}
