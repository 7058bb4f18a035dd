using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Kernel;

/// <summary>
/// A kernel copy from a poisoned user page (copy_from_user in a system call) through the releases
/// (B6, C5): 4.17 panic; 5.10 COPYIN recovered with SIGBUS AR (tail handler pretends success);
/// 5.15 short count plus SIGBUS AR; 5.16+ short count, no signal, page offlined.
/// </summary>
public class CopyInPoisonTests
{
    private static (Machine M, Process P, UserPtr U, KernelPtr K, ulong Pfn) Setup(string kernel, CpuModel? cpu = null)
    {
        var m = Sim.Boot(kernel, cpu);
        var p = m.Spawn("writer");
        var u = p.MapAnonymous(PageDefs.PAGE_SIZE);
        p.Fill(u, PageDefs.PAGE_SIZE, i => (byte)(i ^ 0x33));
        var pfn = p.Mm.PfnAt(u.Value)!.Value;
        m.InjectPoison(PhysAddr.FromPfn(pfn) + 0x200);
        var k = Sim.KernelFilled(m, PageDefs.PAGE_SIZE, 0xee);
        return (m, p, u, k, pfn);
    }

    [Test]
    public void CopyFromUser_417_PanicsTheMachine()
    {
        var (m, p, u, k, _) = Setup("4.17");
        var r = m.Run(p, "sys_write", () => m.Copy.CopyFromUser(k, u, 4096));
        Assert.That(r.Outcome, Is.EqualTo("panic: Fatal local machine check: Data load in unrecoverable area of kernel"));
        Assert.That(m.State.Status, Is.EqualTo(MachineStatus.Panicked));
    }

    [Test]
    public void CopyFromUser_510_PretendsSuccess_SigbusArAtDecodedAddress()
    {
        var (m, p, u, k, pfn) = Setup("5.10");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var r = m.Run(p, "sys_write", () => m.Copy.CopyFromUser(k, u, 4096));
        Assert.That(r.Value, Is.Zero, "copy_user_handle_tail returns 0 on trap 18 (5.10–5.14)");
        var got = Sim.ReadKernel(m, k, 4096);
        Assert.That(got[..0x200], Is.EqualTo(Enumerable.Range(0, 0x200).Select(i => (byte)(i ^ 0x33)).ToArray()));
        Assert.That(got[0x200..], Is.All.EqualTo((byte)0xee), "the rest was never written");
        Assert.That(m.Mce.Log.Single().Kflags, Is.EqualTo(KernelSim.Arch.X86.MceKflags.MCE_IN_KERNEL_COPYIN | KernelSim.Arch.X86.MceKflags.MCE_IN_KERNEL_RECOV));
        // memory_failure(AR) signals first with the page-aligned address; the mce_vaddr SIGBUS is not queued twice.
        Assert.That(p.SignalsReceived, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, u.Value, 12, true) }));
        Assert.That(m.Phys.Frame(pfn).IsHwPoison, Is.True);
    }

    [Test]
    public void CopyFromUser_515_ShortCount_TwoMachineChecks_SigbusAr()
    {
        var (m, p, u, k, _) = Setup("5.15");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var r = m.Run(p, "sys_write", () => m.Copy.CopyFromUser(k, u, 4096));
        Assert.That(r.Value, Is.EqualTo(4096UL - 0x200), "byte retry after #MC stops at the line");
        Assert.That(m.Mce.Log, Has.Count.EqualTo(2));
        Assert.That(Sim.ReadKernel(m, k, 4096)[0x200..], Is.All.EqualTo((byte)0), "copy_from_user zeroes the uncopied tail");
        Assert.That(p.SignalsReceived.Single().Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
    }

    [TestCase("5.16")]
    [TestCase("6.12")]
    public void CopyFromUser_516Plus_ShortCount_NoSignal_PageOfflined(string kernel)
    {
        var (m, p, u, k, pfn) = Setup(kernel);
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var r = m.Run(p, "sys_write", () => m.Copy.CopyFromUser(k, u, 4096));
        Assert.That(r.Value, Is.EqualTo(4096UL - 0x200));
        Assert.That(p.SignalsReceived, Is.Empty);
        Assert.That(p.Alive, Is.True);
        Assert.That(m.Phys.Frame(pfn).IsHwPoison, Is.True);
        Assert.That(p.Mm.IsHwPoisonEntry(u.Value), Is.True, "kill_me_never → memory_failure(pfn, 0) unmapped it");
        Assert.That(m.State.Dmesg, Has.Some.StartsWith("Kernel accessed poison in user space at"));
        // A later user touch gets SIGBUS AR at the exact address (WE19).
        var t = p.LoadByte(u + 0x10UL, out _);
        Assert.That(t.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, u.Value + 0x10, 12, true)));
    }

    [Test]
    public void CopyFromUser_612_RepMovsAlternativeWithoutErms_TakesTwoMachineChecks()
    {
        var (m, p, u, k, _) = Setup("6.12", CpuModel.Plain);
        var r = m.Run(p, "sys_write", () => m.Copy.CopyFromUser(k, u, 4096));
        Assert.That(r.Value, Is.EqualTo(4096UL - 0x200));
        Assert.That(m.Mce.Log, Has.Count.EqualTo(2), "word loop #MC, then the byte loop consumes the line again");
    }

    [Test]
    public void CopyFromUser_517_SkipRetry_NonErmsStopsAtDestinationAlignedQuadword()
    {
        var (m, p, u, k, _) = Setup("5.17", CpuModel.Plain);
        // Source 3 bytes into the page, destination 8-aligned: the poisoned line (offset 0x200) falls in the
        // quadword starting at source offset 0x1fd − 5 ... aligned to the destination: unit start 0x1f8.
        var r = m.Run(p, "sys_write", () => m.Copy.CopyFromUser(k, u + 3UL, 1000));
        Assert.That(r.Value, Is.EqualTo(1000UL - 0x1f8));
        Assert.That(m.Mce.Log, Has.Count.EqualTo(1));
    }

    [Test]
    public void ElevenMachineChecksBeforeReturnToUser_Panic()
    {
        var (m, p, u, k, _) = Setup("6.12");
        var r = m.Run(p, "sys_loop", () =>
        {
            for (var i = 0; i < 11; i++) m.Copy.RawCopyFromUser(k, u, 4096);
            return 0;
        });
        Assert.That(r.Outcome, Is.EqualTo("panic: Too many consecutive machine checks while accessing user data"));
    }

    [Test]
    public void MachineChecksOnTwoUserPages_Panic()
    {
        var (m, p, u, k, _) = Setup("6.12");
        var u2 = p.MapAnonymous(4096);
        p.Fill(u2, 4096, _ => 1);
        m.InjectPoison(PhysAddr.FromPfn(p.Mm.PfnAt(u2.Value)!.Value));
        var r = m.Run(p, "sys_two", () =>
        {
            m.Copy.RawCopyFromUser(k, u, 4096);
            m.Copy.RawCopyFromUser(k, u2, 4096);
            return 0;
        });
        Assert.That(r.Outcome, Is.EqualTo("panic: Consecutive machine checks to different user pages"));
    }

    [Test]
    public void NestedMachineCheckWhileMcipSet_ShutsDown()
    {
        var (m, p, u, k, _) = Setup("6.12");
        m.Mce.InjectNestedOnNext();
        var r = m.Run(p, "sys_write", () => m.Copy.RawCopyFromUser(k, u, 4096));
        Assert.That(r.Outcome, Does.StartWith("shutdown:"));
        Assert.That(m.State.Status, Is.EqualTo(MachineStatus.Shutdown));
    }
}
