using System.Text.Json;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Cli;

/// <summary>
/// Input checking on the command line: kernel releases against the modelled range, seeds, shards and jobs
/// parsed with messages naming the option and the accepted form, an option never read as a file name, and the
/// reasons a file cannot be read.
/// </summary>
public class InputCheckingTests : TempDirTest
{
    private static readonly string Example = RepoFiles.Path("campaigns/example.yaml");
    private const string Range = "4.17–4.20, 5.0–5.19, 6.0–6.19 and 7.0–7.1";

    private const string Scenario = """
        scenario: k
        machine: {kernel: KERNEL}
        actors:
          - name: app
            mappings:
              - {name: buf, size: 4K, fill: 0xff}
        steps:
          - kmalloc: {name: src, size: 4K, fill: 0x11}
          - copy: {routine: copy_mc_to_user, to: buf, from: src, len: 4096}
            expect: {ret: 0}
        """;

    [Test]
    public void Modelled_IsEveryReleaseFrom417To71_InMainlineNumbering()
    {
        var modelled = KernelProfile.Modelled;
        Assert.That(modelled, Has.Count.EqualTo(4 + 20 + 20 + 2));
        Assert.That((modelled[0], modelled[^1]), Is.EqualTo((KernelProfile.Oldest, KernelProfile.Newest)));
        Assert.That(modelled, Is.Ordered.And.Unique);
        Assert.That(modelled, Does.Contain(KernelVersion.V(6, 1)).And.Contain(KernelVersion.V(4, 20)).And.Contain(KernelVersion.V(6, 19)));
        Assert.That(KernelProfile.Known, Is.SubsetOf(modelled));
        for (var major = 3; major <= 9; major++)
            for (var minor = 0; minor <= 99; minor++)
                Assert.That(KernelProfile.IsModelled(new KernelVersion(major, minor)), Is.EqualTo(modelled.Contains(new KernelVersion(major, minor))), $"{major}.{minor}");
    }

    [TestCase("9.99")]
    [TestCase("3.10")]
    [TestCase("4.16")]
    [TestCase("4.21")]
    [TestCase("5.20")]
    [TestCase("7.2")]
    public void Kernel_AnUnmodelledRelease_IsAUsageErrorNamingTheRange(string version)
    {
        foreach (var args in new[] { new[] { "demo", "--kernel", version }, ["run", "x.yaml", "-k", version], ["walkthrough", "mce-copy", "--html", "x.html", "--profiles", $"6.12,{version}"] })
        {
            var (code, output, err) = CliRun.Invoke(args);
            Assert.That((code, output), Is.EqualTo((2, "")), string.Join(' ', args));
            Assert.That(err, Does.Contain($"unknown kernel version '{version}'"));
            Assert.That(err, Does.Contain($"not a modelled release; KernelSim models {Range} (kernelsim profiles lists them)"));
        }
    }

    [Test]
    public void Kernel_61_Runs_AndProfilesListsEveryModelledRelease()
    {
        var (code, output, err) = CliRun.Invoke("profiles", "--kernel", "6.1");
        Assert.That((code, err), Is.EqualTo((0, "")));
        Assert.That(output, Does.StartWith("Linux 6.1 (era E4)\n"));
        var all = CliRun.Invoke("profiles").Out;
        Assert.That(all, Does.Contain("Every modelled release (46, 4.17 to 7.1; "));
        var listed = all.Split('\n').Where(l => l.StartsWith("  E", StringComparison.Ordinal)).ToList();
        Assert.That(listed[0], Is.EqualTo("  E0: 4.17"));
        Assert.That(listed[4], Is.EqualTo("  E4: 5.19, 6.0, 6.1, 6.2, 6.3, 6.4"));
        var versions = listed.SelectMany(l => l[6..].Split(", ")).ToList();
        Assert.That(versions, Is.EqualTo(KernelProfile.Modelled.Select(v => v.ToString())));
    }

    [Test]
    public void Kernel_APointRelease_RunsAsItsRelease_WithANoteOnStderr()
    {
        var (code, output, err) = CliRun.Invoke("profiles", "--kernel", "6.12.3");
        Assert.That(code, Is.Zero);
        Assert.That(err, Is.EqualTo("kernelsim: note: 6.12.3 is a point release; it runs as Linux 6.12 (behaviour is modelled per release)\n"));
        Assert.That(output, Is.EqualTo(CliRun.Invoke("profiles", "--kernel", "6.12").Out));
    }

