using KernelSim.Kernel;

namespace KernelSim.Mm;

/// <summary>
/// The whole-page copies of include/linux/highmem.h that copy-on-write uses (on x86-64 every page is in the direct
/// map, so kmap_local_page is its direct-map address).
/// </summary>
public static class Highmem
{
    /// <summary>
    /// copy_user_highpage(to, from, vaddr, vma): x86 copy_page between the two pages' direct-map addresses, with no
    /// exception-table entry: poison in <paramref name="from"/> is a fatal kernel machine check.
    /// </summary>
    public static void CopyUserHighpage(Machine m, ulong to, ulong from)
    {
        using var _ = m.Tracer.Fn("copy_user_highpage", "mm");
        m.Copy.CopyPage(KernelPtr.FromPhys(PhysAddr.FromPfn(to)), KernelPtr.FromPhys(PhysAddr.FromPfn(from)));
    }

    /// <summary>
    /// copy_mc_user_highpage(to, from, vaddr, vma) (CONFIG_ARCH_HAS_COPY_MC): copy_mc_to_kernel of the page; when it
    /// comes up short, memory_failure_queue(page_to_pfn(from), 0) hands the source page to memory_failure (run from
    /// the work queue) and the bytes not copied are returned (0 on success).
    /// </summary>
    public static ulong CopyMcUserHighpage(Machine m, ulong to, ulong from)
    {
        using var _ = m.Tracer.Fn("copy_mc_user_highpage", "mm");
        var ret = m.Copy.CopyMcToKernel(KernelPtr.FromPhys(PhysAddr.FromPfn(to)), KernelPtr.FromPhys(PhysAddr.FromPfn(from)), PageDefs.PAGE_SIZE);
        if (ret != 0) m.WorkQueue.Schedule("memory_failure_work_func", () => m.MemoryFailure.Run(from, MfFlags.None));
        return ret;
    }
}
