using System.Text.RegularExpressions;

namespace KernelSim.Cli.Rendering.Html;

/// <summary>One glossary entry of the HTML step-through.</summary>
/// <param name="Id">The anchor ("g-einj").</param>
/// <param name="Term">The heading.</param>
/// <param name="Matches">The spellings linked where they appear in the page's text (whole words, case-sensitive).</param>
/// <param name="Definition">What it means, from the cited docs/kernel page.</param>
/// <param name="Source">The docs/kernel page and anchor the facts come from ("docs/kernel/pmem.md#injection").</param>
internal sealed record GlossaryEntry(string Id, string Term, string[] Matches, string Definition, string Source);

/// <summary>
/// The glossary of the HTML step-through: the acronyms and names a walkthrough uses without explaining them. The
/// facts are those of docs/kernel/, each entry citing its page; <see cref="Split"/> finds the terms in text.
/// </summary>
internal static class Glossary
{
    public static IReadOnlyList<GlossaryEntry> Entries { get; } =
    [
        new("g-einj", "EINJ", ["EINJ"],
            "ACPI Error INJection (debugfs apei/einj). Error type 0x10 (memory uncorrectable non-fatal) at a physical address leaves the line poisoned but latent: nothing knows about it until a CPU reads the line (an SRAR machine check) or a scrub finds it. Scenarios inject with poison-file / poison-pmem.",
            "docs/kernel/pmem.md#injection"),
        new("g-nfit", "NFIT", ["NFIT", "nfit", "nfit_handle_mce"],
            "The ACPI NVDIMM Firmware Interface Table, which describes the persistent-memory regions. Its driver sits on the x86 machine-check decode chain (nfit_handle_mce): for an uncorrectable memory error inside an NFIT pmem range it adds the line to the bus's bad-range list and has pmem revalidate its badblocks. The decode chain runs from a workqueue after the machine check, so the update is asynchronous (run-work in a scenario). Platforms without NFIT (e820, memmap=) never get automatic badblocks.",
            "docs/kernel/pmem.md#nfit-mce"),
        new("g-ars", "ARS (address range scrub)", ["ARS"],
            "The platform firmware scrubs persistent memory and reports the errors it finds; ars_status_process_records adds each record to the bad-range list, and a finished kernel-initiated scrub (ars_complete) has pmem revalidate its badblocks. ndctl start-scrub starts one.",
            "docs/kernel/pmem.md#ars"),
        new("g-badblocks", "badblocks", ["badblocks", "badblock"],
            "The pmem driver's table of known-bad 512-byte sectors (/sys/block/pmemN/badblocks prints \"start count\" per entry, relative to the data area). A poisoned 64-byte line marks its whole sector (rounded outward). The block path refuses per sector (is_bad_pmem: EIO); DAX direct access refuses the whole page. Revalidation only adds entries; a write or zeroing that clears the poison removes them.",
            "docs/kernel/pmem.md#badblocks"),
        new("g-in-user", "IN_USER (machine-check context)", ["IN_USER"],
            "error_context() in severity.c: the machine check hit user mode (CS RPL 3). The task gets task work on its way back (kill_me_maybe: memory_failure, then SIGBUS BUS_MCEERR_AR).",
            "docs/kernel/uaccess-and-copy-routines.md#b1"),
        new("g-in-kernel", "IN_KERNEL (machine-check context)", ["IN_KERNEL"],
            "The machine check hit kernel code whose faulting instruction has no machine-check-safe exception-table entry: a data load there has severity PANIC and the machine panics (\"Fatal local machine check\").",
            "docs/kernel/uaccess-and-copy-routines.md#b1"),
        new("g-in-kernel-recov", "IN_KERNEL_RECOV (machine-check context)", ["IN_KERNEL_RECOV", "MCE_IN_KERNEL_RECOV"],
            "The machine check hit a kernel copy that can recover: its exception-table entry is machine-check safe (copy_mc_*, memcpy_mcsafe) or it is a user copy. The handler runs the fixup, the copy returns short, and the system call sees a short count, EFAULT or EIO; a copy from user space (COPYIN) also queues task work.",
            "docs/kernel/uaccess-and-copy-routines.md#b1"),
        new("g-sev-ar", "severity AR (action required)", ["AR", "MCE_AR_SEVERITY"],
            "MCE_AR_SEVERITY: an SRAR data-load error in IN_KERNEL_RECOV or IN_USER. Recoverable: the kernel must act (fix up the copy, or unmap the page and signal the task) before it continues.",
            "docs/kernel/uaccess-and-copy-routines.md#b2"),
        new("g-sev-panic", "severity PANIC", ["PANIC", "MCE_PANIC_SEVERITY"],
            "MCE_PANIC_SEVERITY: a data load in an unrecoverable area of the kernel (IN_KERNEL), a kernel instruction fetch, or lost events. do_machine_check panics.",
            "docs/kernel/uaccess-and-copy-routines.md#b2"),
        new("g-sigbus", "SIGBUS", ["SIGBUS"],
            "Signal 7. After a machine check it carries a si_code that says what happened (BUS_MCEERR_AR, BUS_MCEERR_AO, BUS_ADRERR) and si_addr_lsb, the size of the lost memory (12 for a 4 KiB page, 21 for 2 MiB).",
            "docs/kernel/uaccess-and-copy-routines.md#b9"),
        new("g-mceerr-ar", "BUS_MCEERR_AR (si_code 4)", ["BUS_MCEERR_AR"],
            "Action required: this task consumed the poison (or touched a page already known bad). From kill_proc it carries the page-aligned address; from a later fault on the unmapped page (do_sigbus) the exact address. Forced: it cannot be blocked.",
            "docs/kernel/memory-failure.md#signals"),
        new("g-mceerr-ao", "BUS_MCEERR_AO (si_code 5)", ["BUS_MCEERR_AO"],
            "Action optional: another process that maps the poisoned page is told early, only if it opted into early kill (PR_MCE_KILL or vm.memory_failure_early_kill).",
            "docs/kernel/memory-failure.md#signals"),
        new("g-adrerr", "BUS_ADRERR (si_code 2)", ["BUS_ADRERR"],
            "A plain bus error at the exact address: what a DAX fault on a known-bad page gives up to 6.4 (the fault returns -EIO, VM_FAULT_SIGBUS).",
            "docs/kernel/memory-failure.md#signals"),
        new("g-e0", "E0 (era: up to 4.17)", ["E0"],
            "fsdax reads use plain copy_to_iter: a latent poison hit in a DAX read is an unrecoverable kernel machine check, a panic; copy_from_user poison panics too.",
            "docs/kernel/eras.md#e0"),
        new("g-e1", "E1 (era: 4.18 to 5.9)", ["E1"],
            "_copy_to_iter_mcsafe / __memcpy_mcsafe return the bytes remaining, so DAX reads give short counts; copy_from_user poison still panics.",
            "docs/kernel/eras.md#e1"),
        new("g-e2", "E2 (era: 5.10 to 5.16)", ["E2"],
            "copy_mc_* names and the rep movsb fast-string copy; copy-in poison is recovered (5.10 to 5.15 with SIGBUS BUS_MCEERR_AR to the caller, 5.16 without a signal); the iov_iter rework of 5.14.",
            "docs/kernel/eras.md#e2"),
        new("g-e3", "E3 (era: 5.17 and 5.18)", ["E3"],
            "Typed exception-table entries; the per-driver DAX copy operations are replaced by the DAXDEV_NOMC / DAXDEV_NOCACHE flags.",
            "docs/kernel/eras.md#e3"),
        new("g-e4", "E4 (era: 5.19 to 6.4)", ["E4"],
            "DAX recovery write; pmem clears poison before writing; the fsdax notify_failure route; a DAX fault on a known-bad page gives SIGBUS BUS_ADRERR.",
            "docs/kernel/eras.md#e4"),
        new("g-e5", "E5 (era: 6.5 and later)", ["E5"],
            "pmem's direct access returns -EHWPOISON (turned into -EIO for read and write); a DAX fault on a known-bad page gives SIGBUS BUS_MCEERR_AR at the exact address.",
            "docs/kernel/eras.md#e5"),
    ];

    // Longest spelling first so IN_KERNEL_RECOV wins over IN_KERNEL; whole words only ("_" counts as a letter).
    private static readonly Regex Terms = new(
        @"(?<![A-Za-z0-9_])(" + string.Join('|', Entries.SelectMany(e => e.Matches).Distinct().OrderByDescending(m => m.Length).Select(Regex.Escape)) + @")(?![A-Za-z0-9_])",
        RegexOptions.CultureInvariant);

    private static readonly Dictionary<string, GlossaryEntry> ByMatch =
        Entries.SelectMany(e => e.Matches.Select(m => (m, e))).ToDictionary(x => x.m, x => x.e, StringComparer.Ordinal);

    /// <summary>The text cut into plain runs and glossary terms (entry non-null), in order.</summary>
    public static IEnumerable<(string Text, GlossaryEntry? Entry)> Split(string text)
    {
        var at = 0;
        foreach (Match m in Terms.Matches(text))
        {
            if (m.Index > at) yield return (text[at..m.Index], null);
            yield return (m.Value, ByMatch[m.Value]);
            at = m.Index + m.Length;
        }
        if (at < text.Length) yield return (text[at..], null);
    }
}
