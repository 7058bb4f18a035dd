using KernelSim.Arch.X86;
using KernelSim.Arch.X86.Fpu;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Fs;

/// <summary>
/// WE20-like: write(2) from a user page with a latent poisoned line, and the 2021 all-or-nothing retry pattern
/// (restore_fpregs_from_user) with poison and with a sub-page permission hole (FI4, WE20).
/// </summary>
public class PoisonedSourceTests
{
    // Machine checks: 6.15 copy (#1) + copy_folio_from_iter_atomic's retry at the line (#2) + the next chunk's
    // copy (#3) + fault_in_iov_iter_readable's probe (#4); 5.19/6.12 copy (#1) + the pre-fault probe of the next
    // chunk (#2); 5.16 copy_user tail byte retry after #MC (#1, #2) + pre-fault probe (#3).
    [TestCase("6.15", 512L, 4)]
    [TestCase("6.12", 512L, 2)]
    [TestCase("5.19", 512L, 2)]
    [TestCase("5.16", 512L, 3)]
    public void WE20_WriteFromPoisonedPage_ReturnsBytesBeforeLine_NoSignal(string kernel, long expected, int mces)
    {
        var s = new FsScenario(kernel, WriteEndPolicy.Block, pages: 1);
        s.Poison(0x200);
        var fd = s.OpenNew();
        var r = s.P.Write(fd, s.U, 4096);
        Assert.That(r, Is.EqualTo(expected));
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(mces));
        Assert.That(s.M.State.Alive, Is.True);
        Assert.That(s.Fs.ReadData("f"), Is.EqualTo(FsScenario.PatternBytes(0, (int)expected)));
        Assert.That(s.P.FileAt(fd)!.Pos, Is.EqualTo(expected));
        Assert.That(s.P.AllSignals, Is.Empty, "kill_me_never: no signal on 5.16+");
        Assert.That(s.P.Alive, Is.True);
    }

    [TestCase("5.10")]
    [TestCase("5.13")]
    public void WE20_PretendSuccessEra_WritesWholePage_SigbusAr(string kernel)
    {
        var s = new FsScenario(kernel, WriteEndPolicy.Block, pages: 1);
        s.Poison(0x200);
        var fd = s.OpenNew();
        var r = s.P.Write(fd, s.U, 4096);
        Assert.That(r, Is.EqualTo(4096));
        // The tail handler pretended success: the page cache got the bytes before the line and stale (zero) data.
        var data = s.Fs.ReadData("f");
        Assert.That(data[..0x200], Is.EqualTo(FsScenario.PatternBytes(0, 0x200)));
        Assert.That(data[0x200..], Is.All.EqualTo((byte)0));
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(1));
        // memory_failure(MF_ACTION_REQUIRED) from kill_me_maybe signals first, with the page-aligned address.
        Assert.That(s.P.AllSignals, Is.EqualTo(new[] { new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, s.U.Value, 12, true) }));
        Assert.That(s.P.State, Is.EqualTo(ProcessState.Killed));
    }

    // copy_user_generic byte retry after #MC (#1, #2), then iov_iter_fault_in_readable's probe of U+0x200 (#3).
    private const int MceCount515 = 3;

    [Test]
    public void WE20_515_ShortWrite_AndSigbusAr()
    {
        var s = new FsScenario("5.15", WriteEndPolicy.Block, pages: 1);
        s.Poison(0x200);
        var fd = s.OpenNew();
        var r = s.P.Write(fd, s.U, 4096);
        Assert.That(r, Is.EqualTo(512));
        Assert.That(s.Fs.ReadData("f"), Is.EqualTo(FsScenario.PatternBytes(0, 512)));
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(MceCount515));
        var sig = s.P.AllSignals.Single();
        Assert.That(sig.Signo, Is.EqualTo(Sig.SIGBUS));
        Assert.That(sig.Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
    }

    [TestCase("5.13")]
    [TestCase("5.16")]
    [TestCase("6.12")]
    [TestCase("6.15")]
    public void SubpageHole_ProgressBasedWrite_ReturnsBytesBeforeHole_NoLivelock(string kernel)
    {
        var s = new FsScenario(kernel, WriteEndPolicy.Block, pages: 1);
        s.P.Mm.SetSubpageProtection(s.U + 0x200UL, 16, accessible: false);
        var fd = s.OpenNew();
        Assert.That(s.P.Write(fd, s.U, 4096), Is.EqualTo(512));
        Assert.That(s.Fs.ReadData("f"), Is.EqualTo(FsScenario.PatternBytes(0, 512)));
        Assert.That(s.P.Alive, Is.True);
    }

    // ---- restore_fpregs_from_user --------------------------------------------------------------------

    private const ulong XstateSize = 2696; // a typical AVX-512-less user_size

    [TestCase("6.12")]
    [TestCase("5.15")]
    public void FpuRestore_ResidentBuffer_Succeeds(string kernel)
    {
        var s = new FsScenario(kernel, pages: 1);
        var fpu = new FpuSignal(s.M);
        var r = s.M.Run(s.P, "rt_sigreturn", () => fpu.RestoreFpregsFromUser(s.U + 64UL, XstateSize));
        Assert.That(r.Returned, Is.True);
        Assert.That(r.Value, Is.True);
    }

    [Test]
    public void FpuRestore_NotYetFaultedIn_FaultsInAndRetriesOnce()
    {
        var s = new FsScenario("6.12", pages: 1);
        var fresh = s.P.MapAnonymous(PageDefs.PAGE_SIZE); // not touched yet: no PTE
        var fpu = new FpuSignal(s.M);
        var r = s.M.Run(s.P, "rt_sigreturn", () => fpu.RestoreFpregsFromUser(fresh, XstateSize));
        Assert.That(r.Value, Is.True);
    }

    [Test]
    public void FpuRestore_SecondPageUnmapped_FaultInFails_ReturnsFalse()
    {
        var s = new FsScenario("6.12", pages: 2);
        s.UnmapPage(1);
        var fpu = new FpuSignal(s.M);
        var r = s.M.Run(s.P, "rt_sigreturn", () => fpu.RestoreFpregsFromUser(s.U + 0x800UL, XstateSize));
        Assert.That(r.Returned, Is.True);
        Assert.That(r.Value, Is.False);
    }

    [TestCase("5.16")]
    [TestCase("6.12")]
    public void FpuRestore_SubpageHole_FaultInSucceedsForever_Livelock(string kernel)
    {
        var s = new FsScenario(kernel, pages: 1);
        s.P.Mm.SetSubpageProtection(s.U + 16UL, 16, accessible: false);
        var fpu = new FpuSignal(s.M);
        var r = s.M.Run(s.P, "rt_sigreturn", () => fpu.RestoreFpregsFromUser(s.U, XstateSize));
        Assert.That(r.Returned, Is.False);
        Assert.That(r.Outcome, Is.EqualTo("livelock: no progress after 8 retries in restore_fpregs_from_user"));
        Assert.That(s.P.State, Is.EqualTo(ProcessState.Livelocked));
        Assert.That(s.M.State.Alive, Is.True);
    }

    [TestCase("6.12")]
    [TestCase("5.16")]
    public void FpuRestore_PoisonedLine_McIsNotRetried_ReturnsFalse(string kernel)
    {
        var s = new FsScenario(kernel, pages: 1);
        s.Poison(0x200);
        var fpu = new FpuSignal(s.M);
        var r = s.M.Run(s.P, "rt_sigreturn", () => fpu.RestoreFpregsFromUser(s.U, XstateSize));
        Assert.That(r.Returned, Is.True);
        Assert.That(r.Value, Is.False, "ret == X86_TRAP_MC != X86_TRAP_PF → false");
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(1));
        Assert.That(s.M.Mce.Log[0].Context, Is.EqualTo(McContext.IN_KERNEL_RECOV));
        Assert.That(s.M.Mce.Log[0].Kflags, Is.EqualTo(MceKflags.MCE_IN_KERNEL_RECOV));
        Assert.That(s.P.AllSignals, Is.Empty);
    }

    [Test]
    public void FpuRestore_PoisonedLine_RetryOnAnyTrap_WhatIf_Livelock()
    {
        var s = new FsScenario("6.12", pages: 1);
        s.Poison(0x200);
        var fpu = new FpuSignal(s.M);
        var r = s.M.Run(s.P, "rt_sigreturn", () => fpu.RestoreFpregsFromUser(s.U, XstateSize, retryAnyTrap: true));
        Assert.That(r.Outcome, Is.EqualTo("livelock: no progress after 8 retries in restore_fpregs_from_user"));
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(8), "one #MC per XRSTOR; fault_in_readable probes U+0 only");
        Assert.That(s.M.State.Alive, Is.True);
        Assert.That(s.P.State, Is.EqualTo(ProcessState.Livelocked));
    }

    [Test]
    public void FpuRestore_PoisonedLine_510_PlainExtableEntry_Panics()
    {
        var s = new FsScenario("5.10", pages: 1);
        s.Poison(0x200);
        var fpu = new FpuSignal(s.M);
        var r = s.M.Run(s.P, "rt_sigreturn", () => fpu.RestoreFpregsFromUser(s.U, XstateSize));
        Assert.That(r.Outcome, Is.EqualTo("panic: Fatal local machine check: Data load in unrecoverable area of kernel"));
    }
}
