using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using static KernelSim.Tests.Virtiofs.VfsScenario;

namespace KernelSim.Tests.Virtiofs;

/// <summary>Worked scenarios S1–S14 of docs/kernel/virtiofs.md, with the exact FUSE messages and outcomes.</summary>
public class VirtioFsReadScenarioTests
{
    private static VfsScenario S1DoneLogCleared(Action<VirtioFsOptions>? configure = null)
    {
        var s = Boot(configure);
        s.Share.Transport.ClearLog();
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 8192, 2 * MiB - 4096), Is.EqualTo(8192));
        return s;
    }

    [Test]
    public void S1_ColdReadSpanningTwoRanges_TwoSetupMappings_Returns8192()
    {
        var s = S1DoneLogCleared();
        Assert.That(s.Log, Has.Count.EqualTo(2));
        AssertSetup(s.Log[0], 5, 0, Read, 0);
        AssertSetup(s.Log[1], 5, (ulong)(2 * MiB), Read, (ulong)(2 * MiB));
        Assert.That(s.Log[1].Unique, Is.EqualTo(s.Log[0].Unique + 2));
        Assert.That(s.P.Peek(s.Buf, 8192), Is.EqualTo(Expected(2 * MiB - 4096, 8192)));
        Assert.That(s.Dax.NrFreeRanges, Is.EqualTo(510));
        Assert.That(s.Dax.NrBusyRanges, Is.EqualTo(2));
        Assert.That(s.Inode().Ranges.Select(r => r.Writable), Is.All.False, "both ranges read-only");
        Assert.That(s.Dax.WorkerKicks, Is.Zero, "510 ≥ threshold 102: the worker is not kicked");
        Assert.That(s.Dax.FreeThreshold, Is.EqualTo(102));
    }

    [Test]
    public void S2_HostTruncatedTo2MiB_UpstreamAsync_ReadLivelocksAfterFirst4096()
    {
        var s = S1DoneLogCleared();
        s.P.Fill(s.Buf, 8192, _ => 0xee);
        Assert.That(s.Share.Host.Truncate("F", 2 * MiB), Is.True);
        s.Share.Transport.ClearLog();

        var r = s.P.Pread64(s.Fd, s.Buf, 8192, 2 * MiB - 4096);

        Assert.That(r, Is.EqualTo(Machine.NoReturn), "read() never returns");
        Assert.That(s.P.State, Is.EqualTo(ProcessState.Livelocked));
        Assert.That(s.P.StuckReason, Does.Contain("kvm_async_pf"));
        Assert.That(s.P.AllSignals, Is.Empty, "no signal");
        Assert.That(s.M.State.Alive, Is.True, "the VM keeps running; only the task is stuck");
        Assert.That(s.Log, Is.Empty, "no FUSE traffic: both ranges are mapped and the cached size is still 4 MiB");
        Assert.That(s.P.Peek(s.Buf, 4096), Is.EqualTo(Expected(2 * MiB - 4096, 4096)), "iteration 1 copied the bytes still inside the file");
        Assert.That(s.P.Peek(s.Buf + 4096UL, 4096), Is.All.EqualTo((byte?)0xee), "iteration 2 copied nothing");
        Assert.That(s.Share.Vmm!.FaultLog.Single(), Does.Contain("window offset 0x200000").And.Contain("beyond host EOF"));
    }

    [Test]
    public void S2_HostTruncated_UpstreamSyncPath_VmStopsWithKvmRunFailed()
    {
        var s = S1DoneLogCleared(o => o.HostFaultPolicy = HostFaultPolicy.UpstreamSyncVmStop);
        s.Share.Host.Truncate("F", 2 * MiB);
        var r = s.P.Pread64(s.Fd, s.Buf, 8192, 2 * MiB - 4096);
        Assert.That(r, Is.EqualTo(Machine.NoReturn));
        Assert.That(s.M.State.Status, Is.EqualTo(MachineStatus.VmStopped));
        Assert.That(s.M.State.Dmesg, Does.Contain("error: kvm run failed Bad address"));
        Assert.That(s.M.Run(s.P, "sys_getpid", () => 0L).Returned, Is.False, "nothing in the guest runs any more");
    }

    [Test]
    public void S2_Variant_StatAfterAttrTimeout_GetattrShrinksCachedSize_ReadReturns4096()
    {
        var s = S1DoneLogCleared();
        s.Share.Host.Truncate("F", 2 * MiB);
        s.Share.Clock.Advance(TimeSpan.FromSeconds(1.5));
        s.Share.Transport.ClearLog();
        Assert.That(s.Share.Stat(s.P, s.Share.PathOf("F")), Is.EqualTo(2 * MiB));
        Assert.That(s.Log.Select(m => m.Opcode), Is.EqualTo(new[] { FuseOpcode.FUSE_LOOKUP, FuseOpcode.FUSE_GETATTR }).Or.EqualTo(new[] { FuseOpcode.FUSE_LOOKUP }));
        s.Share.Transport.ClearLog();
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 8192, 2 * MiB - 4096), Is.EqualTo(4096), "second iteration clamped to EOF");
        Assert.That(s.Log, Is.Empty);
        Assert.That(s.Share.Vmm!.FaultLog, Is.Empty, "no host fault");
        Assert.That(s.P.State, Is.EqualTo(ProcessState.Running));
    }

    [Test]
    public void SameHostTruncationRead_UnderEachPolicy_SideBySide()
    {
        var outcomes = new Dictionary<HostFaultPolicy, string>();
        foreach (var policy in Enum.GetValues<HostFaultPolicy>())
        {
            var s = S1DoneLogCleared(o => o.HostFaultPolicy = policy);
            s.Share.Host.Truncate("F", 2 * MiB);
            var r = s.P.Pread64(s.Fd, s.Buf, 8192, 2 * MiB - 4096);
            outcomes[policy] = r != Machine.NoReturn ? $"returned {r}"
                : s.M.State.Status == MachineStatus.VmStopped ? "vm stopped"
                : s.P.State == ProcessState.Livelocked ? "livelock" : "other";
        }
        Assert.That(outcomes, Is.EqualTo(new Dictionary<HostFaultPolicy, string>
        {
            [HostFaultPolicy.UpstreamAsyncLivelock] = "livelock",
            [HostFaultPolicy.UpstreamSyncVmStop] = "vm stopped",
            [HostFaultPolicy.ProposedExitToUserVmStop] = "vm stopped",
            [HostFaultPolicy.ProposedGuestSigbus] = "vm stopped", // kernel-mode access: no delivery mechanism
            [HostFaultPolicy.ProposedMachineCheck] = "returned 4096", // mc-safe copy: short count
        }));
    }

    [Test]
    public void MachineCheckWhatIf_ReadStartingBeyondHostEof_ReturnsEfault()
    {
        var s = S1DoneLogCleared(o => o.HostFaultPolicy = HostFaultPolicy.ProposedMachineCheck);
        s.Share.Host.Truncate("F", 2 * MiB);
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 2 * MiB), Is.EqualTo(-Errno.EFAULT));
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(1));
        Assert.That(s.M.State.Alive, Is.True);
    }

    [Test]
    public void S3_NonPageAlignedHostTruncation_ReadReturns3996DataAnd100Zeros()
    {
        var s = Boot();
        s.Share.Host.Truncate("F", 2 * MiB - 100);
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 2 * MiB - 4096), Is.EqualTo(4096));
        var got = s.P.Peek(s.Buf, 4096);
        Assert.That(got[..3996], Is.EqualTo(Expected(2 * MiB - 4096, 3996)));
        Assert.That(got[3996..], Is.All.EqualTo((byte?)0));
        Assert.That(s.Share.Vmm!.FaultLog, Is.Empty);
    }
}
