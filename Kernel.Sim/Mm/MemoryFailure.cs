using KernelSim.Kernel;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Mm;

/// <summary>
/// mm/memory-failure.c: marks a page HWPoison, unmaps it from every process (PTEs become hwpoison
/// entries), and signals the processes that must know (kill_proc). ZONE_DEVICE pages go to their
/// dev_pagemap (<see cref="IDevPagemap"/>), which later layers implement.
/// </summary>
public sealed partial class MemoryFailure(PhysicalMemory phys, Scheduler sched, KernelProfile profile, MachineState state, Tracer trace)
{
    /// <summary>sysctl vm.memory_failure_recovery (default 1; 0 → panic).</summary>
    public bool Recovery { get; set; } = true;

    /// <summary>sysctl vm.memory_failure_early_kill (default 0).</summary>
    public bool EarlyKill { get; set; }

    /// <summary>Pages handled so far (num_poisoned_pages).</summary>
    public int PoisonedPages { get; private set; }

    /// <summary>memory_failure(pfn, flags): 0, -EHWPOISON (already poisoned), -EBUSY, -ENXIO, -EOPNOTSUPP, -EFAULT.</summary>
    public int Run(ulong pfn, MfFlags flags)
    {
        using var _ = trace.Fn("memory_failure", "mm");
        if (!Recovery) throw state.Panic($"Memory failure on page {pfn:x}");
        // hw_memory_failure (5.19+, with MF_SW_SIMULATED): a real hardware error disables unpoison from now on.
        if (profile.MadviseHwpoisonSwSimulated && (flags & MfFlags.MF_SW_SIMULATED) == 0) HwMemoryFailure = true;
        var range = phys.FindRange(PhysAddr.FromPfn(pfn));
        if (range == null)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: memory outside kernel control");
            return -Errno.ENXIO;
        }
        if (range.Kind != MemoryKind.Dram)
        {
            // pfn_to_online_page() is NULL for ZONE_DEVICE: memory_failure_dev_pagemap (4.19+).
            if (range.Pagemap == null)
            {
                state.Printk($"Memory failure: 0x{pfn:x}: memory outside kernel control");
                return -Errno.ENXIO;
            }
            if (!profile.MemoryFailureDevPagemap) return ReservedZoneDevicePage(pfn);
            return range.Pagemap.MemoryFailure(pfn, flags);
        }

