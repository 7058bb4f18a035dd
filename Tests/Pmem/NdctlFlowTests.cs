using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>ndctl inject-error / start-scrub / list --media-errors flows and the deferred NFIT machine-check update.</summary>
public class NdctlFlowTests
{
    [Test]
    public void InjectWithNotify_Scrubs_ODirectReadEio_AlignedWriteClears_StatusEmpty()
    {
        var s = new PmemScenario();
        var ndctl = new Ndctl(s.M);
        var r = ndctl.Run("inject-error namespace0.0 --block=8 --count=8");
        Assert.That(r, Is.EqualTo(new NdctlResult(0, "", "")));
        // notify → ARS → badblocks, all run as deferred work at the end of the command.
        Assert.That(s.Badblocks, Is.EqualTo("8 8\n"));
        Assert.That(ndctl.Run("list --media-errors -n namespace0.0").Stdout, Does.Contain("\"badblock_count\":8").And.Contain("\"offset\":8,\n      \"length\":8"));
        Assert.That(ndctl.Run("inject-error --status namespace0.0").Stdout, Does.Contain("\"block\":8,\n      \"count\":8"));
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
        Assert.That(ndctl.Run("inject-error --status namespace0.0"), Is.EqualTo(new NdctlResult(0, "", "")));
        Assert.That(ndctl.Run("list --media-errors -n namespace0.0").Stdout, Does.Contain("\"badblock_count\":0\n"));
        Assert.That(s.P.Pread64(fd, s.U + 4096UL, 4096, 4096), Is.EqualTo(4096));
    }

    [Test]
    public void InjectNoNotify_LeavesBadblocksEmptyUntilScrub()
    {
        var s = new PmemScenario();
        var ndctl = new Ndctl(s.M);
        Assert.That(ndctl.Run("inject-error namespace0.0 -B 8 -n 8 --no-notify").Rc, Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(s.M.WorkQueue.Pending, Is.EqualTo(0));
        Assert.That(ndctl.StartScrub(), Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo("8 8\n"));
        Assert.That(s.Dev.Region.Bus.ScrubCount, Is.EqualTo(1));
    }

    [Test]
    public void StartScrub_ManualTiming_CompletesOnlyWhenWorkRuns_SecondStartIsBusy()
    {
        var s = new PmemScenario(timing: WorkTiming.Manual);
        var ndctl = new Ndctl(s.M);
        Assert.That(ndctl.InjectError("pmem0", 8, 1, notify: false), Is.EqualTo(0));
        Assert.That(ndctl.StartScrub(), Is.EqualTo(0));
        Assert.That(ndctl.StartScrub(), Is.EqualTo(-Errno.EBUSY));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(ndctl.WaitScrub(), Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo("8 1\n"));
    }

    [Test]
    public void Uninject_KeepsBadblocks_ReadsStillFail()
    {
        var s = new PmemScenario();
        var ndctl = new Ndctl(s.M);
        Assert.That(ndctl.InjectError("namespace0.0", 8), Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo("8 1\n"));
        Assert.That(ndctl.Uninject("namespace0.0", 8), Is.EqualTo(0));
        Assert.That(ndctl.Run("inject-error --status namespace0.0").Stdout, Is.EqualTo(""));
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
    public void ClearErrors_ZeroesKnownBadRanges()
    {
        var s = new PmemScenario();
        var ndctl = new Ndctl(s.M);
        Assert.That(ndctl.InjectError("namespace0.0", 8, 2), Is.EqualTo(0));
        Assert.That(ndctl.Run("clear-errors namespace0.0").Rc, Is.EqualTo(0));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(s.Media(8 * 512, 1024), Is.EqualTo(new byte[1024]));
        Assert.That(s.Media(10 * 512, 4), Is.EqualTo(PmemScenario.PatternBytes(10 * 512, 4)));
    }

    [TestCase("", 1)]
    [TestCase("frobnicate", 1)]
    [TestCase("inject-error namespace0.0", 1)]
    [TestCase("inject-error namespace0.0 --block=x", 1)]
    [TestCase("inject-error namespace9.9 --block=1", 1)]
    [TestCase("inject-error namespace0.0 --block=-1", 1)]
    [TestCase("inject-error namespace0.0 --block=999999999", 1)]
    [TestCase("list", 1)]
    public void BadCommandLines_ReturnRc1(string line, int rc)
    {
        var s = new PmemScenario();
        var r = new Ndctl(s.M).Run(line);
        Assert.That(r.Rc, Is.EqualTo(rc));
        Assert.That(r.Stderr, Is.Not.Empty);
    }

    [Test]
    public void LegacyE820_InjectAndScrubAreNotSupported()
    {
        var s = new PmemScenario(configure: o => o.LegacyE820 = true);
        var ndctl = new Ndctl(s.M);
        Assert.That(ndctl.InjectError("pmem0", 8), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(ndctl.StartScrub(), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(ndctl.Run("start-scrub").Stderr, Does.Contain("EOPNOTSUPP"));
    }
}
