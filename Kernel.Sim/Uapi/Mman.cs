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
    public const int MAP_32BIT = 0x40;
    public const int MAP_GROWSDOWN = 0x100;
    public const int MAP_DENYWRITE = 0x800;
    public const int MAP_EXECUTABLE = 0x1000;
    public const int MAP_LOCKED = 0x2000;
    public const int MAP_NORESERVE = 0x4000;
    public const int MAP_NONBLOCK = 0x10000;
    public const int MAP_STACK = 0x20000;
    public const int MAP_HUGETLB = 0x40000;
    public const int MAP_UNINITIALIZED = 0x4000000;
    public const int MAP_HUGE_SHIFT = 26;
    public const int MAP_HUGE_2MB = 21 << MAP_HUGE_SHIFT;
    public const int MAP_HUGE_1GB = 30 << MAP_HUGE_SHIFT;

    /// <summary>
    /// LEGACY_MAP_MASK (include/linux/mman.h, 1c9725974074 'mm: introduce MAP_SHARED_VALIDATE', 4.15): the flags every
    /// file accepts with MAP_SHARED_VALIDATE; anything else needs the file's mmap_supported_flags (MAP_SYNC).
    /// MAP_FIXED_NOREPLACE (4.17) was never added, so MAP_SHARED_VALIDATE refuses it.
    /// </summary>
    public const int LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE
        | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK
        | MAP_HUGETLB | MAP_32BIT | MAP_HUGE_2MB | MAP_HUGE_1GB;

    public const int MREMAP_MAYMOVE = 1;
    public const int MREMAP_FIXED = 2;
    public const int MREMAP_DONTUNMAP = 4;

    public const int MS_ASYNC = 1;
    public const int MS_INVALIDATE = 2;
    public const int MS_SYNC = 4;

    public const int MADV_NORMAL = 0;
    public const int MADV_DONTNEED = 4;
    public const int MADV_POPULATE_READ = 22;
    public const int MADV_POPULATE_WRITE = 23;
    public const int MADV_HWPOISON = 100;
    public const int MADV_SOFT_OFFLINE = 101;

    public const int PR_SET_NAME = 15;
    public const int PR_GET_NAME = 16;
    public const int PR_MCE_KILL = 33;
    public const int PR_MCE_KILL_GET = 34;
    public const int PR_MCE_KILL_CLEAR = 0;
    public const int PR_MCE_KILL_SET = 1;
    public const int PR_MCE_KILL_LATE = 0;
    public const int PR_MCE_KILL_EARLY = 1;
    public const int PR_MCE_KILL_DEFAULT = 2;
}
