namespace KernelSim.Tests.Cli;

/// <summary>Bad arguments: a one-line reason on stderr, exit code 2, nothing on stdout, never a stack trace.</summary>
public class BadArgumentTests
{
    [TestCase(new[] { "demo", "--kernel", "9.x" }, "unknown kernel version '9.x'")]
    [TestCase(new[] { "demo", "--kernel", "banana" }, "unknown kernel version 'banana'")]
    [TestCase(new[] { "profiles", "--kernel", "6" }, "unknown kernel version '6'")]
    [TestCase(new[] { "demo", "--cpu", "pentium" }, "unknown cpu 'pentium': expected one of erms, fragile, none")]
    [TestCase(new[] { "demo", "--trace", "json" }, "json")]
    [TestCase(new[] { "frobnicate" }, "frobnicate")]
    [TestCase(new[] { "demo", "--kernel" }, "--kernel")]
    public void BadArgument_Exit2_MessageOnStderr(string[] args, string message)
    {
        var (code, output, err) = CliRun.Invoke(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.StartWith("kernelsim: "));
        Assert.That(err, Does.Contain(message));
        Assert.That(err, Does.Contain("Run 'kernelsim --help' for usage."));
        Assert.That(err, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void Help_Exit0_ListsCommands()
    {
        var (code, output, _) = CliRun.Invoke("--help");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("demo"));
        Assert.That(output, Does.Contain("profiles"));
    }

    [Test]
    public void DemoHelp_ListsOptions()
    {
        var (code, output, _) = CliRun.Invoke("demo", "--help");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("--kernel"));
        Assert.That(output, Does.Contain("--cpu"));
        Assert.That(output, Does.Contain("--trace"));
    }
}
