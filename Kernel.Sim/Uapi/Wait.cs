namespace KernelSim.Uapi;

/// <summary>
/// wait4 options and the status word (include/uapi/linux/wait.h; the W* macros of glibc's bits/waitstatus.h, which
/// decode what kernel/exit.c wait_task_zombie stores: exit code &lt;&lt; 8, or the signal number with 0x80 for a core dump).
/// </summary>
public static class Wait
{
    public const int WNOHANG = 0x1;
    public const int WUNTRACED = 0x2;
    public const int WCONTINUED = 0x8;
    public const int __WNOTHREAD = 0x20000000;
    public const int __WALL = 0x40000000;
    public const int __WCLONE = unchecked((int)0x80000000);

    /// <summary>WIFEXITED: the child called exit (no signal bits).</summary>
    public static bool WIFEXITED(int status) => (status & 0x7f) == 0;

    /// <summary>WEXITSTATUS: the low 8 bits of the exit code.</summary>
    public static int WEXITSTATUS(int status) => (status >> 8) & 0xff;

    /// <summary>WIFSIGNALED: a signal ended the child.</summary>
    public static bool WIFSIGNALED(int status) => ((sbyte)((status & 0x7f) + 1) >> 1) > 0;

    /// <summary>WTERMSIG: the signal that ended it.</summary>
    public static int WTERMSIG(int status) => status & 0x7f;

    /// <summary>WCOREDUMP: a core file was written (0x80).</summary>
    public static bool WCOREDUMP(int status) => (status & 0x80) != 0;
}
