namespace KernelSim.Mm;

/// <summary>A page-table entry for one 4 KiB virtual page (a PMD mapping is 512 entries with <see cref="Shift"/> 21).</summary>
internal struct Pte
{
    public ulong Pfn;
    public bool Present;
    public bool Writable;
    public bool Dirty;
    /// <summary>pte_protnone: the page stays but the hardware sees no access (mprotect PROT_NONE).</summary>
    public bool ProtNone;
    /// <summary>A hwpoison swap entry (make_hwpoison_entry): not present; touching it is VM_FAULT_HWPOISON.</summary>
    public bool HwPoisonEntry;
    /// <summary>Mapping size shift: 12 for a PTE, 21 for a PMD (used for si_addr_lsb and memory_failure).</summary>
    public int Shift;
}
