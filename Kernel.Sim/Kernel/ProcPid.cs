using System.Globalization;
using System.Text;
using KernelSim.Fs;
using KernelSim.Fs.Kernfs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

/// <summary>
/// The /proc/&lt;pid&gt; files of the process and its address space (fs/proc/base.c, array.c, task_mmu.c): maps, smaps,
/// status and comm, in the kernel's formats, with the fields the simulator can fill truthfully (docs/mm.md lists the rest).
/// </summary>
internal static class ProcPid
{
    /// <summary>Called from the Procfs constructor: add the entries to every /proc/&lt;pid&gt; directory.</summary>
    public static void Register(Procfs procfs)
    {
        // shmem inodes get get_next_ino() numbers: one per object of this machine, in first-shown order.
        var inos = new System.Runtime.CompilerServices.ConditionalWeakTable<ShmemObject, object>();
        ulong next = 0;
        ulong Ino(ShmemObject so) => (ulong)inos.GetValue(so, _ => ++next);
        procfs.RegisterPidEntry(p => new KernfsAttribute("maps", 0x124, () => Maps(p, Ino, smaps: false), null) { PageLimited = false });
        procfs.RegisterPidEntry(p => new KernfsAttribute("smaps", 0x124, () => Maps(p, Ino, smaps: true), null) { PageLimited = false });
        procfs.RegisterPidEntry(p => new KernfsAttribute("status", 0x124, () => Status(p), null) { PageLimited = false });
        procfs.RegisterPidEntry(p => new KernfsAttribute("comm", 0x1a4, () => p.Comm + "\n", text => CommWrite(p, text)) { PageLimited = false });
    }

    /// <summary>
    /// comm_write: at most TASK_COMM_LEN − 1 bytes of what was written become the name as they are (a trailing newline
    /// included: only "echo -n" gives a clean name); another thread group's comm → −EINVAL. Returns the count written.
    /// </summary>
    private static long CommWrite(Process p, string text)
    {
        var cur = p.Machine.Current;
        if (cur != null && !ReferenceEquals(cur, p)) return -Errno.EINVAL;
        p.Comm = Process.CutComm(text);
        return text.Length;
    }

    /// <summary>show_map_vma (+ show_smap): one header line per VMA, then for smaps the counts and VmFlags.</summary>
    private static ShowResult Maps(Process p, Func<ShmemObject, ulong> shmemIno, bool smaps)
    {
        var sb = new StringBuilder();
        foreach (var v in p.Mm.Vmas)
        {
            MapHeader(sb, v, shmemIno);
            if (smaps) SmapLines(sb, p, v);
        }
        return sb.ToString();
    }

    /// <summary>
    /// show_vma_header_prefix and the name: "start-end rwxp offset dev ino " (offset, device and inode of the mapped file;
    /// 0 for anonymous memory), padded to column 73 before a path: the file's path, "/dev/zero (deleted)" for shared
    /// anonymous memory, "/memfd:name (deleted)" for a memfd; nothing for private anonymous memory.
    /// </summary>
    private static void MapHeader(StringBuilder sb, Vma v, Func<ShmemObject, ulong> shmemIno)
    {
        var file = v.File as KFile;
        var fileBacked = file != null || v.Shmem != null;
        var pgoff = fileBacked ? v.PgOff << PageDefs.PAGE_SHIFT : 0;
        var ino = file?.Inode.Ino ?? (v.Shmem != null ? shmemIno(v.Shmem) : 0UL);
        var start = sb.Length;
        sb.Append(CultureInfo.InvariantCulture, $"{v.Start:x8}-{v.End:x8} ");
        sb.Append((v.Prot & Mman.PROT_READ) != 0 ? 'r' : '-').Append((v.Prot & Mman.PROT_WRITE) != 0 ? 'w' : '-')
          .Append((v.Prot & Mman.PROT_EXEC) != 0 ? 'x' : '-').Append(v.Shared ? 's' : 'p');
        sb.Append(CultureInfo.InvariantCulture, $" {pgoff:x8} 00:00 {ino} ");
        var name = file != null ? file.Path ?? "" : v.Shmem != null ? ShmemName(v.Shmem) : null;
        if (name != null)
        {
            // seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) then seq_pad(m, ' ').
            var pad = 72 - (sb.Length - start);
            if (pad > 0) sb.Append(' ', pad);
            sb.Append(' ').Append(name);
        }
        sb.Append('\n');
    }

