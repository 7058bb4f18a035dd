using KernelSim.Mm;

namespace KernelSim.Fs.Dax;

/// <summary>
/// The fs_dax tracepoints (include/trace/events/fs_dax.h) as trace events: the record's name is the event's and its
/// text the event's TP_printk line, so the trace shows "/* dax_pmd_fault_done: dev 259:0 ino 0xc shared … NOPAGE */"
/// and a test counts them by name. Nothing is formatted while tracing is off. Of the FAULT_FLAG_* bits only WRITE is
/// known here; the zero folio is printed by pfn instead of a hashed pointer.
/// </summary>
public sealed partial class FsDax
{
    private static string Dev(Inode inode) => $"dev {inode.Sb.Dev.Major}:{inode.Sb.Dev.Minor} ino {Hex(inode.Ino)}";

    private static string Hex(ulong v) => v == 0 ? "0x0" : $"0x{v:x}";

    private static string Shared(Vma vma) => vma.Shared ? "shared" : "private";

    /// <summary>__print_flags(result, "|", VM_FAULT_RESULT_TRACE), in the table's order.</summary>
    internal static string FaultResult(VmFault r)
    {
        var names = new List<string>();
        foreach (var (bit, name) in ResultTrace) if ((r & bit) != 0) names.Add(name);
        return string.Join('|', names);
    }

    private static readonly (VmFault Bit, string Name)[] ResultTrace =
    [
        (VmFault.VM_FAULT_OOM, "OOM"), (VmFault.VM_FAULT_SIGBUS, "SIGBUS"), (VmFault.VM_FAULT_MAJOR, "MAJOR"),
        (VmFault.VM_FAULT_HWPOISON, "HWPOISON"), (VmFault.VM_FAULT_HWPOISON_LARGE, "HWPOISON_LARGE"),
        (VmFault.VM_FAULT_SIGSEGV, "SIGSEGV"), (VmFault.VM_FAULT_NOPAGE, "NOPAGE"), (VmFault.VM_FAULT_LOCKED, "LOCKED"),
        (VmFault.VM_FAULT_RETRY, "RETRY"), (VmFault.VM_FAULT_FALLBACK, "FALLBACK"),
    ];

    /// <summary>An xarray value entry as fs/dax.c stores it: xa_mk_value(pfn &lt;&lt; DAX_SHIFT | DAX_PMD | DAX_ZERO_PAGE).</summary>
    private static ulong RadixEntry(ulong pfn, bool pmd, bool zero) => (((pfn << 4) | (pmd ? 2UL : 0) | (zero ? 4UL : 0)) << 1) | 1;

    /// <summary>dax_pmd_fault / dax_pmd_fault_done (dax_pmd_fault_class).</summary>
    private void TracePmdFault(string ev, Inode inode, Vma vma, ulong address, bool write, ulong pgoff, ulong maxPgoff, VmFault result)
    {
        if (!_trace.Enabled) return;
        _trace.Event(ev, $"{Dev(inode)} {Shared(vma)} {(write ? "WRITE" : "")} address {Hex(address)} vm_start {Hex(vma.Start)} vm_end {Hex(vma.End)} pgoff {Hex(pgoff)} max_pgoff {Hex(maxPgoff)} {FaultResult(result)}");
    }

    /// <summary>dax_pmd_load_hole / dax_pmd_load_hole_fallback (dax_pmd_load_hole_class).</summary>
    private void TracePmdLoadHole(string ev, Inode inode, Vma vma, ulong address, ulong zeroPfn, ulong entry)
    {
        if (!_trace.Enabled) return;
        _trace.Event(ev, $"{Dev(inode)} {Shared(vma)} address {Hex(address)} zero_folio pfn:{Hex(zeroPfn)} radix_entry {Hex(entry)}");
    }

    /// <summary>dax_pmd_insert_mapping (≤5.12).</summary>
    private void TracePmdInsertMapping(Inode inode, Vma vma, ulong address, bool write, ulong pfn, ulong entry)
    {
        if (!_trace.Enabled) return;
        _trace.Event("dax_pmd_insert_mapping", $"{Dev(inode)} {Shared(vma)} {(write ? "write" : "read")} address {Hex(address)} length {Hex(PageDefs.PMD_SIZE)} pfn {Hex(pfn)} DEV|MAP radix_entry {Hex(entry)}");
    }

    /// <summary>dax_pte_fault / dax_pte_fault_done / dax_load_hole (dax_pte_fault_class).</summary>
    private void TracePteFault(string ev, Inode inode, Vma vma, ulong address, bool write, ulong pgoff, VmFault result)
    {
        if (!_trace.Enabled) return;
        _trace.Event(ev, $"{Dev(inode)} {Shared(vma)} {(write ? "WRITE" : "")} address {Hex(address)} pgoff {Hex(pgoff)} {FaultResult(result)}");
    }

    /// <summary>dax_insert_mapping (≤5.12).</summary>
    private void TraceInsertMapping(Inode inode, Vma vma, ulong address, bool write, ulong entry)
    {
        if (!_trace.Enabled) return;
        _trace.Event("dax_insert_mapping", $"{Dev(inode)} {Shared(vma)} {(write ? "write" : "read")} address {Hex(address)} radix_entry {Hex(entry)}");
    }

    /// <summary>dax_writeback_range / dax_writeback_range_done.</summary>
    private void TraceWritebackRange(string ev, Inode inode, ulong start, ulong end)
    {
        if (!_trace.Enabled) return;
        _trace.Event(ev, $"{Dev(inode)} pgoff {Hex(start)}-{Hex(end)}");
    }

    /// <summary>dax_writeback_one.</summary>
    private void TraceWritebackOne(Inode inode, ulong pgoff, ulong pglen)
    {
        if (!_trace.Enabled) return;
        _trace.Event("dax_writeback_one", $"{Dev(inode)} pgoff {Hex(pgoff)} pglen {Hex(pglen)}");
    }
}
