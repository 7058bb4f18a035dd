namespace KernelSim.Mm;

public sealed partial class MmStruct
{
    /// <summary>
    /// move_vma (mm/mremap.c): copy_vma puts a VMA for [newAddr, newAddr + len) with the old range's backing and vm_pgoff,
    /// move_page_tables moves every entry (pages keep their identity, hwpoison entries move too; a PMD entry moves whole
    /// only when both addresses are 2 MiB-aligned and the range covers it, otherwise it is split, which for a file
    /// mapping zaps it so it is faulted in again). Without <paramref name="dontUnmap"/> the old range is then unmapped;
    /// with it (MREMAP_DONTUNMAP) the old VMA stays, emptied: it faults in fresh (zero-filled anonymous) pages.
    /// </summary>
    internal void MoveVma(Vma vma, ulong oldAddr, ulong len, ulong newAddr, bool dontUnmap)
    {
        using var _ = Host?.Tracer.Fn("move_vma", "mm");
        var nv = vma.CloneRange(oldAddr, oldAddr + len);
        nv.End = newAddr + len;
        nv.Start = newAddr;
        InsertVma(nv);
        foreach (var va in PagesWithPtes(oldAddr, oldAddr + len))
        {
            var vpn = va >> PageDefs.PAGE_SHIFT;
            var pte = _ptes[vpn];
            var to = newAddr + (va - oldAddr);
            if (pte.Shift > PageDefs.PAGE_SHIFT)
            {
                var pmdBase = va & ~(PageDefs.PMD_SIZE - 1);
                var whole = ((oldAddr | newAddr) & (PageDefs.PMD_SIZE - 1)) == 0 && pmdBase >= oldAddr && pmdBase + PageDefs.PMD_SIZE <= oldAddr + len;
                if (!whole)
                {
                    if (pte.Present) ZapPte(va, freeAnon: true);
                    else _ptes.Remove(vpn);
                    continue;
                }
            }
            _ptes.Remove(vpn);
            _ptes[to >> PageDefs.PAGE_SHIFT] = pte;
            if (pte.Present)
            {
                var f = _phys.Frame(pte.Pfn);
                f.RemoveRmap(this, va);
                f.AddRmap(this, to);
            }
        }
        if (!dontUnmap) UnmapRange(oldAddr, oldAddr + len);
    }

    /// <summary>vma_expandable + vma_adjust: grow <paramref name="vma"/> in place to <paramref name="newEnd"/> when nothing is mapped there.</summary>
    internal bool TryExpandInPlace(Vma vma, ulong newEnd)
    {
        if (newEnd > PageDefs.TASK_SIZE_MAX || Overlaps(vma.End, newEnd)) return false;
        vma.End = newEnd;
        return true;
    }
}
