using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>
/// ndctl (the program, <see cref="Ndctl.Run"/>) inject-error / start-scrub / wait-scrub / list --media-errors / clear-errors
/// on a booted nfit_test machine with one 64 MiB fsdax namespace, and the deferred NFIT machine-check update.
/// </summary>
public class NdctlFlowTests
{
    [Test]
    public void InjectWithNotify_Scrubs_ODirectReadEio_AlignedWriteClears_StatusEmpty()
    {
        var s = new PmemScenario();
        var r = s.Ndctl("inject-error namespace0.0 --block=8 --count=8");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Does.Contain("\"badblock_count\":8,"), "inject-error waits for the scrub and prints the namespace");
        Assert.That(s.Badblocks, Is.EqualTo("8 8\n"));
        Assert.That(s.Ndctl("list --media-errors -n namespace0.0").Stdout, Does.Contain("\"offset\":8,\n        \"length\":8,"));
        Assert.That(s.Ndctl("inject-error --status namespace0.0").Stdout, Does.Contain("\"block\":8,\n      \"count\":8"));
        // The injection also made the media latent poison (4 lines of 64 bytes per 256-byte record).
        Assert.That(s.M.Phys.PoisonedLines().Count(), Is.EqualTo(8 * 4));

        var fd = s.Open(Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(s.P.Pread64(fd, s.U, 4096, 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.M.Mce.Log, Is.Empty, "badblocks refuse the read before the media is touched");

        var data = Enumerable.Repeat((byte)0xa5, 4096).ToArray();
        Assert.That(s.P.Store(s.U, data).Done, Is.EqualTo(4096UL));
        Assert.That(s.P.Pwrite64(fd, s.U, 4096, 4096), Is.EqualTo(4096));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(s.Media(4096, 4096), Is.EqualTo(data));
        Assert.That(s.M.Phys.PoisonedLines(), Is.Empty);
        Assert.That(s.Ndctl("inject-error --status namespace0.0"), Is.EqualTo(new NdctlResult(0, "", "")));
        Assert.That(s.Ndctl("list --media-errors -n namespace0.0").Stdout, Does.Not.Contain("badblock_count"));
        Assert.That(s.P.Pread64(fd, s.U + 4096UL, 4096, 4096), Is.EqualTo(4096));
    }

    [Test]
    public void InjectNoNotify_LeavesBadblocksEmptyUntilScrub()
    {
        var s = new PmemScenario();
        Assert.That(s.Ndctl("inject-error namespace0.0 -B 8 -n 8 --no-notify").Rc, Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(s.M.WorkQueue.Pending, Is.EqualTo(0));
        Assert.That(s.Ndctl("start-scrub").Rc, Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo("8 8\n"));
        Assert.That(s.Dev.Region.Bus.ScrubCount, Is.EqualTo(1));
    }

    [Test]
    public void StartScrub_ManualTiming_ScrubFileShowsPlus_SecondWriteIsBusy_WaitScrubSleepsUntilDone()
    {
        var s = new PmemScenario(timing: WorkTiming.Manual);
        Assert.That(s.Ndctl("inject-error namespace0.0 -B 8 -n 1 -N").Rc, Is.EqualTo(0));
        var p = s.M.Spawn("sh");
        const string scrub = "/sys/bus/nd/devices/ndbus0/nfit/scrub";
        Assert.That(p.WriteText(scrub, "1\n"), Is.EqualTo(2));
        Assert.That(p.ReadText(scrub, out var t), Is.Zero);
        Assert.That(t, Is.EqualTo("0+\n"));
        Assert.That(p.WriteText(scrub, "1\n"), Is.EqualTo(-Errno.EBUSY));
        Assert.That(p.WriteText(scrub, "2\n"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        var r = s.Ndctl("wait-scrub");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Does.Contain("\"scrub_state\":\"idle\""));
        Assert.That(s.Badblocks, Is.EqualTo("8 1\n"));
        Assert.That(p.ReadText(scrub, out t), Is.Zero);
        Assert.That(t, Is.EqualTo("1\n"));
    }

    [Test]
    public void Uninject_KeepsBadblocks_ReadsStillFail()
    {
        var s = new PmemScenario();
        Assert.That(s.Ndctl("inject-error namespace0.0 -B 8 -n 1").Rc, Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo("8 1\n"));
        Assert.That(s.Ndctl("inject-error namespace0.0 -B 8 -n 1 --uninject").Rc, Is.EqualTo(0));
        Assert.That(s.Ndctl("inject-error --status namespace0.0").Stdout, Is.EqualTo(""));
        Assert.That(s.Badblocks, Is.EqualTo("8 1\n"));
        var fd = s.Open(Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(s.P.Pread64(fd, s.U, 512, 4096), Is.EqualTo(-Errno.EIO));
    }

    [Test]
    public void LatentPoisonRead_ManualWork_EioFirst_BadblockAfterRunPending()
    {
        var s = new PmemScenario(timing: WorkTiming.Manual);
        s.PoisonMedia(PmemScenario.B + 4160);
        var fd = s.Open(Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(s.P.Pread64(fd, s.U, 4096, PmemScenario.B + 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(s.M.WorkQueue.PendingNames, Is.EqualTo(new[] { "mce_work(x86_mce_decoder_chain)" }));
        // A retry before the worker runs consumes the poison again.
        Assert.That(s.P.Pread64(fd, s.U, 4096, PmemScenario.B + 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(2));
        s.M.WorkQueue.RunPending();
        Assert.That(s.Badblocks, Is.EqualTo($"{PmemScenario.S(8)} 1\n"));
        Assert.That(s.Dev.Region.Bus.Badrange.Entries, Is.EqualTo(new[] { new BadrangeEntry(s.Dev.DataPhys((ulong)PmemScenario.B + 4160), 64) }));
        Assert.That(s.P.Pread64(fd, s.U, 4096, PmemScenario.B + 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(2), "now refused by is_bad_pmem");
    }

    [Test]
    public void ClearErrors_SendsClearErrorForKnownBadBlocks_DataStays()
    {
        var s = new PmemScenario();
        Assert.That(s.Ndctl("inject-error namespace0.0 -B 8 -n 2").Rc, Is.EqualTo(0));
        var r = s.Ndctl("clear-errors namespace0.0");
        Assert.That(r.Rc, Is.EqualTo(0), r.Stderr);
        Assert.That(r.Stderr, Is.EqualTo("cleared 1 namespace\n"));
        Assert.That(s.M.Pmem("pmem0").Disk.BadblocksShow(), Is.Empty, "re-enabled: the new disk's badblocks come from the cleared badrange");
        Assert.That(s.M.Pmem("pmem0"), Is.Not.SameAs(s.Dev), "clear-errors disabled and re-enabled the namespace");
        Assert.That(s.M.Phys.PoisonedLines(), Is.Empty, "nfit_test's CLEAR_ERROR; the firmware also repairs the media");
        Assert.That(s.Media(8 * 512, 1024), Is.EqualTo(PmemScenario.PatternBytes(8 * 512, 1024)), "ARS clear does not write the data");
        Assert.That(s.Ndctl("inject-error --status namespace0.0").Stdout, Is.Empty);
    }

    [TestCase("frobnicate", 1, "Unknown command: 'frobnicate'\n")]
    [TestCase("inject-error namespace0.0", 234, "  Error: block and count required for inject/uninject\n\n")]
    [TestCase("inject-error namespace0.0 --block=x -n 1", 234, "  Error: Invalid block: x\n\n")]
    [TestCase("inject-error namespace9.9 --block=1 -n 1", 250, "  Error: namespace9.9: no such namespace\n\n")]
    [TestCase("inject-error namespace0.0 --block=999999999 -n 1", 234, null)]
    public void BadCommandLines_NdctlsMessageAndExitCode(string line, int rc, string? stderr)
    {
        var s = new PmemScenario();
        var r = s.Ndctl(line);
        Assert.That(r.Rc, Is.EqualTo(rc));
        if (stderr != null) Assert.That(r.Stderr, Does.StartWith(stderr));
        else Assert.That(r.Stderr, Is.Not.Empty);
    }

    [Test]
    public void LegacyE820_InjectAndScrubAreNotSupported()
    {
        var s = new PmemScenario(configure: o => o.LegacyE820 = true);
        Assert.That(s.Ndctl("inject-error namespace0.0 -B 8 -n 1"), Is.EqualTo(new NdctlResult(161, "", "namespace0.0: error injection not supported\n")));
        Assert.That(s.Ndctl("start-scrub"), Is.EqualTo(new NdctlResult(161, "", "error starting scrub: Operation not supported\n")));
    }
}
