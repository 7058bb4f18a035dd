namespace KernelSim.Mm;

/// <summary>vm_fault_t bits (include/linux/mm_types.h).</summary>
[Flags]
public enum VmFault
{
    None = 0,
    OOM = 0x000001,
    SIGBUS = 0x000002,
    MAJOR = 0x000004,
    HWPOISON = 0x000010,
    HWPOISON_LARGE = 0x000020,
    SIGSEGV = 0x000040,
    NOPAGE = 0x000100,
    LOCKED = 0x000200,
    RETRY = 0x000400,
    FALLBACK = 0x000800,
    /// <summary>Not a kernel bit: the fault had no VMA (bad_area → SEGV_MAPERR).</summary>
    BadAreaMapErr = 0x1000000,
    /// <summary>Not a kernel bit: access_error() (bad_area_access_error → SEGV_ACCERR).</summary>
    BadAreaAccErr = 0x2000000,
    /// <summary>The error bits (VM_FAULT_ERROR plus the bad-area markers).</summary>
    Error = OOM | SIGBUS | SIGSEGV | HWPOISON | HWPOISON_LARGE | FALLBACK | BadAreaMapErr | BadAreaAccErr,
}
