using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Fs.Kernfs;

/// <summary>
/// The memory-management files of procfs: /proc/meminfo (fs/proc/meminfo.c, the fields the model knows),
/// /proc/kpageflags (fs/proc/page.c), /proc/&lt;pid&gt;/pagemap (fs/proc/task_mmu.c) and the vm sysctls of
/// mm/memory-failure.c, mm/hugetlb.c and fs/drop_caches.c.
/// </summary>
public static class ProcMm
{
    /// <summary>Add the files to a new /proc (called from the Procfs constructor).</summary>
    internal static void Register(Procfs proc)
    {
        var m = proc.Machine;
        proc.Root.Add(new KernfsAttribute("meminfo", 0x124, () => Meminfo(m), null) { PageLimited = false });
        proc.Root.Add(new KpageflagsFile(m));
        var vm = proc.Root.Dir("sys/vm");
        var mf = m.MemoryFailure;
        vm.Add(new SysctlFile("memory_failure_early_kill", 0x1a4, () => mf.EarlyKill ? 1 : 0, v => { mf.EarlyKill = v != 0; return 0; }, 0, 1));
        vm.Add(new SysctlFile("memory_failure_recovery", 0x1a4, () => mf.Recovery ? 1 : 0, v => { mf.Recovery = v != 0; return 0; }, 0, 1));
        if (m.Profile.EnableSoftOfflineSysctl)
            vm.Add(new SysctlFile("enable_soft_offline", 0x1a4, () => mf.EnableSoftOffline ? 1 : 0, v => { mf.EnableSoftOffline = v != 0; return 0; }, 0, 1));
        if (m.Profile.PanicOnUnrecoverableMf)
            vm.Add(new SysctlFile("panic_on_unrecoverable_memory_failure", 0x1a4, () => mf.PanicOnUnrecoverable ? 1 : 0, v => { mf.PanicOnUnrecoverable = v != 0; return 0; }, 0, 1));
        var pool = m.Services.GetRequiredService<Hugetlb>();
        vm.Add(new SysctlFile("nr_hugepages", 0x1a4, () => (long)pool.NrHugePages, v => { pool.SetNrHugePages((ulong)v); return 0; }, 0, long.MaxValue, unsignedLong: true));
        long dropped = 0;
        vm.Add(new SysctlFile("drop_caches", 0x80, () => dropped, v =>
        {
            dropped = v;
            DropCaches.Run(m, (int)v);
            return 0;
        }, 1, 4));
        proc.RegisterPidEntry(p => new PagemapFile(p));
    }

    /// <summary>
    /// meminfo_proc_show: MemTotal (the DRAM the allocator manages), MemFree (nr_free_pages), HardwareCorrupted
    /// (num_poisoned_pages in kB, "%5lu"), then hugetlb_report_meminfo's HugePages_Total, HugePages_Free,
    /// Hugepagesize and Hugetlb; the other fields are not printed (see docs "Not modelled").
    /// </summary>
    public static string Meminfo(Machine m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var (first, end) = m.Phys.DramPfns;
        var pool = m.Services.GetRequiredService<Hugetlb>();
        var sb = new StringBuilder();
        ShowValKb(sb, "MemTotal:       ", end - first);
        ShowValKb(sb, "MemFree:        ", m.Phys.NrFreePages);
        sb.Append(CultureInfo.InvariantCulture, $"HardwareCorrupted: {(ulong)Math.Max(0, m.MemoryFailure.PoisonedPages) << (PageDefs.PAGE_SHIFT - 10),5} kB\n");
        sb.Append(CultureInfo.InvariantCulture, $"HugePages_Total:   {pool.NrHugePages,5}\n");
        sb.Append(CultureInfo.InvariantCulture, $"HugePages_Free:    {pool.FreeHugePages,5}\n");
        sb.Append(CultureInfo.InvariantCulture, $"Hugepagesize:   {Hugetlb.HPAGE_SIZE >> 10,8} kB\n");
        sb.Append(CultureInfo.InvariantCulture, $"Hugetlb:        {(pool.NrHugePages * Hugetlb.HPAGE_SIZE) >> 10,8} kB\n");
        return sb.ToString();
    }