    private static string ShmemName(ShmemObject so) =>
        so.Name.StartsWith("dev/zero", StringComparison.Ordinal) ? "/dev/zero (deleted)" : $"/{so.Name} (deleted)";

    /// <summary>show_smap: Size, page sizes, the counts of __show_smap for this release, THPeligible and VmFlags.</summary>
    private static void SmapLines(StringBuilder sb, Process p, Vma v)
    {
        var layout = p.Machine.Profile;
        var s = p.Mm.GatherSmaps(v);
        const ulong pageKb = 4; // vma_kernel_pagesize / vma_mmu_pagesize: 4 kB for every VMA but hugetlb
        Kb(sb, "Size:           ", v.End - v.Start);
        Kb(sb, "KernelPageSize: ", pageKb << 10);
        Kb(sb, "MMUPageSize:    ", pageKb << 10);
        Kb(sb, "Rss:            ", s.Resident);
        Kb(sb, "Pss:            ", s.Pss >> SmapsStats.PSS_SHIFT);
        if (layout.SmapsPssDirty) Kb(sb, "Pss_Dirty:      ", s.PssDirty >> SmapsStats.PSS_SHIFT);
        Kb(sb, "Shared_Clean:   ", s.SharedClean);
        Kb(sb, "Shared_Dirty:   ", s.SharedDirty);
        Kb(sb, "Private_Clean:  ", s.PrivateClean);
        Kb(sb, "Private_Dirty:  ", s.PrivateDirty);
        Kb(sb, "Referenced:     ", s.Referenced);
        Kb(sb, "Anonymous:      ", s.Anonymous);
        if (layout.SmapsKsm) Kb(sb, "KSM:            ", 0);
        Kb(sb, "LazyFree:       ", 0);
        Kb(sb, "AnonHugePages:  ", 0);
        Kb(sb, "ShmemPmdMapped: ", 0);
        if (layout.SmapsFilePmdMapped) Kb(sb, "FilePmdMapped:  ", 0);
        Kb(sb, "Shared_Hugetlb: ", 0);
        sb.Append("Private_Hugetlb: ").Append("      0").Append(" kB\n"); // seq_put_decimal_ull_width(…, 7)
        Kb(sb, "Swap:           ", 0);
        Kb(sb, "SwapPss:        ", 0);
        Kb(sb, "Locked:         ", 0);
        if (layout.SmapsThpEligible)
        {
            var eligible = ThpEligible(p, v) ? 1 : 0;
            sb.Append(layout.SmapsThpEligibleWidth8
                ? string.Create(CultureInfo.InvariantCulture, $"THPeligible:    {eligible,8}\n")
                : string.Create(CultureInfo.InvariantCulture, $"THPeligible:    {eligible}\n"));
        }
        sb.Append("VmFlags: ").Append(VmFlags(v)).Append('\n');
    }

    /// <summary>SEQ_PUT_DEC: the label, the value in kB right-aligned in 8 columns, " kB".</summary>
    private static void Kb(StringBuilder sb, string label, ulong bytes) =>
        sb.Append(label).Append(CultureInfo.InvariantCulture, $"{bytes >> 10,8}").Append(" kB\n");

    /// <summary>
    /// THPeligible (hugepage_vma_check / thp_vma_allowable_orders with the sysfs rules, not in a fault): private anonymous
    /// memory when enabled is "always" and the VMA holds an aligned 2 MiB range; shared anonymous memory when
    /// shmem_enabled is "always" or "force" and likewise; DAX and other file mappings never (DAX only in a fault).
    /// </summary>
    private static bool ThpEligible(Process p, Vma v)
    {
        var thp = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<TransparentHugepage>(p.Machine.Services);
        var first = (v.Start + PageDefs.PMD_SIZE - 1) & ~(PageDefs.PMD_SIZE - 1);
        var fits = first + PageDefs.PMD_SIZE <= v.End && first >= v.Start;
        if (v.IsAnonymous) return fits && thp.Enabled == "always";
        if (v.Shmem != null && v.File == null) return fits && thp.ShmemEnabled is "always" or "force";
        return false;
    }

