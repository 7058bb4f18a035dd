using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>Worked scenarios S7, S8 and S13 (docs/kernel/fsdax.md): user loads of poisoned DAX pages, re-faults, madvise(MADV_HWPOISON).</summary>
public class FaultScenarioTests
{
    private const long FileLen = 64 * 1024;

    [TestCase("6.12", FailureRoute.Generic)]
    [TestCase("6.12", FailureRoute.NotifyFailure)]
    [TestCase("6.12", FailureRoute.NotifyFailureNoRmap)]
    [TestCase("6.4", FailureRoute.Generic)]
    [TestCase("5.19", FailureRoute.NotifyFailure)]
    [TestCase("5.10", FailureRoute.Generic)]
    public void S7_MmapLoadOfLatentPoison_SigbusMceerrAr_PageAligned_Lsb12_PageUnmapped(string kernel, FailureRoute route)
    {
        var s = new DaxScenario(kernel, route: route, huge: false);
        var fd = s.CreateFile("F", FileLen);
        var p = s.MapFile(fd, 64 * 1024);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.LoadByte(p + 100UL, out var b0).Signal, Is.Null);
        Assert.That(b0, Is.EqualTo(DaxScenario.Data(100)));
        Assert.That(s.P.LoadByte(p + 4096UL, out _).Signal, Is.Null, "page 1 mapped before the poison is consumed");
        s.PoisonFile("F", 4160);

        var r = s.P.LoadByte(p + 4168UL, out _);