    // show_val_kb: the padded label, the page count in kB right-aligned in 8 columns, " kB".
    private static void ShowValKb(StringBuilder sb, string label, ulong pages) =>
        sb.Append(label).Append(CultureInfo.InvariantCulture, $"{pages << (PageDefs.PAGE_SHIFT - 10),8}").Append(" kB\n");
}

/// <summary>KPF_* bits of /proc/kpageflags (include/uapi/linux/kernel-page-flags.h) and the kernel-internal ones from bit 32.</summary>
public static class Kpf
{
    public const int KPF_DIRTY = 4, KPF_UPTODATE = 3, KPF_MMAP = 11, KPF_ANON = 12, KPF_SWAPBACKED = 14;
    public const int KPF_COMPOUND_HEAD = 15, KPF_COMPOUND_TAIL = 16, KPF_HUGE = 17, KPF_HWPOISON = 19, KPF_NOPAGE = 20;
    public const int KPF_RESERVED = 32;
}

/// <summary>
/// /proc/kpageflags (fs/proc/page.c kpageflags_read, mode 0400): one u64 per pfn below max_pfn (the end of DRAM) at
/// offset pfn*8; −EINVAL unless the position and count are multiples of 8; reads at or past max_pfn return 0 bytes.
/// stable_page_flags: KPF_NOPAGE for a pfn that is not online memory; otherwise the bits the model tracks —
/// HWPOISON, MMAP, ANON, SWAPBACKED, UPTODATE and DIRTY for user pages, HUGE and COMPOUND_HEAD/TAIL for hugetlb pool
/// pages, RESERVED (bit 32) for kernel pages.
/// </summary>
internal sealed class KpageflagsFile(Machine m) : KernfsFileNode("kpageflags", 0x100)
{
    public override bool CanRead => true;
    public override bool CanWrite => false;
    public override long Size => 0;

    public override long Write(KernfsOpenFile of, long pos, ReadOnlySpan<byte> src) => -Errno.EINVAL;

    public override long Read(KernfsOpenFile of, long pos, Span<byte> dst)
    {
        if ((pos & 7) != 0 || (dst.Length & 7) != 0) return -Errno.EINVAL;
        var maxPfn = m.Phys.DramPfns.End;
        var pfn = (ulong)pos / 8;
        var n = 0;
        while (n + 8 <= dst.Length && pfn < maxPfn)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(dst[n..], StablePageFlags(pfn));
            n += 8;
            pfn++;
        }
        return n;
    }

    private ulong StablePageFlags(ulong pfn)
    {
        var range = m.Phys.FindRange(PhysAddr.FromPfn(pfn));
        if (range == null || range.Kind != MemoryKind.Dram) return 1UL << Kpf.KPF_NOPAGE;
        var f = m.Phys.Peek(pfn);
        if (f == null) return 0;
        ulong u = 0;
        if (f.IsHwPoison) u |= 1UL << Kpf.KPF_HWPOISON;
        if (f.MapCount > 0) u |= 1UL << Kpf.KPF_MMAP;
        if ((f.Flags & PageFlags.PAGE_MAPPING_ANON) != 0) u |= (1UL << Kpf.KPF_ANON) | (1UL << Kpf.KPF_SWAPBACKED) | (1UL << Kpf.KPF_UPTODATE);
        if ((f.Flags & PageFlags.PG_swapbacked) != 0) u |= (1UL << Kpf.KPF_SWAPBACKED) | (1UL << Kpf.KPF_UPTODATE);
        if ((f.Flags & PageFlags.PG_dirty) != 0) u |= 1UL << Kpf.KPF_DIRTY;
        if (f.CacheFolio is { } folio)
        {
            if (folio.Uptodate) u |= 1UL << Kpf.KPF_UPTODATE;
            if (folio.Dirty) u |= 1UL << Kpf.KPF_DIRTY;
        }
        if (f.Huge is { } h)
        {
            u |= (1UL << Kpf.KPF_HUGE) | (1UL << (pfn == h.HeadPfn ? Kpf.KPF_COMPOUND_HEAD : Kpf.KPF_COMPOUND_TAIL));
            if (h.HwPoison && pfn == h.HeadPfn) u |= 1UL << Kpf.KPF_HWPOISON;
        }
        if ((f.Flags & PageFlags.PG_reserved) != 0) u |= 1UL << Kpf.KPF_RESERVED;
        return u;
    }
}

