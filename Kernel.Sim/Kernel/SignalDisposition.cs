namespace KernelSim.Kernel;

/// <summary>What a process does with a signal (its sigaction).</summary>
public enum SignalDisposition
{
    /// <summary>SIG_DFL: SIGBUS/SIGSEGV kill the process (core dump).</summary>
    Default,
    /// <summary>SIG_IGN: dropped, unless the kernel forces it (force_sig resets it to SIG_DFL).</summary>
    Ignore,
    /// <summary>A handler: the signal is recorded and the process continues (as if the handler siglongjmp'd out).</summary>
    Catch,
}

/// <summary>Whether a process is still running.</summary>
public enum ProcessState
{
    /// <summary>Alive.</summary>
    Running,
    /// <summary>Killed by a signal (see <see cref="Process.KilledBy"/>).</summary>
    Killed,
    /// <summary>Killed by an oops in one of its system calls.</summary>
    Oopsed,
    /// <summary>Stuck forever in the kernel (livelock): the simulator reports it instead of spinning.</summary>
    Livelocked,
    /// <summary>Called exit(2): a zombie until its parent reaps it with wait4 (see <see cref="Process.ExitCode"/>).</summary>
    Exited,
}