        Assert.That(r.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, p.Value + 4096, 12, Forced: true)));
        Assert.That(s.P.Mm.PfnAt(p.Value + 4096), Is.Null, "unmapped (zapped) from the process");
        Assert.That(s.P.Mm.PfnAt(p.Value), Is.Not.Null, "page 0 stays");
        Assert.That(s.M.Phys.Frame(s.PhysOf("F", 4096).Pfn).IsHwPoison, Is.True, "PageHWPoison");
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.EqualTo($"{s.Fs.SectorOf("F", 4096)} 1\n"), "nfit update");
        Assert.That(s.M.State.Dmesg, Has.Some.Contains("recovery action for dax page: Recovered"));
    }

    [TestCase(FailureRoute.Generic, "mf_generic_kill_procs")]
    [TestCase(FailureRoute.NotifyFailure, "mf_dax_kill_procs")]
    [TestCase(FailureRoute.NotifyFailureNoRmap, "mf_generic_kill_procs")]
    public void S7_FailureRoute_IsChosenByTheMountOption(FailureRoute route, string fn)
    {
        var s = new DaxScenario("6.12", route: route, huge: false, trace: true);
        var fd = s.CreateFile("F", FileLen);
        var p = s.MapFile(fd, 64 * 1024);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        s.PoisonFile("F", 4160);
        var r = s.P.LoadByte(p + 4168UL, out _);
        Assert.That(r.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, p.Value + 4096, 12, Forced: true)));
        var trace = s.M.TraceText();
        Assert.That(trace, Does.Contain(fn + "() {"));
        var other = fn == "mf_dax_kill_procs" ? "mf_generic_kill_procs" : "mf_dax_kill_procs";
        Assert.That(trace, Does.Not.Contain(other + "()"));
    }

    [TestCase(FailureRoute.Generic)]
    [TestCase(FailureRoute.NotifyFailure)]
    public void S7_OtherMappers_EarlyKillGetsAo_LateKillGetsNothing_BothUnmapped(FailureRoute route)
    {
        var s = new DaxScenario("6.12", route: route, huge: false);
        var fd = s.CreateFile("F", FileLen);
        var early = s.M.Spawn("early");
        var late = s.M.Spawn("late");
        Assert.That(early.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_SET, Mman.PR_MCE_KILL_EARLY), Is.Zero);
        early.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        late.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var pe = s.MapFile(s.Open("F", Fcntl.O_RDONLY, early), 64 * 1024, p: early);
        var pl = s.MapFile(s.Open("F", Fcntl.O_RDONLY, late), 64 * 1024, p: late);
        Assert.That(early.LoadByte(pe + 4096UL, out _).Signal, Is.Null);
        Assert.That(late.LoadByte(pl + 4096UL, out _).Signal, Is.Null);
        var p = s.MapFile(fd, 64 * 1024);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        s.PoisonFile("F", 4160);

        Assert.That(s.P.LoadByte(p + 4168UL, out _).Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, p.Value + 4096, 12, Forced: true)));

        Assert.That(early.SignalsReceived, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AO, pe.Value + 4096, 12, Forced: false) }));
        Assert.That(late.SignalsReceived, Is.Empty);
        Assert.That(early.Mm.PfnAt(pe.Value + 4096), Is.Null);
        Assert.That(late.Mm.PfnAt(pl.Value + 4096), Is.Null, "unmap_mapping_range covers every process");
    }

    [TestCase(FailureRoute.Generic)]
    [TestCase(FailureRoute.NotifyFailure)]
    public void S7_PmdMapping_Lsb21_Whole2MiBUnmapped_AddrIsThe4KPage(FailureRoute route)
    {
        var s = new DaxScenario("6.12", route: route);
        var fd = s.CreateFile("H", 2L << 20);
        const ulong at = 0x7f00_0000_0000UL;
        var p = s.MapFile(fd, 2UL << 20, addr: at);
        Assert.That(p.Value, Is.EqualTo(at));
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.LoadByte(p, out _).Signal, Is.Null);
        Assert.That(s.P.Mm.ShiftAt(p.Value + 4096), Is.EqualTo(21), "a PMD mapping");
        s.PoisonFile("H", 5 * 4096 + 64);

        var r = s.P.LoadByte(p + (5UL * 4096 + 70), out _);

        Assert.That(r.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, p.Value + 5 * 4096, 21, Forced: true)));
        Assert.That(s.P.Mm.PfnAt(p.Value), Is.Null, "the whole 2 MiB range is unmapped");
        Assert.That(s.P.Mm.PfnAt(p.Value + (2UL << 20) - 4096), Is.Null);
    }

    [TestCase("6.12", Sig.BUS_MCEERR_AR, 12)]
    [TestCase("6.5", Sig.BUS_MCEERR_AR, 12)]
    [TestCase("6.4", Sig.BUS_ADRERR, 0)]
    [TestCase("5.19", Sig.BUS_ADRERR, 0)]
    public void S8_TouchingTheKnownBadPageAgain_SigbusAtTheExactAddress(string kernel, int code, int lsb)
    {
        var s = new DaxScenario(kernel, huge: false);
        var fd = s.CreateFile("F", FileLen);
        var p = s.MapFile(fd, 64 * 1024);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.LoadByte(p + 4096UL, out _).Signal, Is.Null);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.LoadByte(p + 4168UL, out _).Signal!.Value.Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
        var mcs = s.M.Mce.Log.Count;

        var again = s.P.LoadByte(p + 4100UL, out _);

        Assert.That(again.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, code, p.Value + 4100, (short)lsb, Forced: true)));
        Assert.That(s.M.Mce.Log.Count, Is.EqualTo(mcs), "refused by the fault path: no machine check");

        // Another process touching it for the first time gets the same from its fault.
        var q = s.M.Spawn("q");
        q.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var pq = s.MapFile(s.Open("F", Fcntl.O_RDONLY, q), 64 * 1024, p: q);
        Assert.That(q.LoadByte(pq + 4100UL, out _).Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, code, pq.Value + 4100, (short)lsb, Forced: true)));
        Assert.That(q.LoadByte(pq + 8192UL, out var ok).Signal, Is.Null);
        Assert.That(ok, Is.EqualTo(DaxScenario.Data(8192)));
    }

    [Test]
    public void S8_WithoutNfit_TheFaultMapsThePageAgain_AndS7Repeats()
    {
        var s = new DaxScenario("6.12", legacyE820: true, huge: false);
        var fd = s.CreateFile("F", FileLen);
        var p = s.MapFile(fd, 64 * 1024);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        s.PoisonFile("F", 4160);
        var ar = new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, p.Value + 4096, 12, Forced: true);
        Assert.That(s.P.LoadByte(p + 4168UL, out _).Signal, Is.EqualTo(ar));
        Assert.That(s.P.LoadByte(p + 4168UL, out _).Signal, Is.EqualTo(ar), "re-mapped, re-consumed");
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(2));
        Assert.That(s.P.LoadByte(p + 4100UL, out var b).Signal, Is.Null, "a clean line of the re-mapped page");
        Assert.That(b, Is.EqualTo(DaxScenario.Data(4100)));
    }

    [Test]
    public void S7_ThenRead2_WithoutNfit_PageIsOutOfTheDirectMap_Efault_AndAShortCountBeforeIt()
    {
        // set_mce_nospec (5.19+) removed the page from the direct map; legacy pmem has no badblock to refuse it, so
        // the kernel copy faults on the direct-map address and the exception fixup gives a short copy. [derived]
        var s = new DaxScenario("6.12", legacyE820: true, huge: false);
        var fd = s.CreateFile("F", FileLen);
        var p = s.MapFile(fd, 64 * 1024);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        s.PoisonFile("F", 4160);
        Assert.That(s.P.LoadByte(p + 4168UL, out _).Signal!.Value.Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
        Assert.That(s.M.KernelMap.IsNospec(s.PhysOf("F", 4096).Pfn), Is.True);
        Assert.That(s.P.Pread64(fd, s.U, 100, 4096), Is.EqualTo(-Errno.EFAULT));
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(4096));
        Assert.That(s.M.State.Alive, Is.True);
    }

    [TestCase("6.12", Sig.BUS_MCEERR_AR, 12)]
    [TestCase("6.4", Sig.BUS_ADRERR, 0)]
    public void S8_PmdFirstTouchOverAKnownBadSector_FallsBackToPtes_OnlyThatPageFails(string kernel, int code, int lsb)
    {
        var s = new DaxScenario(kernel);
        var fd = s.CreateFile("H", 2L << 20);
        s.MarkBad("H", 7 * 4096 + 512);
        const ulong at = 0x7f00_0000_0000UL;
        var p = s.MapFile(fd, 2UL << 20, addr: at);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);

        Assert.That(s.P.LoadByte(p + 10UL, out var b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(10)));
        Assert.That(s.P.Mm.ShiftAt(p.Value), Is.EqualTo(12), "fell back to a PTE");
        Assert.That(s.P.LoadByte(p + (7UL * 4096 + 600), out _).Signal,
            Is.EqualTo(new SigInfo(Sig.SIGBUS, code, p.Value + 7 * 4096 + 600, (short)lsb, Forced: true)));
        Assert.That(s.P.LoadByte(p + 8UL * 4096, out b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(8 * 4096)));
    }

    [TestCase("6.12")]
    [TestCase("6.4")]
    public void S13_MadviseHwpoisonOnFsdaxMapping_SigbusAr_NoBadblock_NextTouchReadsNormally(string kernel)
    {
        var s = new DaxScenario(kernel, huge: false);
        var fd = s.CreateFile("F", FileLen);
        var p = s.MapFile(fd, 64 * 1024);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.LoadByte(p + 4096UL, out _).Signal, Is.Null);

        Assert.That(s.P.Madvise(p.Value + 4096, 4096, Mman.MADV_HWPOISON), Is.Zero);

        Assert.That(s.P.SignalsReceived, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, p.Value + 4096, 12, Forced: true) }));
        Assert.That(s.P.Mm.PfnAt(p.Value + 4096), Is.Null);
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.Empty, "no media poison, no badblock");
        Assert.That(s.M.Phys.PoisonedLines(), Is.Empty);
        Assert.That(s.P.LoadByte(p + 4100UL, out var b).Signal, Is.Null, "the DAX fault does not test PageHWPoison");
        Assert.That(b, Is.EqualTo(DaxScenario.Data(4100)));
        Assert.That(s.P.Pread64(fd, s.U, 4096, 4096), Is.EqualTo(4096));
    }
}
