namespace KernelSim.Arch.X86;

/// <summary>Exception-table fixup types (arch/x86/include/asm/extable_fixup_types.h).</summary>
public enum ExTableType
{
    /// <summary>No entry: fixup_exception returns 0 and the caller oopses or panics.</summary>
    EX_TYPE_NONE = 0,
    EX_TYPE_DEFAULT = 1,
    EX_TYPE_FAULT = 2,
    EX_TYPE_UACCESS = 3,
    EX_TYPE_COPY = 4,
    EX_TYPE_CLEAR_FS = 5,
    EX_TYPE_FPU_RESTORE = 6,
    EX_TYPE_DEFAULT_MCE_SAFE = 14,
    EX_TYPE_FAULT_MCE_SAFE = 15,
}

/// <summary>Trap numbers (arch/x86/include/asm/trapnr.h).</summary>
public static class TrapNr
{
    public const int X86_TRAP_GP = 13;
    public const int X86_TRAP_PF = 14;
    public const int X86_TRAP_MC = 18;
}

/// <summary>
/// The faulting instruction sites of the modelled routines. Each has an exception-table entry (or none)
/// whose type depends on the release (see <see cref="ExceptionTable.TypeAt"/>).
/// </summary>
public enum ExSite
{
    /// <summary>memcpy / memmove / memset: no entry.</summary>
    Memcpy,
    /// <summary>memcpy_flushcache: no entry.</summary>
    MemcpyFlushcache,
    /// <summary>copy_mc_fragile (and __memcpy_mcsafe 4.18–5.9) loads.</summary>
    CopyMcFragileLoad,
    /// <summary>copy_mc_fragile stores (byte stores exact; word stores → copy_mc_fragile_handle_tail).</summary>
    CopyMcFragileStore,
    /// <summary>copy_mc_enhanced_fast_string's rep movsb.</summary>
    CopyMcFastString,
    /// <summary>memcpy_mcsafe_unrolled loads (4.8–4.17): _ASM_EXTABLE_FAULT.</summary>
    McsafeUnrolledLoad,
    /// <summary>copy_user_generic / rep_movs_alternative / copy_user_enhanced_fast_string.</summary>
    CopyUser,
    /// <summary>__copy_user_nocache.</summary>
    CopyUserNocache,
    /// <summary>__clear_user / rep_stos_alternative.</summary>
    ClearUser,
    /// <summary>get_user / __get_user / unsafe_get_user.</summary>
    GetUser,
    /// <summary>put_user / __put_user / unsafe_put_user.</summary>
    PutUser,
    /// <summary>copy_to_user_nofault / copy_from_user_nofault (pagefault_disable'd __copy_*_inatomic).</summary>
    CopyUserNofault,
    /// <summary>
    /// XRSTOR/FXRSTOR from a user signal frame (arch/x86/kernel/fpu/xstate.h XSTATE_OP / user_insn): _ASM_EXTABLE_FAULT
    /// (EX_TYPE_FAULT_MCE_SAFE) since "x86/fpu: Return proper error codes from user access functions" (5.14); the
    /// fixup returns the trap number.
    /// </summary>
    FpuUserInsn,
}
