using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>TASK_COMM_LEN (include/linux/sched.h): task->comm holds 15 characters and the NUL.</summary>
    public const int TASK_COMM_LEN = 16;

    private readonly List<Process> _children = [];

    /// <summary>The parent (real_parent); null for a spawned process or once the parent exited (reparented to init).</summary>
    public Process? Parent { get; private set; }

    /// <summary>Children not yet reaped, in fork order.</summary>
    public IReadOnlyList<Process> Children => _children;

    /// <summary>The process group (pgid): its own pid when spawned, inherited by fork (setpgid is not modelled).</summary>
    public int Pgid { get; private set; }

    /// <summary>
    /// RLIMIT_CORE (soft, bytes): 0 as most distributions ship it, so a signal whose default action dumps core
    /// (SIGBUS, SIGSEGV) writes none and the wait status has no 0x80 bit; binfmt_elf needs at least PAGE_SIZE (min_coredump).
    /// </summary>
    public ulong RlimitCore { get; set; }

    /// <summary>
    /// The wait status word once the process is dead (kernel/exit.c): exit code &lt;&lt; 8 after exit(2), the signal number
    /// (| 0x80 when a core was dumped) after a fatal signal, SIGSEGV after an oops (make_task_dead); null while alive.
    /// </summary>
    public int? ExitCode => State switch
    {
        ProcessState.Exited => _exitCode,
        ProcessState.Killed when KilledBy is { } k => k.Signo | (DumpsCore(k.Signo) && RlimitCore >= PageDefs.PAGE_SIZE ? 0x80 : 0),
        ProcessState.Oopsed => Sig.SIGSEGV,
        _ => null,
    };

    private int _exitCode;

    /// <summary>sig_kernel_coredump: the signals whose default action dumps core (of those the simulator sends).</summary>
    private static bool DumpsCore(int signo) => signo is Sig.SIGBUS or Sig.SIGSEGV;

    /// <summary>__set_task_comm / strscpy_pad into char comm[TASK_COMM_LEN]: longer names are cut to 15 characters.</summary>
    internal static string CutComm(string comm) => comm.Length > TASK_COMM_LEN - 1 ? comm[..(TASK_COMM_LEN - 1)] : comm;

    /// <summary>
    /// fork(2) (kernel/fork.c kernel_clone → copy_process): a child with a new pid and the same comm, credentials,
    /// PR_MCE_KILL policy (task flags), signal dispositions (copy_sighand) but no pending signals (the pending set is
    /// cleared), the same open files by reference (dup_fd: the same struct file, so f_pos is shared) and a copy of the
    /// address space (dup_mmap, <see cref="MmStruct.DupMmap"/>): private memory copy-on-write, shared memory shared.
    /// Returns the child's pid to the parent (the child's own return of 0 is not modelled: it runs only when driven).
    /// </summary>
    public long Fork(out Process? child)
    {
        Process? made = null;
        var r = Machine.Syscall(this, "sys_fork", () =>
        {
            using var _ = Machine.Tracer.Fn("kernel_clone", "kernel");
            var c = Machine.Spawn(Comm);
            c.Parent = this;
            c.Pgid = Pgid;
            c.CapSysAdmin = CapSysAdmin;
            c.NofileLimit = NofileLimit;
            c.RlimitCore = RlimitCore;
            c.PfMceProcess = PfMceProcess;
            c.PfMceEarly = PfMceEarly;
            foreach (var (signo, d) in _dispositions) c._dispositions[signo] = d;
            foreach (var f in _fds)
            {
                if (f != null) f.Count++;
                c._fds.Add(f);
            }
            c.Mm.DupMmap(Mm);
            _children.Add(c);
            made = c;
            return c.Pid;
        });
        child = made;
        return r;
    }

    /// <summary>
    /// exit_group(2) (do_exit): the address space is torn down (exit_mmap), the files are put (exit_files), the process
    /// becomes a zombie with status (code &amp; 0xff) &lt;&lt; 8 for its parent's wait4, and its children go to init.
    /// </summary>
    public void Exit(int code) => Machine.Syscall(this, "sys_exit_group", () =>
    {
        if (!Alive) return 0;
        _exitCode = (code & 0xff) << 8;
        State = ProcessState.Exited;
        _pending.Clear();
        Mm.UnmapRange(0, PageDefs.TASK_SIZE_MAX);
        ExitFiles();
        return 0;
    });

    /// <summary>
    /// wait4(2) (kernel/exit.c do_wait) without the status pointer: as <see cref="Wait4(int, UserPtr, int)"/>, the status
    /// returned in <paramref name="status"/> (0 when nothing was reaped).
    /// </summary>
    public long Wait4(int pid, out int status, int options = 0)
    {
        var st = 0;
        var r = Machine.Syscall(this, "sys_wait4", () => DoWait(pid, options, out st));
        status = st;
        return r;
    }

    /// <summary>
    /// wait4(2): −EINVAL for unknown options; the children that match <paramref name="pid"/> (&gt; 0 that pid, −1 any, 0
    /// the caller's process group, &lt; −1 group −pid) — none → −ECHILD; a dead one is reaped (release_task) and its pid
    /// returned, its status stored at <paramref name="wstatus"/> with put_user (−EFAULT if that faults; null pointer:
    /// not stored); none dead yet → 0 with WNOHANG, otherwise the caller sleeps until one changes state, which in a
    /// simulator running one task at a time never happens (the task is reported blocked, <see cref="HungTask"/>).
    /// WUNTRACED / WCONTINUED are accepted; stopped tasks do not exist here.
    /// </summary>
    public long Wait4(int pid, UserPtr wstatus, int options) => Machine.Syscall(this, "sys_wait4", () =>
    {
        var r = DoWait(pid, options, out var st);
        if (r > 0 && wstatus.Value != 0)
        {
            if (Machine.Copy.PutUser((uint)st, wstatus, 4) != 0) return -Errno.EFAULT;
        }
        return r;
    });

    private long DoWait(int pid, int options, out int status)
    {
        status = 0;
        if ((options & ~(Wait.WNOHANG | Wait.WUNTRACED | Wait.WCONTINUED | Wait.__WNOTHREAD | Wait.__WCLONE | Wait.__WALL)) != 0) return -Errno.EINVAL;
        // kernel_wait4: pid == INT_MIN is refused (−INT_MIN overflows).
        if (pid == int.MinValue) return -Errno.ESRCH;
        using var _ = Machine.Tracer.Fn("do_wait", "kernel");
        var any = false;
        foreach (var c in _children)
        {
            if (!Matches(c, pid)) continue;
            any = true;
            if (c.ExitCode is not { } code) continue;
            status = code;
            _children.Remove(c);
            Machine.Scheduler.Remove(c); // release_task
            return c.Pid;
        }
        if (!any) return -Errno.ECHILD;
        if ((options & Wait.WNOHANG) != 0) return 0;
        throw HungTask.Blocked($"wait4: {Comm}[{Pid}] sleeps until a child exits, and no other task runs");
    }

    private bool Matches(Process c, int pid) => pid switch
    {
        > 0 => c.Pid == pid,
        -1 => true,
        0 => c.Pgid == Pgid,
        _ => c.Pgid == -pid,
    };

    /// <summary>fput: drop one reference; the last one calls -&gt;release.</summary>
    internal static void Fput(KFile f)
    {
        if (--f.Count == 0) f.Release();
    }

    /// <summary>exit_files (do_exit): put every descriptor; orphans go to init (which reaps the dead ones).</summary>
    internal void ExitFiles()
    {
        for (var fd = 0; fd < _fds.Count; fd++)
        {
            if (_fds[fd] is { } f) Fput(f);
            _fds[fd] = null;
        }
        foreach (var c in _children)
        {
            c.Parent = null;
            if (c.ExitCode != null) Machine.Scheduler.Remove(c);
        }
        _children.Clear();
    }

    /// <summary>
    /// prctl(PR_SET_NAME, name) / prctl(PR_GET_NAME, buf) (kernel/sys.c): strncpy_from_user of at most 15 bytes into the
    /// on-stack comm (−EFAULT on a fault) / copy_to_user of the 16-byte comm, NUL-padded (−EFAULT). The user accesses are
    /// get_user / put_user of one byte each, which fault exactly where the kernel's copies do.
    /// </summary>
    private long PrctlName(int option, ulong arg2)
    {
        if (option == Mman.PR_SET_NAME)
        {
            var name = new System.Text.StringBuilder();
            for (var i = 0; i < TASK_COMM_LEN - 1; i++)
            {
                if (Machine.Copy.GetUser(new UserPtr(arg2 + (ulong)i), 1, out var b) != 0) return -Errno.EFAULT;
                if (b == 0) break;
                name.Append((char)b);
            }
            Comm = name.ToString();
            return 0;
        }
        for (var i = 0; i < TASK_COMM_LEN; i++)
        {
            var b = i < Comm.Length ? (byte)Comm[i] : (byte)0;
            if (Machine.Copy.PutUser(b, new UserPtr(arg2 + (ulong)i), 1) != 0) return -Errno.EFAULT;
        }
        return 0;
    }
}