/// <summary>
/// /proc/&lt;pid&gt;/pagemap (fs/proc/task_mmu.c pagemap_read; 0400 and owned by the task in the kernel, 0444 here: the
/// model has no uids): one u64 per virtual page at offset
/// (vaddr / 4096) * 8; −EINVAL unless position and count are multiples of 8; past TASK_SIZE, 0 bytes. Bits 0–54 the
/// PFN (0 unless the opener has CAP_SYS_ADMIN: pm-&gt;show_pfn) or for a swap entry its type and offset; 55 soft-dirty
/// (every page of a VMA: VM_SOFTDIRTY is set on new VMAs and clear_refs is not modelled); 56 PM_MMAP_EXCLUSIVE (a
/// present DRAM page mapped once); 61 PM_FILE (a present or hwpoisoned page that is not anonymous); 62 PM_SWAP (a
/// hwpoison entry of a small page: type SWP_HWPOISON — <see cref="Profiles.KernelProfile.SwpHwpoisonType"/>, MF25 —,
/// offset the pfn); 63 PM_PRESENT. The zero page (reserved: vm_normal_page gives NULL) is neither file nor exclusive. Hugetlb hwpoison entries read as
/// not present (pagemap_hugetlb_range handles present entries only).
/// </summary>
internal sealed class PagemapFile(Process task) : KernfsFileNode("pagemap", 0x124)
{
    public const int PM_SOFT_DIRTY = 55, PM_MMAP_EXCLUSIVE = 56, PM_FILE = 61, PM_SWAP = 62, PM_PRESENT = 63;
    private const ulong PfnMask = (1UL << 55) - 1;
    private const int MAX_SWAPFILES_SHIFT = 5;

    public override bool CanRead => true;
    public override bool CanWrite => false;
    public override long Size => 0;

    public override long Write(KernfsOpenFile of, long pos, ReadOnlySpan<byte> src) => -Errno.EINVAL;

    public override long Read(KernfsOpenFile of, long pos, Span<byte> dst)
    {
        if ((pos & 7) != 0 || (dst.Length & 7) != 0) return -Errno.EINVAL;
        if (!task.Alive) return 0;
        var showPfn = of.Opener?.CapSysAdmin ?? true;
        var vpn = (ulong)pos / 8;
        var endVpn = PageDefs.TASK_SIZE_MAX >> PageDefs.PAGE_SHIFT;
        var n = 0;
        while (n + 8 <= dst.Length && vpn < endVpn)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(dst[n..], Entry(vpn << PageDefs.PAGE_SHIFT, showPfn));
            n += 8;
            vpn++;
        }
        return n;
    }

    private ulong Entry(ulong va, bool showPfn)
    {
        var vma = task.Mm.FindVma(va);
        if (vma == null) return 0;
        var phys = task.Machine.Phys;
        ulong flags = 1UL << PM_SOFT_DIRTY;
        ulong frame = 0;
        var (present, hwpoison, pfn, shift) = task.Mm.PteAt(va);
        if (present)
        {
            flags |= 1UL << PM_PRESENT;
            if (showPfn) frame = pfn;
            var range = phys.FindRange(PhysAddr.FromPfn(pfn));
            if (range is { Kind: MemoryKind.Dram } && (phys.Frame(pfn).Flags & PageFlags.PG_reserved) == 0)
            {
                var f = phys.Frame(pfn);
                if ((f.Flags & PageFlags.PAGE_MAPPING_ANON) == 0 && f.Huge is not { Anon: true }) flags |= 1UL << PM_FILE;
                var mapcount = f.Huge is { } h ? phys.Frame(h.HeadPfn).MapCount : f.MapCount;
                if (mapcount == 1) flags |= 1UL << PM_MMAP_EXCLUSIVE;
            }
        }
        else if (hwpoison && shift <= PageDefs.PAGE_SHIFT)
        {
            flags |= 1UL << PM_SWAP;
            if (showPfn) frame = (uint)task.Machine.Profile.SwpHwpoisonType | (pfn << MAX_SWAPFILES_SHIFT);
            if ((phys.Frame(pfn).Flags & PageFlags.PAGE_MAPPING_ANON) == 0) flags |= 1UL << PM_FILE;
        }
        return (frame & PfnMask) | flags;
    }
}
