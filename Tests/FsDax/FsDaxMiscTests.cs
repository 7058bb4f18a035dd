using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>Syscall argument checks, pre-4.19 memory_failure and the shared kill helpers.</summary>
public class FsDaxMiscTests
{
    [Test]
    public void Fallocate_ArgumentErrors()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", 4096);
        var ro = s.Open("F", Fcntl.O_RDONLY);
        Assert.That(s.P.Fallocate(fd, 0, -1, 10), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Fallocate(fd, 0, 0, 0), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.P.Fallocate(99, 0, 0, 10), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Fallocate(ro, 0, 0, 10), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Fallocate(fd, 0x1000, 0, 10), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_COLLAPSE_RANGE, 0, 4096), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(s.P.Fallocate(fd, 0, long.MaxValue - 10, 100), Is.EqualTo(-Errno.EFBIG));
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, 9000, 10), Is.Zero, "a punch past EOF does nothing");
    }

    [Test]
    public void Kernel418_UserLoadOfPoisonedDaxPage_MemoryFailureCannotHandleZoneDevice_PlainSigbus()
    {
        var s = new DaxScenario("4.18", cpu: KernelSim.Profiles.CpuModel.Fragile, huge: false);
        var fd = s.CreateFile("F", 8192);
        var p = s.MapFile(fd, 8192);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.LoadByte(p + 4168UL, out _).Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.SI_KERNEL, 0, 0, Forced: true)));
        Assert.That(s.M.State.Dmesg, Has.Some.Contains("Memory error not recovered"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void MemoryFailureHelpers_SignalCurrentAr_UnmapEveryMapper(bool daxRoute)
    {
        var s = new DaxScenario("6.12", huge: false);
        var fd = s.CreateFile("F", 8192);
        var p = s.MapFile(fd, 8192);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var q = s.M.Spawn("q");
        var pq = s.MapFile(s.Open("F", Fcntl.O_RDONLY, q), 8192, p: q);
        Assert.That(s.P.LoadByte(p + 4096UL, out _).Signal, Is.Null);
        Assert.That(q.LoadByte(pq + 4096UL, out _).Signal, Is.Null);
        var pfn = s.PhysOf("F", 4096).Pfn;

        var r = s.M.Run(s.P, "kernel", () => daxRoute ? s.M.MemoryFailure.MfDaxKillProcs(pfn, MfFlags.None) : s.M.MemoryFailure.MfGenericKillProcs(pfn, MfFlags.None));

        Assert.That(r.Value, Is.Zero);
        Assert.That(s.P.SignalsReceived, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, p.Value + 4096, 12, Forced: true) }));
        Assert.That(q.AllSignals, Is.Empty, "not early-kill");
        Assert.That(q.Mm.PfnAt(pq.Value + 4096), Is.Null);
        Assert.That(s.M.Phys.Frame(pfn).IsHwPoison, Is.True);
        Assert.That(s.M.Run(s.P, "kernel", () => s.M.MemoryFailure.MfGenericKillProcs(pfn, MfFlags.None)).Value, Is.EqualTo(-Errno.EBUSY),
            "dax_lock_folio: nobody maps it any more");
    }

    [Test]
    public void KillDax_PreRemove_NotifiesTheHolder_EveryMapperIsUnmappedAndSignalled()
    {
        var s = new DaxScenario("6.12", route: FailureRoute.NotifyFailure, huge: false);
        var fd = s.CreateFile("F", 8192);
        var p = s.MapFile(fd, 8192);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.LoadByte(p, out _).Signal, Is.Null);
        s.M.Run(() =>
        {
            s.Pmem.DaxDev!.Kill();
            return 0;
        });
        Assert.That(s.P.Mm.PfnAt(p.Value), Is.Null);
        Assert.That(s.P.SignalsReceived, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AO, p.Value, 12, Forced: false) }));
        Assert.That(s.P.Pread64(fd, s.U, 100, 0), Is.EqualTo(-Errno.ENXIO), "dax_direct_access on a dead device");
    }
}
