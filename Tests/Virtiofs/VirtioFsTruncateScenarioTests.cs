using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using static KernelSim.Tests.Virtiofs.VfsScenario;

namespace KernelSim.Tests.Virtiofs;

/// <summary>Worked scenarios S4–S6 of docs/kernel/virtiofs.md: writes, mappings and truncation racing the host.</summary>
public class VirtioFsTruncateScenarioTests
{
    [Test]
    public void S4_WriteIntoHostTruncatedRange_UpgradeSetupMapping_ThenLivelock_HostNotExtended()
    {
        var s = S1Done();
        s.Share.Host.Truncate("F", 2 * MiB);
        var r = s.P.Pwrite64(s.Fd, s.Buf, 4096, 3 * MiB);
        Assert.That(r, Is.EqualTo(Machine.NoReturn));
        Assert.That(s.P.State, Is.EqualTo(ProcessState.Livelocked));
        AssertSetup(s.Log.Single(), 5, (ulong)(2 * MiB), ReadWrite, (ulong)(2 * MiB));
        Assert.That(s.Log.Single().Error, Is.Zero, "the daemon/VMM happily remaps beyond EOF");
        Assert.That(s.F.Size, Is.EqualTo(2 * MiB), "the host file is not extended");
        Assert.That(s.Share.Vmm!.FaultLog.Single(), Does.Contain("window offset 0x300000"));
    }

    [Test]
    public void S4_Variant_RefreshedSize_ExtendingWriteGoesThroughFuseWrite()
    {
        var s = S1Done();
        s.Share.Host.Truncate("F", 2 * MiB);
        s.Share.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(s.Share.Stat(s.P, s.Share.PathOf("F")), Is.EqualTo(2 * MiB));
        s.Share.Transport.ClearLog();
        s.P.Fill(s.Buf, 4096, i => (byte)(i + 1));
        Assert.That(s.P.Pwrite64(s.Fd, s.Buf, 4096, 3 * MiB), Is.EqualTo(4096));
        var w = s.Log.Single();
        Assert.That((w.Opcode, w.Offset, w.Size, w.Len, w.Error), Is.EqualTo((FuseOpcode.FUSE_WRITE, (ulong)(3 * MiB), 4096UL, 40u + 40 + 4096, (int?)0)));
        Assert.That(w.ReplyBytes, Is.EqualTo(16 + 8), "fuse_write_out");
        Assert.That(s.F.Size, Is.EqualTo(3 * MiB + 4096));
        var data = s.F.ReadAll();
        Assert.That(data.AsSpan((int)(2 * MiB), (int)MiB).IndexOfAnyExcept((byte)0), Is.EqualTo(-1), "zero-filled hole");
        Assert.That(data[(int)(3 * MiB)..], Is.EqualTo(Enumerable.Range(0, 4096).Select(i => (byte)(i + 1))));
        Assert.That(s.Inode().Size, Is.EqualTo(3 * MiB + 4096));
    }

    private static (VfsScenario S, ulong Va) MappedAndTouched(Action<VirtioFsOptions>? configure = null)
    {
        var s = Boot(configure);
        var va = (ulong)s.Share.Mmap(s.P, (ulong)FSize, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, s.Fd);
        Assert.That((long)va, Is.GreaterThan(0));
        Assert.That(s.P.LoadByte(new UserPtr(va + (ulong)(3 * MiB)), out var b).Completed(1), Is.True);
        Assert.That(b, Is.EqualTo(HostShare_Pattern(3 * MiB)));
        s.Share.Transport.ClearLog();
        return (s, va);
    }

    [Test]
    public void S5_MmapThenHostTruncate_UserLoadLivelocks_NoSigbus_OtherTasksRun()
    {
        var (s, va) = MappedAndTouched();
        s.Share.Host.Truncate("F", 2 * MiB);
        var r = s.P.LoadByte(new UserPtr(va + (ulong)(3 * MiB)), out _);
        Assert.That(r.Outcome, Does.StartWith("livelock"));
        Assert.That(r.Signal, Is.Null);
        Assert.That(s.P.State, Is.EqualTo(ProcessState.Livelocked));
        Assert.That(s.P.AllSignals, Is.Empty, "P never receives SIGBUS");
        Assert.That(s.Log, Is.Empty, "the guest PTE is still valid: no guest fault, no FUSE traffic");
        var q = s.M.Spawn("other");
        Assert.That(q.Open(s.Share.PathOf("F"), Fcntl.O_RDONLY), Is.GreaterThanOrEqualTo(0), "other guest tasks keep running");
    }

