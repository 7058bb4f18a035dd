using KernelSim.Profiles;
using KernelSim.Scenarios;
using KernelSim.Scenarios.Crosscheck;

namespace KernelSim.Tests.Crosscheck;

/// <summary>The step-by-step comparison with a fake guest: agree, differ, cannot run, panics, hangs and kills.</summary>
public class CrosscheckComparerTests
{
    private const string Text = """
        scenario: t
        machine: {kernel: 5.10, ramfs: {mount: /mnt/r}}
        actors:
          - name: a
            signals: {SIGSEGV: SEGVDISP}
            mappings: [{name: buf, size: 8K, fill: 1}]
        steps:
          - load: {at: buf, len: 16}
          - munmap: {at: buf+0x1000, len: 4096}
          - load: {at: buf+0x1010}
          - open: {path: /mnt/r/f, flags: O_RDWR|O_CREAT, as: f}
          - pread: {fd: f, buf: buf, len: 16, pos: 0}
          - poison: {at: buf}
        """;

    private sealed class FakePackages : IKernelPackages
    {
        public string? Asked;
        public KernelImage Prepare(string package)
        {
            Asked = package;
            return new KernelImage(package, "6.12.0-test", new KernelVersion(6, 12), "/vmlinuz", "/modules", "/cache");
        }
    }

    private sealed class FakeGuest(GuestRunResult result) : IGuestRunner
    {
        public GuestProgram? Program;
        public GuestRunResult Run(GuestProgram program, KernelImage kernel)
        {
            Program = program;
            return result;
        }
    }

    private static (CrosscheckScenario Result, FakeGuest Guest) Check(GuestRunResult run, string segv = "catch")
    {
        var text = Text.Replace("SEGVDISP", segv, StringComparison.Ordinal);
        var guest = new FakeGuest(run);
        var packages = new FakePackages();
        var r = new CrosscheckRunner(packages, guest).Run(ScenarioParser.ParseText("t.yaml", text), text, "linux-image-test");
        Assert.That(packages.Asked, Is.EqualTo("linux-image-test"));
        return (r.Single(), guest);
    }

    [Test]
    public void Completed_AgreeDifferAndCannotRun_OnThePackagesProfile()
    {
        const string console = "@@KS-BEGIN\n@@KS 1 begin\n@@KS 1 ret=16\n@@KS 2 begin\n@@KS 2 ret=0\n@@KS 3 begin\n@@KS 3 signal=11 code=1 addr=buf+0x1010 lsb=0\n@@KS 3 ret=0\n"
            + "@@KS 4 begin\n@@KS 4 ret=3\n@@KS 5 begin\n@@KS 5 ret=-14\n@@KS done\n@@KS exit status=0\n@@KS-END\n";
        var (c, guest) = Check(new GuestRunResult(GuestRunOutcome.Completed, console, null));
        Assert.That(guest.Program!.Steps[5].CannotRun, Does.StartWith("ACPI EINJ poison"));
        Assert.That(c.Profile, Is.EqualTo("6.12"));   // the package's release, not the file's 5.10
        Assert.That(c.Boot, Is.EqualTo("completed"));
        Assert.That(c.Steps.Select(s => s.Verdict), Is.EqualTo(new[]
        {
            CrosscheckVerdict.Agree, CrosscheckVerdict.Agree, CrosscheckVerdict.Agree, CrosscheckVerdict.Agree, CrosscheckVerdict.Differ, CrosscheckVerdict.CannotRun,
        }));
        Assert.That(c.Steps[0].Linux, Is.EqualTo("16 byte(s)"));
        Assert.That(c.Steps[2].Linux, Is.EqualTo("0 byte(s); SIGSEGV SEGV_MAPERR si_addr=buf+0x1010 si_addr_lsb=0"));
        Assert.That(c.Steps[3].Linux, Is.EqualTo("= fd"));   // descriptor numbers differ (0 in the simulator, 3 on Linux)
        Assert.That((c.Steps[4].Simulator, c.Steps[4].Linux), Is.EqualTo(("= 0", "= -EFAULT (-14)")));
        Assert.That(c.Steps[5].Reason, Does.StartWith("ACPI EINJ poison"));
        var table = CrosscheckRunner.Render(c);
        Assert.That(table, Does.Contain("  [5] a: pread(f, buf, 16, 0)\n      DIFFER      simulator: = 0 | linux: = -EFAULT (-14)\n"));
        Assert.That(table, Does.EndWith("  4 agree, 1 differ, 1 cannot run\n"));
    }

    [Test]
    public void KilledByADefaultDisposition_AgreesWithTheSimulatorsKill()
    {
        const string console = "@@KS-BEGIN\n@@KS 1 begin\n@@KS 1 ret=16\n@@KS 2 begin\n@@KS 2 ret=0\n@@KS 3 begin\n@@KS 3 signal=11 code=1 addr=buf+0x1010 lsb=0\n@@KS exit signal=11\n@@KS-END\n";
        var (c, _) = Check(new GuestRunResult(GuestRunOutcome.Completed, console, null), segv: "default");
        Assert.That(c.Steps[2].Verdict, Is.EqualTo(CrosscheckVerdict.Agree), c.Steps[2].Simulator + " | " + c.Steps[2].Linux);
        Assert.That(c.Steps[2].Linux, Is.EqualTo("killed by SIGSEGV; SIGSEGV SEGV_MAPERR si_addr=buf+0x1010 si_addr_lsb=0"));
        Assert.That(c.Steps[3].Linux, Is.EqualTo("not reached"));
        Assert.That(c.Steps[3].Verdict, Is.EqualTo(CrosscheckVerdict.Differ));
    }

    [Test]
    public void PanicAndHang_AreOutcomesOfTheStepThatBegan()
    {
        var (p, _) = Check(new GuestRunResult(GuestRunOutcome.Panicked, "@@KS-BEGIN\n@@KS 1 begin\nKernel panic - not syncing: Fatal exception\n", "Fatal exception"));
        Assert.That(p.Boot, Is.EqualTo("panic: Fatal exception"));
        Assert.That((p.Steps[0].Verdict, p.Steps[0].Linux), Is.EqualTo((CrosscheckVerdict.Differ, "did not return: panic: Fatal exception")));
        Assert.That(p.Steps[1].Linux, Is.EqualTo("not reached"));

        var (h, _) = Check(new GuestRunResult(GuestRunOutcome.TimedOut, "@@KS-BEGIN\n@@KS 1 begin\n@@KS 1 ret=16\n@@KS 2 begin\n", "no power-off within 60 s (last step begun: 2)"));
        Assert.That(h.Boot, Is.EqualTo("hang: no power-off within 60 s (last step begun: 2)"));
        Assert.That(h.Steps[0].Verdict, Is.EqualTo(CrosscheckVerdict.Agree));
        Assert.That(h.Steps[1].Linux, Is.EqualTo("did not return: hang: no power-off within 60 s (last step begun: 2)"));
    }

    [Test]
    public void NothingRunnable_NoBoot()
    {
        const string text = "scenario: t\nsteps:\n  - kmalloc: {name: k, size: 4K}\n";
        var guest = new FakeGuest(new GuestRunResult(GuestRunOutcome.Failed, "", "must not be called"));
        var c = new CrosscheckRunner(new FakePackages(), guest).Run(ScenarioParser.ParseText("t.yaml", text), text, "p").Single();
        Assert.That(guest.Program, Is.Null);
        Assert.That(c.Boot, Is.EqualTo("not booted: no step can run"));
        Assert.That(c.Steps.Single().Verdict, Is.EqualTo(CrosscheckVerdict.CannotRun));
    }
}