        var page = phys.Frame(pfn);
        if (page.Huge != null) return TryMemoryFailureHugetlb(page, pfn, flags);
        if (page.IsHwPoison)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: already hardware poisoned");
            if (!profile.AlreadyPoisonedKillsAccessor) return 0; // 5.10: nothing sent, the task re-faults
            if ((flags & MfFlags.MF_ACTION_REQUIRED) != 0) return KillAccessingProcess(pfn, flags);
            return -Errno.EHWPOISON;
        }
        page.Flags |= PageFlags.PG_hwpoison;
        PoisonedPages++;

        if ((page.Flags & PageFlags.PG_reserved) != 0)
            return ActionResult(pfn, MF_MSG_KERNEL, MfResult.MF_IGNORED);
        var folio = page.CacheFolio;
        if (folio == null && (page.Flags & (PageFlags.PAGE_MAPPING_ANON | PageFlags.PG_swapbacked)) == 0 && page.MapCount == 0)
            return ActionResult(pfn, "free buddy page", MfResult.MF_RECOVERED); // taken off the free lists

        HwpoisonUserMappings(page, pfn, flags);
        if (folio is { Mapping: not null }) return MePagecache(folio, pfn);
        var dirty = (page.Flags & PageFlags.PG_dirty) != 0;
        return ActionResult(pfn, dirty ? MF_MSG_DIRTY_LRU : MF_MSG_CLEAN_LRU, MfResult.MF_RECOVERED);
    }

    /// <summary>
    /// Before 4.19 memory_failure knew only pfn_valid(): a ZONE_DEVICE page (pmem with struct pages) went down the
    /// ordinary path as a PG_reserved page — TestSetPageHWPoison, num_poisoned_pages_inc, then identify_page_state's
    /// first state, me_kernel, whose page_action finds one reference besides its own ("still referenced by 1 users",
    /// as the cover letter of "mm: Teach memory_failure() about ZONE_DEVICE pages" shows) and fails: −EBUSY, nothing
    /// unmapped, nobody signalled.
    /// </summary>
    private int ReservedZoneDevicePage(ulong pfn)
    {
        var page = phys.Frame(pfn);
        if (page.IsHwPoison)
        {
            state.Printk($"Memory failure: 0x{pfn:x}: already hardware poisoned");
            return 0;
        }
        page.SetHWPoison();
        PoisonedPages++;
        state.Printk($"Memory failure: 0x{pfn:x}: {MF_MSG_KERNEL} still referenced by 1 users");
        return ActionResult(pfn, MF_MSG_KERNEL, MfResult.MF_FAILED);
    }

    /// <summary>
    /// action_result (mm/memory-failure.c): log "recovery action for &lt;type&gt;: &lt;result&gt;"; with
    /// vm.panic_on_unrecoverable_memory_failure set, an ignored kernel page panics (panic_on_unrecoverable_mf). 0 for
    /// recovered or delayed, −EBUSY otherwise.
    /// </summary>
    private int ActionResult(ulong pfn, string type, MfResult result)
    {
        state.Printk($"Memory failure: 0x{pfn:x}: recovery action for {type}: {ResultName(result)}");
        if (PanicOnUnrecoverable && result == MfResult.MF_IGNORED && type == MF_MSG_KERNEL)
            throw state.Panic($"Memory failure: 0x{pfn:x}: unrecoverable page");
        return result is MfResult.MF_RECOVERED or MfResult.MF_DELAYED ? 0 : -Errno.EBUSY;
    }

    /// <summary>
    /// hwpoison_user_mappings: for a clean page-cache page of a mapping that can write back (and no MF_MUST_KILL),
    /// folio_mkclean decides — a dirty or writable PTE makes the folio dirty, otherwise the page "was clean: dropped
    /// without side effects" and the PTEs are simply removed (no TTU_HWPOISON: the next access re-reads the file).
    /// Then collect the processes to tell (before unmapping), unmap every mapping (into hwpoison entries with
    /// TTU_HWPOISON, propagating PTE dirty bits to the page), and kill_procs when the page is dirty or MUST_KILL.
    /// </summary>
    private void HwpoisonUserMappings(PageFrame page, ulong pfn, MfFlags flags)
    {
        var folio = page.CacheFolio;
        var ttuHwpoison = true;
        if (page.MapCount > 0 && (flags & MfFlags.MF_MUST_KILL) == 0 && folio is { Dirty: false, Mapping: { } mapping } && mapping.AOps.CanWriteback)
        {
            if (mapping.FolioMkclean(folio))
            {
                folio.Dirty = true;
            }
            else
            {
                ttuHwpoison = false;
                state.Printk($"Memory failure: 0x{pfn:x}: corrupted page was clean: dropped without side effects");
            }
        }
        var tokill = CollectProcs(page, forceEarly: (flags & MfFlags.MF_ACTION_REQUIRED) != 0);
        if (page.Rmap != null)
        {
            foreach (var (mm, va) in page.Rmap.ToArray())
            {
                if (ttuHwpoison) mm.UnmapForHwpoison(va);
                else mm.ZapRange(va, va + PageDefs.PAGE_SIZE);
            }
        }
        if (folio != null && (page.Flags & PageFlags.PG_dirty) != 0)
        {
            folio.Dirty = true; // try_to_unmap_one: folio_mark_dirty for a dirty PTE
            page.Flags &= ~PageFlags.PG_dirty;
        }
        var forcekill = (page.Flags & PageFlags.PG_dirty) != 0 || folio is { Dirty: true } || (flags & MfFlags.MF_MUST_KILL) != 0;
        KillProcs(tokill, forcekill, pfn, flags);
    }

    /// <summary>collect_procs: the mapping processes that task_early_kill selects, with their page-aligned address.</summary>
    private List<ToKill> CollectProcs(PageFrame page, bool forceEarly)
    {
        var list = new List<ToKill>();
        if (page.Rmap == null) return list;
        foreach (var (mm, va) in page.Rmap)
        {
            var owner = sched.OwnerOf(mm);
            if (owner == null) continue;
            if (TaskEarlyKill(owner, forceEarly) == null) continue;
            list.Add(new ToKill(owner, va, mm.ShiftAt(va)));
        }
        return list;
    }

    /// <summary>task_early_kill(tsk, force_early).</summary>
    public Process? TaskEarlyKill(Process tsk, bool forceEarly)
    {
        if (!tsk.Alive) return null;
        if (forceEarly && ReferenceEquals(tsk, sched.Current)) return tsk;
        // find_early_kill_thread: a per-task prctl wins over the sysctl.
        if (tsk.PfMceProcess) return tsk.PfMceEarly ? tsk : null;
        return EarlyKill ? tsk : null;
    }

    /// <summary>A process to signal: its page-aligned address and mapping shift.</summary>
    public readonly record struct ToKill(Process Task, ulong Addr, int SizeShift);

    /// <summary>kill_procs: signal each collected process when forcekill (else nobody is told now).</summary>
    public void KillProcs(IEnumerable<ToKill> tokill, bool forcekill, ulong pfn, MfFlags flags)
    {
        if (!forcekill) return;
        foreach (var tk in tokill) KillProc(tk, pfn, flags);
    }

    /// <summary>
    /// kill_proc: BUS_MCEERR_AR forced on current for MF_ACTION_REQUIRED, else BUS_MCEERR_AO (not forced,
    /// can be ignored) — si_addr is the page-aligned address in that process.
    /// </summary>
    public void KillProc(ToKill tk, ulong pfn, MfFlags flags)
    {
        state.Printk($"Memory failure: 0x{pfn:x}: Sending SIGBUS to {tk.Task.Comm}:{tk.Task.Pid} due to hardware memory corruption");
        if ((flags & MfFlags.MF_ACTION_REQUIRED) != 0 && ReferenceEquals(tk.Task, sched.Current))
            tk.Task.ForceSig(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, tk.Addr, (short)tk.SizeShift, true));
        else
            tk.Task.SendSig(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AO, tk.Addr, (short)tk.SizeShift, false));
    }

    /// <summary>
    /// kill_accessing_process (already-poisoned page, MF_ACTION_REQUIRED): find the page (or its hwpoison
    /// entry) in current's page tables and send BUS_MCEERR_AR at that page-aligned address.
    /// </summary>
    private int KillAccessingProcess(ulong pfn, MfFlags flags)
    {
        var cur = sched.Current;
        if (cur == null) return -Errno.EFAULT;
        foreach (var vma in cur.Mm.Vmas)
        {
            for (var va = vma.Start; va < vma.End; va += PageDefs.PAGE_SIZE)
            {
                var mapped = cur.Mm.PfnAt(va) == pfn;
                if (!mapped && !(cur.Mm.IsHwPoisonEntry(va) && cur.Mm.HwPoisonPfn(va) == pfn)) continue;
                KillProc(new ToKill(cur, va, cur.Mm.ShiftAt(va)), pfn, flags);
                return -Errno.EHWPOISON;
            }
        }
        return profile.Version >= KernelVersion.V(6, 12) ? -Errno.EFAULT : 0;
    }
}
