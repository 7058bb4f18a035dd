using KernelSim.Profiles;

namespace KernelSim.Arch.X86;

/// <summary>
/// The exception table (arch/x86/mm/extable.c): which faulting sites have fixups, of what type, and
/// fixup_exception itself. Before 5.17 entries carried handler functions; the types here are the
/// 5.17+ names of those handlers (ex_handler_fault ≙ FAULT/*_MCE_SAFE, ex_handler_uaccess ≙ UACCESS,
/// ex_handler_copy ≙ COPY).
/// </summary>
public sealed class ExceptionTable(KernelProfile profile)
{
    /// <summary>RAX after the last FAULT/COPY fixup: the trap number (what copy_user's tail handler tests).</summary>
    public int LastTrapNr { get; private set; }

    /// <summary>ex_get_fixup_type(ip) for a site.</summary>
    public ExTableType TypeAt(ExSite site) => site switch
    {
        ExSite.Memcpy or ExSite.MemcpyFlushcache => ExTableType.EX_TYPE_NONE,
        ExSite.CopyMcFragileLoad or ExSite.CopyMcFastString => ExTableType.EX_TYPE_DEFAULT_MCE_SAFE,
        ExSite.McsafeUnrolledLoad => ExTableType.EX_TYPE_FAULT_MCE_SAFE,
        ExSite.CopyMcFragileStore => ExTableType.EX_TYPE_DEFAULT,
        // _ASM_EXTABLE_CPY from 5.10 (ex_handler_copy) until the 6.4 rewrite; _ASM_EXTABLE_UA otherwise.
        ExSite.CopyUser or ExSite.CopyUserNocache =>
            profile.Version >= KernelVersion.V(5, 10) && profile.Version < KernelVersion.V(6, 4) ? ExTableType.EX_TYPE_COPY : ExTableType.EX_TYPE_UACCESS,
        ExSite.ClearUser or ExSite.GetUser or ExSite.PutUser or ExSite.CopyUserNofault => ExTableType.EX_TYPE_UACCESS,
        ExSite.FpuUserInsn => profile.Version >= KernelVersion.V(5, 14) ? ExTableType.EX_TYPE_FAULT_MCE_SAFE : ExTableType.EX_TYPE_DEFAULT,
        _ => ExTableType.EX_TYPE_NONE,
    };

    /// <summary>
    /// fixup_exception(regs, trapnr, …): returns false when there is no entry (the caller oopses or panics);
    /// otherwise "jumps" to the fixup, storing the trap number in RAX for FAULT/COPY types.
    /// </summary>
    public bool FixupException(ExSite site, int trapnr)
    {
        var t = TypeAt(site);
        if (t == ExTableType.EX_TYPE_NONE) return false;
        if (t is ExTableType.EX_TYPE_FAULT or ExTableType.EX_TYPE_FAULT_MCE_SAFE or ExTableType.EX_TYPE_COPY) LastTrapNr = trapnr;
        return true;
    }
}
