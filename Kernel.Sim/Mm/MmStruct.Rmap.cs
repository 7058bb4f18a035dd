namespace KernelSim.Mm;

public sealed partial class MmStruct
{
    /// <summary>True if the present PTE at <paramref name="pageVa"/> is dirty (pte_dirty).</summary>
    internal bool PteDirty(ulong pageVa) =>
        _ptes.TryGetValue(pageVa >> PageDefs.PAGE_SHIFT, out var p) && p.Present && p.Dirty;

    /// <summary>
    /// remove_migration_pte for one mapping: the PTE now maps <paramref name="newPfn"/> with the same protection and dirty
    /// bit (migration replaced the page), and the reverse maps move with it.
    /// </summary>
    internal void RemapPte(ulong pageVa, ulong newPfn)
    {
        var vpn = pageVa >> PageDefs.PAGE_SHIFT;
        if (!_ptes.TryGetValue(vpn, out var pte) || !pte.Present) return;
        _phys.Frame(pte.Pfn).RemoveRmap(this, pageVa);
        pte.Pfn = newPfn;
        _ptes[vpn] = pte;
        _phys.Frame(newPfn).AddRmap(this, pageVa);
    }

    /// <summary>What the page table holds for one 4 KiB page, for /proc/&lt;pid&gt;/pagemap.</summary>
    internal (bool Present, bool HwPoison, ulong Pfn, int Shift) PteAt(ulong va) =>
        _ptes.TryGetValue(va >> PageDefs.PAGE_SHIFT, out var p) ? (p.Present, p.HwPoisonEntry, p.Pfn, p.Shift) : (false, false, 0, 0);
}
