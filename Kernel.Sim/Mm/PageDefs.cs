namespace KernelSim.Mm;

/// <summary>x86-64 paging constants (arch/x86/include/asm/page_types.h, page_64_types.h).</summary>
public static class PageDefs
{
    public const int PAGE_SHIFT = 12;
    public const ulong PAGE_SIZE = 1UL << PAGE_SHIFT;
    public const ulong PAGE_MASK = ~(PAGE_SIZE - 1);
    public const int PMD_SHIFT = 21;
    public const ulong PMD_SIZE = 1UL << PMD_SHIFT;
    public const int PUD_SHIFT = 30;
    /// <summary>The poison granule: one x86 cache line (MCi_MISC address LSB 6).</summary>
    public const int CACHELINE_SHIFT = 6;
    public const ulong CACHELINE = 1UL << CACHELINE_SHIFT;

    /// <summary>TASK_SIZE_MAX with 4-level paging: (1 &lt;&lt; 47) − PAGE_SIZE.</summary>
    public const ulong TASK_SIZE_MAX = (1UL << 47) - PAGE_SIZE;
    /// <summary>USER_PTR_MAX (arch/x86/kernel/cpu/common.c, 6.x runtime constant): TASK_SIZE_MAX; the top page is a guard page.</summary>
    public const ulong USER_PTR_MAX = TASK_SIZE_MAX;
    /// <summary>__PAGE_OFFSET_BASE_L4: start of the kernel direct map of all physical memory.</summary>
    public const ulong PAGE_OFFSET = 0xffff_8880_0000_0000UL;
    /// <summary>VMALLOC_START (4-level): where ioremap/memremap windows without a direct-map alias live.</summary>
    public const ulong VMALLOC_START = 0xffff_c900_0000_0000UL;
    /// <summary>MAX_RW_COUNT = INT_MAX &amp; PAGE_MASK (include/linux/fs.h).</summary>
    public const long MAX_RW_COUNT = 0x7ffff000;

    public static ulong PageAlignDown(ulong a) => a & PAGE_MASK;
    public static ulong PageAlign(ulong a) => (a + PAGE_SIZE - 1) & PAGE_MASK;
    public static ulong OffsetInPage(ulong a) => a & (PAGE_SIZE - 1);
    public static bool IsPageAligned(ulong a) => (a & (PAGE_SIZE - 1)) == 0;
}
