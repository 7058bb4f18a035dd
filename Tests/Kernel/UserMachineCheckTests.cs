using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Kernel;

/// <summary>User-mode consumption of poison (B6–B8, WE19) and memory_failure's signals (MF4, MF5).</summary>
public class UserMachineCheckTests
{
    private static (Machine M, Process P, UserPtr Buf) Setup(string kernel = "6.12")
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn("victim");
        var buf = p.MapAnonymous(4 * PageDefs.PAGE_SIZE);
        Assert.That(p.Fill(buf, 4 * PageDefs.PAGE_SIZE, i => (byte)i).Completed(4 * PageDefs.PAGE_SIZE), Is.True);
        return (m, p, buf);
    }

    private static PhysAddr PaOf(Process p, UserPtr va) =>
        new((p.Mm.PfnAt(va.Value)!.Value << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(va.Value));

    [Test]
    public void UserLoad_WE19_PoisonedLine_SigbusMceerrArPageAlignedLsb12_PageUnmapped_SecondTouchExact()
    {
        var (m, p, buf) = Setup();
        var target = buf + 0x1234UL;
        var pfn = p.Mm.PfnAt(target.Value)!.Value;
        m.InjectPoison(PaOf(p, target));
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);

        var r = p.LoadByte(target, out _);

        Assert.That(r.Done, Is.Zero);
        Assert.That(r.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, (buf + 0x1000UL).Value, 12, true)));
        Assert.That(p.Mm.IsHwPoisonEntry(target.Value), Is.True, "the page is unmapped into a hwpoison entry");
        Assert.That(p.Mm.PfnAt(target.Value), Is.Null);
        Assert.That(m.Phys.Frame(pfn).IsHwPoison, Is.True);
        Assert.That(m.KernelMap.IsNospec(pfn), Is.True, "set_mce_nospec unmapped it from the direct map");
        Assert.That(m.Mce.Log.Single().Context, Is.EqualTo(KernelSim.Arch.X86.McContext.IN_USER));
        Assert.That(p.Alive, Is.True);

        // Second touch: #PF on the hwpoison entry → do_sigbus with the exact address.
        var r2 = p.LoadByte(target, out _);
        Assert.That(r2.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, target.Value, 12, true)));
        Assert.That(m.Mce.Log, Has.Count.EqualTo(1), "no second machine check: the page is gone");
        Assert.That(m.State.Dmesg, Has.Some.Contains("due to hardware memory corruption fault at"));
    }

    [Test]
    public void UserLoad_PoisonedLine_DefaultDisposition_KillsProcess()
    {
        var (m, p, buf) = Setup();
        m.InjectPoison(PaOf(p, buf + 64UL));
        var r = p.Load(buf, new byte[256]);
        Assert.That(r.Done, Is.EqualTo(64UL), "the loads before the poisoned line completed");
        Assert.That(p.State, Is.EqualTo(ProcessState.Killed));
        Assert.That(p.KilledBy!.Value.Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
        Assert.That(p.KilledBy!.Value.Addr, Is.EqualTo(buf.Value));
        Assert.That(m.State.Alive, Is.True);
    }

    [Test]
    public void UserLoad_IgnoredSigbus_IsForcedAnyway()
    {
        var (m, p, buf) = Setup();
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Ignore);
        m.InjectPoison(PaOf(p, buf));
        p.LoadByte(buf, out _);
        Assert.That(p.State, Is.EqualTo(ProcessState.Killed), "force_sig_mceerr resets SIG_IGN to SIG_DFL");
    }

    [Test]
    public void SharedPage_EarlyKillProcessGetsAo_LateProcessGetsArOnTouch()
    {
        var m = Sim.Boot();
        var shm = new ShmemObject("memfd:shared", PageDefs.PAGE_SIZE);
        var a = m.Spawn("consumer");
        var b = m.Spawn("early");
        var c = m.Spawn("late");
        var va = new UserPtr((ulong)a.Mmap(0, PageDefs.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, shm));
        var vb = new UserPtr((ulong)b.Mmap(0, PageDefs.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, shm));
        var vc = new UserPtr((ulong)c.Mmap(0, PageDefs.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, shm));
        a.Fill(va, 4096, _ => 0x5a);
        b.LoadByte(vb, out _);
        c.LoadByte(vc, out var seen);
        Assert.That(seen, Is.EqualTo(0x5a));
        Assert.That(b.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_SET, Mman.PR_MCE_KILL_EARLY), Is.Zero);
        foreach (var p in new[] { a, b, c }) p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        m.InjectPoison(PaOf(a, va + 128UL));

        var r = a.LoadByte(va + 130UL, out _);

        Assert.That(r.Signal!.Value.Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
        Assert.That(r.Signal!.Value.Addr, Is.EqualTo(va.Value));
        Assert.That(b.SignalsReceived, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AO, vb.Value, 12, false) }));
        Assert.That(c.SignalsReceived, Is.Empty, "late-kill process is not told");
        var rc = c.LoadByte(vc + 5UL, out _);
        Assert.That(rc.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, vc.Value + 5, 12, true)));
    }

    [Test]
    public void SysctlEarlyKill_AppliesToProcessesWithoutPrctl()
    {
        var m = Sim.Boot();
        m.MemoryFailure.EarlyKill = true;
        var shm = new ShmemObject("memfd:x", PageDefs.PAGE_SIZE);
        var a = m.Spawn("a");
        var b = m.Spawn("b");
        var va = new UserPtr((ulong)a.Mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, shm));
        var vb = new UserPtr((ulong)b.Mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, shm));
        a.Fill(va, 4096, _ => 1);
        b.LoadByte(vb, out _);
        b.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(b.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_SET, Mman.PR_MCE_KILL_LATE), Is.Zero);
        m.InjectPoison(PaOf(a, va));
        a.LoadByte(va, out _);
        Assert.That(b.SignalsReceived, Is.Empty, "a per-process PR_MCE_KILL_LATE wins over the sysctl");
        Assert.That(a.State, Is.EqualTo(ProcessState.Killed));
    }

    [Test]
    public void Kernel510_AlreadyPoisonedPageTouchedAgainWithoutUnmap_IsReportedAsLivelock()
    {
        // 5.10 memory_failure returns 0 for an already-poisoned page and sends nothing: a user load of a
        // still-mapped poisoned page re-faults forever (MF2: fixed by kill_accessing_process in 5.13).
        var m = Sim.Boot("5.10");
        var p = m.Spawn();
        var buf = p.MapAnonymous(4096);
        p.Fill(buf, 4096, _ => 7);
        var pfn = p.Mm.PfnAt(buf.Value)!.Value;
        m.Phys.Frame(pfn).Flags |= PageFlags.PG_hwpoison; // poisoned earlier but still mapped (an unmap failure)
        m.InjectPoison(PaOf(p, buf));
        var r = p.LoadByte(buf, out _);
        Assert.That(r.Outcome, Does.StartWith("livelock:"));
        Assert.That(p.State, Is.EqualTo(ProcessState.Livelocked));
    }
}