    /// <summary>
    /// show_smap_vma_flags: the two-letter names of the vm_flags bits in bit order — rd wr ex sh mr mw me ms … ac … sf
    /// … sd … hg — each followed by a space.
    /// </summary>
    internal static string VmFlags(Vma v)
    {
        var file = v.File as KFile;
        var readOnlyShared = v.Shared && file != null && (file.Mode & KFile.FMODE_WRITE) == 0;
        var sb = new StringBuilder();
        void F(bool on, string name)
        {
            if (on) sb.Append(name).Append(' ');
        }
        F((v.Prot & Mman.PROT_READ) != 0, "rd");
        F((v.Prot & Mman.PROT_WRITE) != 0, "wr");
        F((v.Prot & Mman.PROT_EXEC) != 0, "ex");
        F(v.Shared && !readOnlyShared, "sh");   // VM_SHARED is dropped for a file opened read-only
        F(true, "mr");
        F(!readOnlyShared, "mw");
        F(true, "me");
        F(v.Shared, "ms");
        F(v.Account, "ac");
        F(v.VmSync, "sf");
        F(true, "sd");                          // VM_SOFTDIRTY: every new VMA
        F(v.VmHugepage, "hg");
        return sb.ToString();
    }

    /// <summary>
    /// proc_pid_status (fs/proc/array.c), the lines the simulator knows, in the kernel's order: Name, State (R for the
    /// reader itself or a task spinning in the kernel, S otherwise), Tgid, Pid, PPid (0 without a parent), then task_mem's
    /// VmSize, VmRSS, RssAnon, RssFile, RssShmem, then Threads, SigPnd, ShdPnd, SigIgn and SigCgt (bit signo − 1).
    /// </summary>
    private static ShowResult Status(Process p)
    {
        var running = ReferenceEquals(p.Machine.Current, p) || p.State == ProcessState.Livelocked;
        ulong total = 0;
        foreach (var v in p.Mm.Vmas) total += v.End - v.Start;
        var rss = p.Mm.Rss();
        var sb = new StringBuilder();
        sb.Append("Name:\t").Append(p.Comm).Append('\n');
        sb.Append("State:\t").Append(running ? "R (running)" : "S (sleeping)").Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"Tgid:\t{p.Pid}\nPid:\t{p.Pid}\nPPid:\t{p.Parent?.Pid ?? 0}\n");
        StatusKb(sb, "VmSize:\t", total >> 10);
        StatusKb(sb, "VmRSS:\t", (rss.Anon + rss.File + rss.Shmem) << 2);
        StatusKb(sb, "RssAnon:\t", rss.Anon << 2);
        StatusKb(sb, "RssFile:\t", rss.File << 2);
        StatusKb(sb, "RssShmem:\t", rss.Shmem << 2);
        sb.Append("Threads:\t1\n");
        ulong pnd = 0, ign = 0, cgt = 0;
        foreach (var s in p.SignalsPending) pnd |= 1UL << (s.Signo - 1);
        for (var signo = 1; signo <= 64; signo++)
        {
            var d = p.GetSignalHandler(signo);
            if (d == SignalDisposition.Ignore) ign |= 1UL << (signo - 1);
            else if (d == SignalDisposition.Catch) cgt |= 1UL << (signo - 1);
        }
        sb.Append(CultureInfo.InvariantCulture, $"SigPnd:\t{pnd:x16}\nShdPnd:\t{0:x16}\nSigIgn:\t{ign:x16}\nSigCgt:\t{cgt:x16}\n");
        return sb.ToString();
    }

    private static void StatusKb(StringBuilder sb, string label, ulong kb) =>
        sb.Append(label).Append(CultureInfo.InvariantCulture, $"{kb,8}").Append(" kB\n");
}
