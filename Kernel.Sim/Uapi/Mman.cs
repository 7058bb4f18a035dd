namespace KernelSim.Uapi;

/// <summary>mmap/mprotect/madvise/prctl constants (include/uapi/asm-generic/mman-common.h, linux/prctl.h).</summary>
public static class Mman
{
    public const int PROT_NONE = 0x0;
    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;
    public const int PROT_EXEC = 0x4;

    public const int MAP_SHARED = 0x01;
    public const int MAP_PRIVATE = 0x02;
    public const int MAP_SHARED_VALIDATE = 0x03;
    public const int MAP_TYPE = 0x0f;
    public const int MAP_FIXED = 0x10;
    public const int MAP_ANONYMOUS = 0x20;
    public const int MAP_POPULATE = 0x8000;
    public const int MAP_SYNC = 0x80000;
    public const int MAP_FIXED_NOREPLACE = 0x100000;

    public const int MADV_NORMAL = 0;
    public const int MADV_DONTNEED = 4;
    public const int MADV_HWPOISON = 100;
    public const int MADV_SOFT_OFFLINE = 101;

    public const int PR_MCE_KILL = 33;
    public const int PR_MCE_KILL_GET = 34;
    public const int PR_MCE_KILL_CLEAR = 0;
    public const int PR_MCE_KILL_SET = 1;
    public const int PR_MCE_KILL_LATE = 0;
    public const int PR_MCE_KILL_EARLY = 1;
    public const int PR_MCE_KILL_DEFAULT = 2;
}
