using KernelSim.Kernel;
using KernelSim.Mm;

namespace KernelSim.Arch.X86.Fpu;

/// <summary>
/// arch/x86/kernel/fpu/signal.c, the sigreturn fast path that restores the FPU registers straight from the
/// user signal frame — one of the three "all-or-nothing" callers of the 2021 fault-in discussion (FI4):
/// the whole XSTATE buffer must be loadable in one XRSTOR, so a partial fault-in is useless and the retry is
/// taken only when <c>fault_in_readable(buf, size) == 0</c>. Models the 5.14+ form (before 5.14 a failed
/// fast path fell back to a copy through a kernel buffer, with no retry loop). The XRSTOR "copy" only reads
/// the user bytes (registers are not modelled).
/// </summary>
public sealed class FpuSignal
{
    private readonly Machine _m;

    /// <summary>The routines for a machine.</summary>
    public FpuSignal(Machine machine) => _m = machine;

    /// <summary>
    /// __restore_fpregs_from_user → xrstor_from_user_sigframe (XSTATE_OP with EX_TYPE_FAULT_MCE_SAFE): XRSTOR of
    /// [buf, buf+size) under STAC. Returns 0, or the trap number the fixup put in RAX: X86_TRAP_PF (14) for a page
    /// fault (with page faults disabled nothing is fixed up), X86_TRAP_MC (18) for a recovered machine check.
    /// XRSTOR is not one of the instructions is_copy_from_user() decodes, so a #MC here is IN_KERNEL_RECOV without
    /// MCE_IN_KERNEL_COPYIN: no task work, no mce_count.
    /// </summary>
    internal int XrstorFromUserSigframe(UserPtr buf, ulong size)
    {
        using var _ = _m.Tracer.Fn("xrstor_from_user_sigframe", "x86");
        if (!CopyRoutines.AccessOk(buf, size)) return TrapNr.X86_TRAP_PF;
        using var u = _m.Cpu.Uaccess();
        var ok = _m.Cpu.Probe(Space.User, buf.Value, size, write: false, userMode: false, out var trap);
        if (trap.IsNone && ok == size) return 0;
        if (trap.Kind == TrapKind.MachineCheck)
        {
            _m.Mce.DoMachineCheck(new MceEvent(trap.Phys, UserMode: false, ExSite.FpuUserInsn, SourceIsUser: false, UserVaddr: 0));
            return _m.ExTable.LastTrapNr;
        }
        _m.Cpu.KernelTrap(trap, ExSite.FpuUserInsn);
        return _m.ExTable.LastTrapNr;
    }

    /// <summary>
    /// restore_fpregs_from_user (arch/x86/kernel/fpu/signal.c, 5.14+): XRSTOR with page faults disabled; on failure
    /// "Try to handle #PF, but anything else is fatal": a non-#PF trap → false; otherwise retry only when
    /// fault_in_readable(buf, size) (5.16+; fault_in_pages_readable before) faulted in the whole buffer, else false
    /// (sigreturn then fails with SIGSEGV). A retry that can never succeed — the XRSTOR keeps faulting on bytes the
    /// one-byte-per-page probe does not touch (a sub-page permission hole) — is the livelock Linus described; the
    /// model reports it as a livelock after <see cref="RetryGuard.DefaultLimit"/> retries.
    /// </summary>
    /// <param name="buf">The user XSTATE buffer (buf_fx).</param>
    /// <param name="size">fpu->fpstate->user_size.</param>
    /// <param name="retryAnyTrap">What-if: drop the X86_TRAP_PF check and retry after any trap, as the caller was
    /// discussed in Aug 2021 (no release has this form); a latent poisoned line then livelocks.</param>
    /// <returns>True when the registers were restored.</returns>
    public bool RestoreFpregsFromUser(UserPtr buf, ulong size, bool retryAnyTrap = false)
    {
        using var _ = _m.Tracer.Fn("restore_fpregs_from_user", "x86");
        var guard = new RetryGuard("restore_fpregs_from_user");
        while (true)
        {
            int ret;
            _m.Cpu.PagefaultDisable();
            try
            {
                ret = XrstorFromUserSigframe(buf, size);
            }
            finally
            {
                _m.Cpu.PagefaultEnable();
            }
            if (ret == 0) return true;
            if (ret != TrapNr.X86_TRAP_PF && !retryAnyTrap) return false;
            var all = _m.Profile.FaultInReturnsBytes ? _m.Gup.FaultInReadable(buf, size) == 0 : _m.Gup.FaultInPagesReadable(buf, size) == 0;
            if (!all) return false;
            guard.Pass(false);
        }
    }
}
