namespace KernelSim.Cli;

/// <summary>
/// The exit codes of every command, one scheme (docs/cli.md "Exit codes"): 0 and 1 for results, 2 for the command
/// line, sysexits.h codes for files (65, 66, 73, 74), the host (69) and the simulator (70), 128 + the signal when
/// interrupted;
/// `shrink` adds 3 and 4.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Every check held (a simulated panic is a result, not an error of the tool).</summary>
    public const int Ok = 0;

    /// <summary>A check failed: an expectation (run, demo, walkthrough), a blank (exercise), a step (crosscheck), a seed with silent corruption or a simulator bug (campaign, merge).</summary>
    public const int CheckFailed = 1;

    /// <summary>The command line is wrong: unknown command or option, a bad option value, options that do not combine, an unknown name.</summary>
    public const int Usage = 2;

    /// <summary>An input file's contents are unusable (sysexits EX_DATAERR): YAML error, unknown key or step, an unmodelled release, inputs that do not fit together.</summary>
    public const int DataError = 65;

    /// <summary>An input file cannot be opened (sysexits EX_NOINPUT): missing, a directory, unreadable.</summary>
    public const int NoInput = 66;

    /// <summary>Something the host must provide is missing (sysexits EX_UNAVAILABLE): crosscheck's QEMU, a tool, the kernel package.</summary>
    public const int Unavailable = 69;

    /// <summary>An internal error of the simulator (sysexits EX_SOFTWARE).</summary>
    public const int Software = 70;

    /// <summary>An output file or directory named on the command line cannot be created or written (sysexits EX_CANTCREAT).</summary>
    public const int CannotCreate = 73;

    /// <summary>Writing the output failed midway (stdout or stderr: disk full, a closed pipe) (sysexits EX_IOERR).</summary>
    public const int IoError = 74;

    /// <summary>Interrupted by SIGINT (128 + 2).</summary>
    public const int Interrupted = 130;

    /// <summary>Terminated by SIGTERM (128 + 15).</summary>
    public const int Terminated = 143;
}