    [Test]
    public void ScenarioFile_MachineKernel_UnmodelledIsExit65_PointReleaseANote()
    {
        var bad = Write("bad.yaml", Scenario.Replace("KERNEL", "3.10", StringComparison.Ordinal));
        Assert.That(CliRun.Invoke("run", bad), Is.EqualTo((65, "", $"kernelsim: {bad}:2:19: machine.kernel: 3.10 is not a modelled release; KernelSim models {Range}\n")));
        var point = Write("point.yaml", Scenario.Replace("KERNEL", "6.12.3", StringComparison.Ordinal));
        var (code, output, err) = CliRun.Invoke("run", point);
        Assert.That(code, Is.Zero, output);
        Assert.That(err, Is.EqualTo($"kernelsim: {point}:2:19: note: machine.kernel 6.12.3 is a point release; it runs as Linux 6.12 (behaviour is modelled per release)\n"));
        Assert.That(output, Does.Contain("setup: Linux 6.12 (E5)"));
    }

    [Test]
    public void CampaignFile_APointReleaseProfile_RunsAsItsReleaseWithANote()
    {
        var f = Write("c.yaml", File.ReadAllText(Example).Replace("profiles: [4.17, 6.12]", "profiles: [4.17, 6.12.3]", StringComparison.Ordinal));
        var (code, output, err) = CliRun.Invoke("campaign", f, "--seeds", "1..1");
        Assert.That(code, Is.Zero, output);
        Assert.That(err, Is.EqualTo($"kernelsim: {f}:10:18: note: profiles: 6.12.3 is a point release; it runs as Linux 6.12 (behaviour is modelled per release)\n"));
        Assert.That(output, Does.Contain("Linux 6.12"));
    }

    [Test]
    public void CampaignFile_AnUnmodelledProfile_IsExit65BeforeAnySeed()
    {
        var f = Write("c.yaml", File.ReadAllText(Example).Replace("profiles: [4.17, 6.12]", "profiles: [4.14, 6.12, 9.99]", StringComparison.Ordinal));
        var (code, output, err) = CliRun.Invoke("campaign", f, "--seeds", "1..1");
        Assert.That((code, output), Is.EqualTo((65, "")));
        Assert.That(err, Is.EqualTo($"kernelsim: {f}: profiles: 4.14, 9.99 are not modelled releases; KernelSim models {Range}\n"));
    }

    [TestCase(new[] { "campaign", "C", "--jobs", "abc" }, "--jobs 'abc': expected a whole number, 1 or more")]
    [TestCase(new[] { "campaign", "C", "-j", "-2" }, "--jobs '-2': expected a whole number, 1 or more")]
    [TestCase(new[] { "campaign", "C", "--seeds", "1-5" }, "--seeds '1-5': expected A..B, whole numbers with A <= B")]
    [TestCase(new[] { "campaign", "C", "--shard", "x/2" }, "--shard 'x/2': expected I/N, whole numbers with 0 <= I < N")]
    [TestCase(new[] { "replay", "-1", "-c", "C" }, "seed '-1': expected a whole number from 0 to 18446744073709551615")]
    [TestCase(new[] { "shrink", "1e3", "-c", "C" }, "seed '1e3': expected a whole number from 0 to 18446744073709551615")]
    [TestCase(new[] { "replay", "18446744073709551616", "-c", "C" }, "seed '18446744073709551616': expected a whole number from 0 to 18446744073709551615")]
    [TestCase(new[] { "crosscheck", "S", "--kernel-package", "linux-image-6.12.118+deb12-amd64-unsigned", "--timeout", "abc" }, "--timeout 'abc': expected a number of seconds, 10 or more")]
    public void SeedsShardJobs_BadValue_NamesTheOptionAndTheForm_NoTypeName(string[] args, string message)
    {
        args = args.Select(a => a == "C" ? Example : a == "S" ? RepoFiles.Path("scenarios/mce-copy.yaml") : a).ToArray();
        var (code, output, err) = CliRun.Invoke(args);
        Assert.That((code, output), Is.EqualTo((2, "")));
        Assert.That(err, Is.EqualTo($"kernelsim: {message}\nRun 'kernelsim --help' for usage.\n"));
    }

