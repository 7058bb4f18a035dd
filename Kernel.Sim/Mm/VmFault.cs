namespace KernelSim.Mm;

/// <summary>vm_fault_t bits (include/linux/mm_types.h).</summary>
[Flags]
public enum VmFault
{
    None = 0,
    VM_FAULT_OOM = 0x000001,
    VM_FAULT_SIGBUS = 0x000002,
    VM_FAULT_MAJOR = 0x000004,
    VM_FAULT_HWPOISON = 0x000010,
    VM_FAULT_HWPOISON_LARGE = 0x000020,
    VM_FAULT_SIGSEGV = 0x000040,
    VM_FAULT_NOPAGE = 0x000100,
    VM_FAULT_LOCKED = 0x000200,
    VM_FAULT_RETRY = 0x000400,
    VM_FAULT_FALLBACK = 0x000800,
    /// <summary>The no-VMA result (bad_area → SEGV_MAPERR); arm/arm64 name it VM_FAULT_BADMAP, x86 branches to bad_area directly.</summary>
    VM_FAULT_BADMAP = 0x1000000,
    /// <summary>access_error() (bad_area_access_error → SEGV_ACCERR); arm/arm64 name it VM_FAULT_BADACCESS.</summary>
    VM_FAULT_BADACCESS = 0x2000000,
    /// <summary>The error bits (VM_FAULT_ERROR plus the bad-area markers).</summary>
    VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON | VM_FAULT_HWPOISON_LARGE | VM_FAULT_FALLBACK | VM_FAULT_BADMAP | VM_FAULT_BADACCESS,
}