    [Test]
    public void S5_ProposedGuestSigbus_UserLoadGetsSigbus()
    {
        var (s, va) = MappedAndTouched(o => o.HostFaultPolicy = HostFaultPolicy.ProposedGuestSigbus);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        s.Share.Host.Truncate("F", 2 * MiB);
        var r = s.P.LoadByte(new UserPtr(va + (ulong)(3 * MiB) + 5), out _);
        Assert.That(r.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_ADRERR, va + (ulong)(3 * MiB) + 5, 0, Forced: true)));
        Assert.That(s.M.State.Alive, Is.True);
    }

    [Test]
    public void S5_ProposedMachineCheck_UserLoadGetsSigbusMceerrAr()
    {
        var (s, va) = MappedAndTouched(o => o.HostFaultPolicy = HostFaultPolicy.ProposedMachineCheck);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        s.Share.Host.Truncate("F", 2 * MiB);
        var r = s.P.LoadByte(new UserPtr(va + (ulong)(3 * MiB) + 5), out _);
        Assert.That(r.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, va + (ulong)(3 * MiB), 12, Forced: true)));
    }

    [Test]
    public void S5_SameGuestTruncate_PtesDroppedFirst_UserLoadGetsGuestSigbus()
    {
        var (s, va) = MappedAndTouched();
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var q = s.M.Spawn("truncater");
        var qfd = (int)q.Open(s.Share.PathOf("F"), Fcntl.O_RDWR);
        Assert.That(s.Share.Ftruncate(q, qfd, 2 * MiB), Is.Zero);
        var r = s.P.LoadByte(new UserPtr(va + (ulong)(3 * MiB)), out _);
        Assert.That(r.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_ADRERR, va + (ulong)(3 * MiB), 0, Forced: true)));
        Assert.That(s.Share.Vmm!.FaultLog, Is.Empty, "purely guest-side");
    }

    [Test]
    public void S6_GuestTruncateWithLiveMapping_SetattrOnly_NoRemoveMapping_PtesGone()
    {
        var (s, va) = MappedAndTouched();
        var q = s.M.Spawn("truncater");
        var qfd = (int)q.Open(s.Share.PathOf("F"), Fcntl.O_RDWR);
        s.Share.Transport.ClearLog();
        Assert.That(s.Share.Ftruncate(q, qfd, 2 * MiB), Is.Zero);
        var m = s.Log.Single();
        Assert.That((m.Opcode, m.Valid, m.Size, m.Len), Is.EqualTo((FuseOpcode.FUSE_SETATTR, FuseConst.FATTR_SIZE | FuseConst.FATTR_FH, (ulong)(2 * MiB), 40u + 88)));
        Assert.That(m.ReplyBytes, Is.EqualTo(16 + 104), "fuse_attr_out");
        Assert.That(s.F.Size, Is.EqualTo(2 * MiB));
        Assert.That(s.Inode().Size, Is.EqualTo(2 * MiB));
        Assert.That(s.P.Mm.PfnAt(va + (ulong)(3 * MiB)), Is.Null, "P's PTE beyond the new EOF was removed");
        Assert.That(s.Inode().RangeAt(1), Is.Not.Null, "range idx 1 stays assigned");
        s.Share.Transport.ClearLog();
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 4096, 3 * MiB), Is.Zero, "read at 3 MiB returns 0");
        Assert.That(s.P.Pwrite64(s.Fd, s.Buf, 4096, 3 * MiB), Is.EqualTo(4096));
        Assert.That(s.Log.Single().Opcode, Is.EqualTo(FuseOpcode.FUSE_WRITE), "extending write through FUSE_WRITE");
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var r = s.P.LoadByte(new UserPtr(va + (ulong)(3 * MiB) + 8192), out _);
        Assert.That(r.Signal?.Code, Is.EqualTo(Sig.BUS_ADRERR));
    }
}
