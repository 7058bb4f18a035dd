using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

/// <summary>
/// A single-threaded user process (task_struct + mm_struct): its address space, signal dispositions,
/// the signals it received, its machine-check task-work state and its PR_MCE_KILL policy.
/// </summary>
public sealed partial class Process
{
    private readonly Dictionary<int, SignalDisposition> _dispositions = [];
    private readonly List<SigInfo> _pending = [];
    private readonly List<SigInfo> _received = [];
    internal readonly List<(string Name, Action Work)> TaskWork = [];

    internal Process(Machine machine, int pid, string comm)
    {
        Machine = machine;
        Pid = pid;
        Pgid = pid;
        Comm = CutComm(comm);
        Mm = new MmStruct(machine.Phys) { Host = machine };
    }

    /// <summary>The machine the process runs on.</summary>
    public Machine Machine { get; }
    /// <summary>Process id.</summary>
    public int Pid { get; }
    /// <summary>Command name (task->comm): at most TASK_COMM_LEN − 1 = 15 characters (set_task_comm cuts longer names).</summary>
    public string Comm { get; internal set; }
    /// <summary>Its address space.</summary>
    public MmStruct Mm { get; }
    /// <summary>Running, killed, oopsed or livelocked.</summary>
    public ProcessState State { get; internal set; } = ProcessState.Running;
    /// <summary>The signal that killed it, if one did.</summary>
    public SigInfo? KilledBy { get; private set; }
    /// <summary>Why it is stuck or oopsed, if it is.</summary>
    public string? StuckReason { get; internal set; }
    /// <summary>CAP_SYS_ADMIN (root by default).</summary>
    public bool CapSysAdmin { get; set; } = true;
    /// <summary>True while the process can still run.</summary>
    public bool Alive => State == ProcessState.Running;

    /// <summary>Signals caught by handlers, in delivery order (what the handler saw in siginfo).</summary>
    public IReadOnlyList<SigInfo> SignalsReceived => _received;

    /// <summary>Signals queued but not yet delivered.</summary>
    public IReadOnlyList<SigInfo> SignalsPending => _pending;
    /// <summary>Whether any signal is queued (signal_pending's test, without an interface call per check).</summary>
    public bool HasSignalsPending => _pending.Count != 0;

    // ---- PR_MCE_KILL (task->flags PF_MCE_PROCESS / PF_MCE_EARLY) ----
    internal bool PfMceProcess;
    internal bool PfMceEarly;

    // ---- machine-check task work (arch/x86/kernel/cpu/mce/core.c queue_task_work) ----
    internal int MceCount;
    internal PhysAddr MceAddr;
    internal bool MceRipv;
    internal bool MceWholePage;
    internal int MceKflags;
    internal ulong MceVaddr = ulong.MaxValue;
    internal bool MceKillMeQueued;

    /// <summary>sigaction: set what happens when signo arrives.</summary>
    public void SetSignalHandler(int signo, SignalDisposition disposition) => _dispositions[signo] = disposition;

    /// <summary>The current disposition of signo.</summary>
    public SignalDisposition GetSignalHandler(int signo) => _dispositions.GetValueOrDefault(signo);

    /// <summary>
    /// force_sig_info / force_sig_mceerr: cannot be ignored; an ignoring disposition is reset to SIG_DFL.
    /// A standard signal already pending is not queued twice.
    /// </summary>
    internal void ForceSig(SigInfo info)
    {
        if (!Alive) return;
        if (GetSignalHandler(info.Signo) == SignalDisposition.Ignore) _dispositions[info.Signo] = SignalDisposition.Default;
        Queue(info with { Forced = true });
    }

    /// <summary>
    /// force_sig_mceerr(code, addr, lsb) (kernel/signal.c): a forced SIGBUS with BUS_MCEERR_AR or BUS_MCEERR_AO, the
    /// address and the poison granularity (si_addr_lsb).
    /// </summary>
    public void ForceSigMceerr(int code, ulong addr, short lsb) => ForceSig(new SigInfo(Sig.SIGBUS, code, addr, lsb, true));

    /// <summary>send_sig_info / send_sig_mceerr: dropped when ignored.</summary>
    internal void SendSig(SigInfo info)
    {
        if (!Alive) return;
        if (GetSignalHandler(info.Signo) == SignalDisposition.Ignore && info.Signo != Sig.SIGKILL) return;
        Queue(info);
        if (Machine.Current != this) DeliverSignals(); // it runs in user space: delivered at once
    }

    private void Queue(SigInfo info)
    {
        foreach (var p in _pending) if (p.Signo == info.Signo) return; // legacy signals do not queue
        _pending.Add(info);
        Machine.Tracer.Event("signal", $"{Comm}:{Pid} <- {info}");
    }

    /// <summary>Deliver pending signals as on return to user mode (lowest number first).</summary>
    internal void DeliverSignals()
    {
        _pending.Sort((a, b) => a.Signo.CompareTo(b.Signo));
        while (_pending.Count > 0 && Alive)
        {
            var s = _pending[0];
            _pending.RemoveAt(0);
            if (s.Signo != Sig.SIGKILL && GetSignalHandler(s.Signo) == SignalDisposition.Catch)
            {
                _received.Add(s);
                continue;
            }
            if (GetSignalHandler(s.Signo) == SignalDisposition.Ignore && s.Signo != Sig.SIGKILL) continue;
            State = ProcessState.Killed;
            KilledBy = s;
            _pending.Clear();
            Machine.State.Printk($"{Comm}[{Pid}]: killed by {Sig.Name(s.Signo)} ({Sig.CodeName(s.Signo, s.Code)}) at 0x{s.Addr:x}");
            Mm.UnmapRange(0, PageDefs.TASK_SIZE_MAX); // exit_mmap
            ExitFiles();
        }
    }

    /// <summary>exit_to_user_mode_loop: task work, then signals.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void ReturnToUser()
    {
        if (TaskWork.Count != 0 || _pending.Count != 0) ExitToUserModeLoop(); // nothing to do on most system calls
    }

    private void ExitToUserModeLoop()
    {
        // task_work_run: work added while running runs too.
        while (TaskWork.Count > 0)
        {
            var (name, work) = TaskWork[0];
            TaskWork.RemoveAt(0);
            using (Machine.Tracer.Fn(name, "mce")) work();
        }
        DeliverSignals();
    }

    /// <summary>Every signal the process saw: those caught by handlers, then the one that killed it, if any.</summary>
    public IEnumerable<SigInfo> AllSignals => KilledBy is { } k ? _received.Append(k) : _received;
}