    [TestCase("run", "S", "--bogus")]
    [TestCase("run", "--bogus", "S")]
    [TestCase("crosscheck", "S", "-x", "--kernel-package", "linux-image-6.12.118+deb12-amd64-unsigned")]
    [TestCase("campaign", "--bogus")]
    [TestCase("merge", "D", "--bogus", "--out", "D")]
    public void AnUnknownOption_IsAUsageError_NotAFileName(params string[] args)
    {
        var bogus = args.First(a => a.StartsWith('-') && a is not "--out" and not "--kernel-package");
        args = args.Select(a => a == "S" ? RepoFiles.Path("scenarios/mce-copy.yaml") : a == "D" ? Dir : a).ToArray();
        var (code, output, err) = CliRun.Invoke(args);
        Assert.That((code, output), Is.EqualTo((2, "")));
        Assert.That(err, Does.StartWith($"kernelsim: unknown option '{bogus}' (a file whose name starts with '-' can be given as ./{bogus})\n"));
    }

    [Test]
    public void AFileNamedLikeAnOption_RunsByItsPath()
    {
        var f = Path.Combine(Dir, "-x.yaml");
        File.WriteAllText(f, Scenario.Replace("KERNEL", "6.12", StringComparison.Ordinal));
        Assert.That(CliRun.Invoke("run", f).Code, Is.Zero);
        Assert.That(CliRun.Invoke("run", "-x.yaml").Err, Does.StartWith("kernelsim: unknown option '-x.yaml' (a file whose name starts with '-' can be given as ./-x.yaml)\n"));
    }

    [Test]
    public void InputFile_MissingDirectoryUnreadable_EachItsOwnMessage_Exit66()
    {
        Assert.That(CliRun.Invoke("run", Path.Combine(Dir, "no.yaml")), Is.EqualTo((66, "", $"kernelsim: {Path.Combine(Dir, "no.yaml")}: no such file\n")));
        Assert.That(CliRun.Invoke("run", Dir), Is.EqualTo((66, "", $"kernelsim: {Dir}: is a directory\n")));
        Assert.That(CliRun.Invoke("exercise", "mce-copy", "--check", Dir), Is.EqualTo((66, "", $"kernelsim: {Dir}: is a directory\n")));
        // Opens, but read(2) fails with EINVAL (procfs has no read for it): works as root too, where chmod 000 would not.
        Assert.That(CliRun.Invoke("replay", "1", "-c", "/proc/self/clear_refs"), Is.EqualTo((66, "", "kernelsim: /proc/self/clear_refs: cannot be read: Invalid argument\n")));
    }

    [Test]
    public void InputFile_PermissionDenied_Exit66()
    {
        var f = Write("locked.yaml", "scenario: t\nsteps: []\n");
        Assume.That(OperatingSystem.IsWindows(), Is.False, "Unix file modes");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(f, UnixFileMode.None);
        Assume.That(() => File.ReadAllText(f), Throws.InstanceOf<UnauthorizedAccessException>(), "root reads any file (CAP_DAC_OVERRIDE)");
        Assert.That(CliRun.Invoke("run", f), Is.EqualTo((66, "", $"kernelsim: {f}: permission denied\n")));
    }

    [Test]
    public void Replay_TraceChrome_StdoutIsPureJson_TheJsonlAndThePlanOnStderr()
    {
        var (code, output, err) = CliRun.Invoke("replay", "23", "--campaign", Example, "--trace", "chrome");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("traceEvents").GetArrayLength(), Is.GreaterThan(10));
        var plain = CliRun.Invoke("replay", "23", "--campaign", Example);
        Assert.That(err, Does.StartWith("# seed 23 plan "));
        Assert.That(err, Does.EndWith(plain.Out), "the JSONL moves to stderr, unchanged");
    }

    [Test]
    public void Replay_TraceOut_WritesPureJson_StdoutKeepsTheJsonl()
    {
        var file = Path.Combine(Dir, "t.json");
        var (code, output, err) = CliRun.Invoke("replay", "23", "--campaign", Example, "--trace-out", file);
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Is.EqualTo(CliRun.Invoke("replay", "23", "--campaign", Example).Out));
        var text = File.ReadAllText(file);
        Assert.That(text, Does.StartWith("{"));
        Assert.That(text, Is.EqualTo(CliRun.Invoke("replay", "23", "--campaign", Example, "--trace", "chrome").Out));
        using var doc = JsonDocument.Parse(text);
        var names = doc.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("name").GetString() == "process_name").Select(e => e.GetProperty("args").GetProperty("name").GetString()).ToList();
        Assert.That(names, Is.EqualTo(new[] { "seed 23 (Linux 4.17)", "seed 23 (Linux 6.12)" }));
    }
}
