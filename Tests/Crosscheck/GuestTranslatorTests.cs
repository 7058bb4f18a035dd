using KernelSim.Scenarios;
using KernelSim.Scenarios.Crosscheck;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Crosscheck;

/// <summary>Scenario → guest program: the generated C, the init script, the platform and the "cannot run" marks.</summary>
public class GuestTranslatorTests
{
    private static GuestProgram Translate(string text, int doc = 0) => GuestTranslator.Translate(ScenarioParser.ParseText("t.yaml", text)[doc], text);

    private static GuestProgram Shipped(string name)
    {
        var path = RepoFiles.Path($"scenarios/{name}.yaml");
        var text = File.ReadAllText(path);
        return GuestTranslator.Translate(ScenarioParser.ParseText(path, text)[0], text);
    }

    [Test]
    public void MmSignals_EveryStepRuns_AndTheCallsAreTheScenarios()
    {
        var p = Shipped("mm-signals");
        Assert.That(p.Steps.Where(s => s.CannotRun != null), Is.Empty);
        Assert.That(p.Steps, Has.Count.EqualTo(19));
        // Setup: both mappings, in order, anonymous private, then filled from user mode.
        Assert.That(p.CSource, Does.Contain("ks_map(0, \"buf\", 16384UL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)"));
        Assert.That(p.CSource, Does.Contain("else ks_fillmap(0, 2, 1UL, 0UL);"));   // index = i*1+0
        Assert.That(p.CSource, Does.Contain("else ks_fillmap(1, 2, 7UL, 3UL);"));   // i*7+3
        Assert.That(p.CSource, Does.Contain("ks_sigaction(SIGBUS, 1);\n    ks_sigaction(SIGSEGV, 1);"));
        Assert.That(p.CSource, Does.Contain("    ks_begin(7);\n    ks_ret(ks_sys(madvise(KS_AT(0, 12288L), 4096UL, MADV_HWPOISON)));\n"));
        Assert.That(p.CSource, Does.Contain("    ks_begin(3);\n    ks_ret(ks_access(KS_AT(0, 4104L), 4UL, 1, 1, 85UL, 0UL));\n"));
        Assert.That(p.CSource, Does.Contain("ks_begin(9);\n    { long r = ks_sys(open(\"/mnt/ramfs/f\", O_RDWR | O_CREAT, 0644)); if (r >= 0) ks_fds[0] = (int)r; ks_ret(r); }"));
        Assert.That(p.CSource, Does.Contain("ks_begin(16);\n    { struct iovec vs[] = {{KS_AT(0, 0L), 10UL}, {KS_AT(0, 4084L), 30UL}}; struct iovec *vp = vs; ks_ret(ks_sys(preadv(ks_fds[0], vp, 2, 0UL))); }"));
        Assert.That(p.Platform, Is.EqualTo(new GuestPlatform(0, false, [])).Using<GuestPlatform>((a, b) => a.PmemSize == b.PmemSize && a.E820 == b.E820 && a.Modules.Count == b.Modules.Count));
        Assert.That(p.InitScript, Does.Contain("mkdir -p /mnt/ramfs && mount -t ramfs ramfs /mnt/ramfs || fail ramfs\n"));
        Assert.That(p.InitScript, Does.Contain("echo @@KS-BEGIN\n/ks-guest\necho @@KS-END\npoweroff -f\n"));
    }

    [Test]
    public void PmemBadblocks_E820Fsdax_SysfsSetupAndBadblocksFile()
    {
        var p = Shipped("pmem-badblocks");
        Assert.That(p.Platform.PmemSize, Is.EqualTo(64UL << 20));
        Assert.That(p.Platform.E820, Is.True);
        Assert.That(p.Platform.Modules, Is.EqualTo(new[] { "libnvdimm", "nd_btt", "nd_pmem", "nd_e820" }));
        Assert.That(p.InitScript, Does.Contain("echo namespace0.0 > /sys/bus/nd/drivers/nd_pmem/unbind || fail unbind\npfn=$(cat $r/pfn_seed)\n"));
        Assert.That(p.InitScript, Does.Contain("echo namespace0.0 > $d/$pfn/namespace || fail namespace\necho $pfn > /sys/bus/nd/drivers/nd_pmem/bind || fail bind\n"));
        Assert.That(p.CSource, Does.Contain("ks_begin(1);\n    ks_ret(ks_sysfs_write(\"/sys/block/pmem0/badblocks\", \"8 1\"));\n"));
        Assert.That(p.CSource, Does.Contain("ks_begin(2);\n    ks_ret(ks_sysfs_lines(\"/sys/block/pmem0/badblocks\"));\n"));
        Assert.That(p.CSource, Does.Contain("ks_ret(ks_sys(pread(ks_fds[1], KS_AT(1, 0L), 512UL, 4096UL)));"));
    }

