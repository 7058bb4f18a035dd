namespace KernelSim.Uapi;

/// <summary>Signal numbers and si_code values on x86-64 (include/uapi/asm-generic/signal.h, siginfo.h).</summary>
public static class Sig
{
    public const int SIGKILL = 9;
    public const int SIGBUS = 7;
    public const int SIGSEGV = 11;

    /// <summary>si_code for signals sent by the kernel without detail (force_sig).</summary>
    public const int SI_KERNEL = 0x80;
    public const int SEGV_MAPERR = 1;
    public const int SEGV_ACCERR = 2;
    public const int BUS_ADRERR = 2;
    public const int BUS_MCEERR_AR = 4;
    public const int BUS_MCEERR_AO = 5;

    /// <summary>Name of a signal number.</summary>
    public static string Name(int signo) => signo switch
    {
        SIGBUS => "SIGBUS",
        SIGSEGV => "SIGSEGV",
        SIGKILL => "SIGKILL",
        _ => $"SIG#{signo}",
    };

    /// <summary>Name of an si_code for a given signal.</summary>
    public static string CodeName(int signo, int code) => (signo, code) switch
    {
        (_, SI_KERNEL) => "SI_KERNEL",
        (SIGBUS, BUS_ADRERR) => "BUS_ADRERR",
        (SIGBUS, BUS_MCEERR_AR) => "BUS_MCEERR_AR",
        (SIGBUS, BUS_MCEERR_AO) => "BUS_MCEERR_AO",
        (SIGSEGV, SEGV_MAPERR) => "SEGV_MAPERR",
        (SIGSEGV, SEGV_ACCERR) => "SEGV_ACCERR",
        _ => code.ToString(),
    };
}

/// <summary>What a signal handler sees in its siginfo_t (the fields this simulator models).</summary>
/// <param name="Signo">si_signo.</param>
/// <param name="Code">si_code.</param>
/// <param name="Addr">si_addr (0 when the signal carries no address).</param>
/// <param name="AddrLsb">si_addr_lsb (BUS_MCEERR_* only; 0 otherwise).</param>
/// <param name="Forced">Sent with force_sig* (cannot be ignored or blocked).</param>
public readonly record struct SigInfo(int Signo, int Code, ulong Addr, short AddrLsb, bool Forced)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Sig.Name(Signo)} {Sig.CodeName(Signo, Code)} si_addr=0x{Addr:x} si_addr_lsb={AddrLsb}";
}
