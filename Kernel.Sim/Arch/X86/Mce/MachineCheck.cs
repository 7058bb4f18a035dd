using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Arch.X86;

/// <summary>
/// arch/x86/kernel/cpu/mce/core.c and severity.c: do_machine_check, error_context, the severity rules
/// that matter for data-load errors (SRAR), queue_task_work and the kill_me_* callbacks. Every logged
/// record also goes to the decode chain (NFIT's notifier) from the workqueue, as mce_gen_pool work does.
/// </summary>
public sealed class MachineCheck(KernelProfile profile, ExceptionTable extable, Scheduler sched, MemoryFailure mf,
    KernelMap kmap, MachineState state, Tracer trace, IWorkQueue wq)
{
    private readonly List<MceRecord> _log = [];
    private bool _mcip;
    private bool _nestedNext;

    /// <summary>Every machine check since boot.</summary>
    public IReadOnlyList<MceRecord> Log => _log;

    /// <summary>MCG_STATUS.RIPV/EIPV as the CPU reports them for data-load errors (both set by default).</summary>
    public bool RestartIpValid { get; set; } = true;

    /// <summary>
    /// x86_mce_decoder_chain: notifiers run from deferred work for each logged error (nfit_handle_mce
    /// subscribes here).
    /// </summary>
    public event Action<MceRecord>? DecodeChain;

    /// <summary>Fault injection: make the next machine check arrive while another is being handled (MCIP set).</summary>
    public void InjectNestedOnNext() => _nestedNext = true;

    /// <summary>error_context(m, regs) for this release (B1, B3).</summary>
    internal McContext ErrorContext(in MceEvent ev, out MceKflags kflags)
    {
        kflags = MceKflags.None;
        if (ev.UserMode) return McContext.IN_USER;
        if (!RestartIpValid) return McContext.IN_KERNEL;
        var type = extable.TypeAt(ev.Site);
        var copyinKnown = profile.CopyInMc != CopyInMcMode.Panic; // is_copy_from_user exists (5.10+)
        var mceSafe = type is ExTableType.EX_TYPE_DEFAULT_MCE_SAFE or ExTableType.EX_TYPE_FAULT_MCE_SAFE;
        if (copyinKnown && ev.SourceIsUser &&
            (profile.IsCopyFromUserAuthoritative || type is ExTableType.EX_TYPE_UACCESS or ExTableType.EX_TYPE_COPY))
        {
            kflags = MceKflags.MCE_IN_KERNEL_COPYIN | MceKflags.MCE_IN_KERNEL_RECOV;
            return McContext.IN_KERNEL_RECOV;
        }
        if (mceSafe)
        {
            kflags = MceKflags.MCE_IN_KERNEL_RECOV;
            return McContext.IN_KERNEL_RECOV;
        }
        return McContext.IN_KERNEL;
    }

    /// <summary>do_machine_check for one SRAR data-load error. Returns only when recovered.</summary>
    internal void DoMachineCheck(in MceEvent ev)
    {
        if (_mcip || _nestedNext)
        {
            _nestedNext = false;
            throw state.Shutdown("CPU 0: machine check while MCIP set: processor shutdown (triple fault), system reset");
        }
        _mcip = true;
        try
        {
            Handle(ev);
        }
        finally
        {
            _mcip = false; // wrmsr MCG_STATUS = 0
        }
    }

    private void Handle(in MceEvent ev)
    {
        var ctx = ErrorContext(ev, out var kflags);
        var (sev, msg) = ctx switch
        {
            McContext.IN_USER => (MceSeverity.MCE_AR_SEVERITY, "Action required: data load error in a user process"),
            McContext.IN_KERNEL_RECOV => (MceSeverity.MCE_AR_SEVERITY, "Action required: data load in error recoverable area of kernel"),
            _ when !RestartIpValid => (MceSeverity.MCE_PANIC_SEVERITY, "In kernel and no restart IP"),
            _ => (MceSeverity.MCE_PANIC_SEVERITY, "Data load in unrecoverable area of kernel"),
        };
        var rec = new MceRecord(_log.Count + 1, ev.Addr, PageDefs.CACHELINE_SHIFT, ctx, kflags, sev, msg);
        _log.Add(rec);
        if (trace.Enabled)
            trace.Event("#MC", $"pa {ev.Addr} {(ev.UserMode ? "user" : $"kernel at {ev.Site}")} ctx={ctx} kflags={kflags} sev={sev.Short()}");
        state.Printk($"mce: [Hardware Error]: Machine check events logged");
        state.Printk($"mce: Uncorrected hardware memory error in {(ev.UserMode ? "user-access" : "kernel")} at {ev.Addr.Value:x}");
        if (DecodeChain != null)
        {
            var chain = DecodeChain;
            wq.Schedule("mce_work(x86_mce_decoder_chain)", () => chain(rec));
        }

        if (sev == MceSeverity.MCE_PANIC_SEVERITY) throw state.Panic($"Fatal local machine check: {msg}");
        var current = sched.Current;
        if (ev.UserMode)
        {
            if (current != null) QueueTaskWork(current, ev, kflags, KillMeMaybe);
            return;
        }
        // Kernel mode with MCE_IN_KERNEL_RECOV.
        if (!extable.FixupException(ev.Site, TrapNr.X86_TRAP_MC))
            throw state.Panic("Failed kernel mode recovery");
        if (trace.Enabled) trace.Event("fixup", $"{ev.Site} → {extable.TypeAt(ev.Site)} (trap 18)");
        if ((kflags & MceKflags.MCE_IN_KERNEL_COPYIN) != 0 && current != null)
        {
            current.MceVaddr = ev.UserVaddr;
            QueueTaskWork(current, ev, kflags, profile.CopyInMc == CopyInMcMode.KillMeNever ? KillMeNever : KillMeMaybe);
        }
    }

    /// <summary>queue_task_work (B5): count machine checks until the task returns to user space.</summary>
    private void QueueTaskWork(Process p, in MceEvent ev, MceKflags kflags, Action<Process> func)
    {
        if (profile.MceCountLimit)
        {
            var count = ++p.MceCount;
            if (count == 1)
            {
                p.MceAddr = ev.Addr;
                p.MceKflags = (int)kflags;
                p.MceRipv = RestartIpValid;
                p.MceWholePage = false; // MCi_MISC valid with lsb 6
            }
            if (count > 10) throw state.Panic("Too many consecutive machine checks while accessing user data");
            if (count > 1 && p.MceAddr.Pfn != ev.Addr.Pfn) throw state.Panic("Consecutive machine checks to different user pages");
            if (count > 1) return;
            AddTaskWork(p, func);
            return;
        }
        // Before "x86/mce: Avoid infinite loop for copy from user recovery": fields overwritten, and the same
        // callback_head added again, which makes task_work_run loop forever.
        p.MceAddr = ev.Addr;
        p.MceKflags = (int)kflags;
        p.MceRipv = RestartIpValid;
        if (p.MceKillMeQueued)
            throw new KernelLivelockException("task_work_add() of mce_kill_me twice: task_work list loops forever (fixed in 5.15)");
        AddTaskWork(p, func);
    }

    private void AddTaskWork(Process p, Action<Process> func)
    {
        p.MceKillMeQueued = true;
        var name = func == KillMeNever ? "kill_me_never" : "kill_me_maybe";
        p.TaskWork.Add((name, () =>
        {
            p.MceKillMeQueued = false;
            func(p);
        }));
    }

    /// <summary>kill_me_now: force_sig(SIGBUS) with no address (SI_KERNEL).</summary>
    private void KillMeNow(Process p)
    {
        p.MceCount = 0;
        p.ForceSig(new SigInfo(Sig.SIGBUS, Sig.SI_KERNEL, 0, 0, true));
    }

    /// <summary>kill_me_maybe: memory_failure(pfn, MF_ACTION_REQUIRED [| MF_MUST_KILL]).</summary>
    private void KillMeMaybe(Process p)
    {
        p.MceCount = 0;
        var pfn = p.MceAddr.Pfn;
        state.Printk($"Uncorrected hardware memory error in user-access at {p.MceAddr.Value:x}");
        var flags = MfFlags.MF_ACTION_REQUIRED | (p.MceRipv ? MfFlags.None : MfFlags.MF_MUST_KILL);
        var ret = mf.Run(pfn, flags);
        var copyin = ((MceKflags)p.MceKflags & MceKflags.MCE_IN_KERNEL_COPYIN) != 0;
        if (profile.CopyInMc == CopyInMcMode.SigbusAr)
        {
            // 5.10–5.15 form: a COPYIN event sends SIGBUS AR at the decoded user address (mce_vaddr) even when
            // memory_failure recovered; a SIGBUS already queued by kill_proc wins (legacy signals do not queue twice).
            if (ret == 0 && !copyin)
            {
                SetMceNospec(pfn);
                return;
            }
            if (p.MceVaddr != ulong.MaxValue)
            {
                p.ForceSig(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, p.MceVaddr, PageDefs.PAGE_SHIFT, true));
                p.MceVaddr = ulong.MaxValue;
                return;
            }
            state.Printk("Memory error not recovered");
            KillMeNow(p);
            return;
        }
        if (ret == 0)
        {
            SetMceNospec(pfn);
            return;
        }
        if (ret == -Errno.EHWPOISON || ret == -Errno.EOPNOTSUPP) return;
        state.Printk("Memory error not recovered");
        KillMeNow(p);
    }

    /// <summary>kill_me_never (5.16+): offline the page, no signal.</summary>
    private void KillMeNever(Process p)
    {
        p.MceCount = 0;
        state.Printk($"Kernel accessed poison in user space at {p.MceAddr.Value:x}");
        if (mf.Run(p.MceAddr.Pfn, MfFlags.None) == 0) SetMceNospec(p.MceAddr.Pfn);
    }

    /// <summary>set_mce_nospec: unmap from the direct map (always from 5.19; whole-page errors only before, else UC).</summary>
    private void SetMceNospec(ulong pfn)
    {
        if (profile.SetMceNospecAlwaysUnmap) kmap.SetMceNospec(pfn);
        // Before 5.19 a 64-byte error left the page mapped uncached: loads still reach the media.
    }
}