    [Test]
    public void Poison_CannotRun_AndEveryLaterStepFollowsIt()
    {
        var p = Shipped("user-sigbus");
        // Two actors: nothing runs.
        Assert.That(p.Steps.Select(s => s.CannotRun).Distinct(), Is.EqualTo(new[] { "several actors: the guest program is one process" }));
        Assert.That(p.AnyRunnable, Is.False);

        var q = Translate("scenario: t\nmachine: {ramfs: {mount: /mnt/r}}\nactors:\n  - name: a\n    mappings: [{name: buf, size: 4K, fill: 1}]\nsteps:\n"
            + "  - load: {at: buf}\n  - run-work:\n  - poison: {at: buf+0x40}\n  - load: {at: buf+0x40}\n");
        Assert.That(q.Steps.Select(s => s.CannotRun), Is.EqualTo(new string?[]
        {
            null,
            "deferred work: on Linux it runs by itself",
            "ACPI EINJ poison: QEMU has no EINJ and TCG raises no machine checks",
            "follows step 3, which cannot run (ACPI EINJ poison: QEMU has no EINJ and TCG raises no machine checks)",
        }));
        Assert.That(q.CSource, Does.Contain("ks_begin(1);"));
        Assert.That(q.CSource, Does.Not.Contain("ks_begin(4);"));
    }

    [Test]
    public void DaxfsPath_KernelBuffer_AbsoluteAddress_CannotRun()
    {
        var p = Shipped("dax-bypass");
        Assert.That(p.Steps[0].CannotRun, Does.StartWith("a daxfs mount: no Linux twin"));
        Assert.That(p.Steps[1].CannotRun, Does.StartWith("follows step 1"));

        var m = Shipped("mce-copy");
        Assert.That(m.Steps[0].CannotRun, Is.EqualTo("a kernel buffer: the guest program runs in user space"));

        var a = Translate("scenario: t\nactors:\n  - name: a\n    mappings: [{name: buf, size: 4K}]\nsteps:\n  - load: {at: 0x7ffff7ffd000}\n");
        Assert.That(a.Steps[0].CannotRun, Is.EqualTo("an absolute address 0x7ffff7ffd000: the guest's layout differs"));
    }

    [Test]
    public void NfitNamespaceIsAnNvdimm_TwoNamespacesCannotRun()
    {
        var p = Translate("scenario: t\nmachine: {pmem: {bus: nfit, namespaces: [{size: 32M, mode: raw}]}}\nsteps:\n  - badblocks: pmem0\n");
        Assert.That(p.Platform.E820, Is.False);
        Assert.That(p.Platform.Modules, Does.Contain("nfit"));
        Assert.That(p.InitScript, Does.Not.Contain("pfn_seed"));
        Assert.That(p.Steps[0].CannotRun, Is.Null);

        var two = Translate("scenario: t\nmachine: {pmem: {namespaces: [{size: 32M}, {size: 32M}]}}\nsteps:\n  - badblocks: pmem0\n");
        Assert.That(two.Steps[0].CannotRun, Is.EqualTo("more than one namespace in a region: a label-less NVDIMM has exactly one"));
    }

    [Test]
    public void EveryShippedScenario_Translates_AndTheCCompiles()
    {
        var gcc = new[] { "/usr/bin/gcc", "/usr/local/bin/gcc" }.FirstOrDefault(File.Exists);
        foreach (var path in Directory.GetFiles(RepoFiles.Path("scenarios"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var text = File.ReadAllText(path);
            foreach (var s in ScenarioParser.ParseText(path, text))
            {
                var p = GuestTranslator.Translate(s, text);
                Assert.That(p.Steps, Has.Count.EqualTo(s.Steps.Count), s.Name);
                if (gcc == null || !p.AnyRunnable) continue;
                var dir = Directory.CreateTempSubdirectory("ks-guest-").FullName;
                try
                {
                    File.WriteAllText(Path.Combine(dir, "g.c"), p.CSource);
                    var psi = new System.Diagnostics.ProcessStartInfo(gcc, "-fsyntax-only -Wall -Werror g.c") { WorkingDirectory = dir, RedirectStandardError = true };
                    using var proc = System.Diagnostics.Process.Start(psi)!;
                    var err = proc.StandardError.ReadToEnd();
                    proc.WaitForExit();
                    Assert.That(proc.ExitCode, Is.Zero, $"{s.Name}: {err}");
                }
                finally
                {
                    Directory.Delete(dir, true);
                }
            }
        }
    }
}
