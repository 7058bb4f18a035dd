using KernelSim.Scenarios;
using KernelSim.Scenarios.Crosscheck;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Crosscheck;

/// <summary>
/// Boots a real kernel under QEMU: runs when qemu-system-x86_64, gcc and busybox-static are installed and a kernel
/// package is already in the crosscheck cache (.ci/crosscheck puts it there); skipped with the reason otherwise.
/// </summary>
public class QemuEndToEndTests
{
    [Test]
    public void PmemBadblocks_OnACachedDebianKernel_EveryStepAgrees()
    {
        if (QemuGuestRunner.Missing() is { } missing) Assert.Ignore(missing);
        var root = DebianKernelPackages.CacheRoot;
        var package = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).FirstOrDefault(p => p != null && DebianKernelPackages.Cached(p) != null)
            : null;
        if (package == null) Assert.Ignore($"no kernel package in {root} (run .ci/crosscheck once)");
        var path = RepoFiles.Path("scenarios/pmem-badblocks.yaml");
        var text = File.ReadAllText(path);
        var runner = new CrosscheckRunner(new DebianKernelPackages(), new QemuGuestRunner(TimeSpan.FromSeconds(180)));
        var c = runner.Run(ScenarioParser.ParseText(path, text), text, package!).Single();
        Assert.That(c.Boot, Is.EqualTo("completed"), CrosscheckRunner.Render(c));
        Assert.That(c.Steps.Select(s => s.Verdict), Is.All.EqualTo(CrosscheckVerdict.Agree), CrosscheckRunner.Render(c));
        Assert.That(c.Steps[3].Linux, Is.EqualTo("= 4096"));
    }
}
