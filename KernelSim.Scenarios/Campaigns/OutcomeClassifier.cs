using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// What user space saw after one operation, captured at once: the return value, a signal delivered during the
/// call, and the machine's and the process's state (for a call that did not return).
/// </summary>
internal readonly record struct Observation(long Ret, SigInfo? NewSignal, SigInfo? KilledBy, MachineStatus Machine,
    string? PanicMessage, ProcessState Process, string? StuckReason)
{
    /// <summary>The state of <paramref name="m"/> and <paramref name="p"/> after a call that returned <paramref name="ret"/>.</summary>
    public static Observation After(Machine m, Process p, long ret, int signalsBefore) =>
        new(ret, p.SignalsReceived.Count > signalsBefore ? p.SignalsReceived[^1] : null, p.KilledBy, m.State.Status,
            m.State.PanicMessage, p.State, p.StuckReason);
}

/// <summary>
/// Maps an operation's observed result to an <see cref="Outcome"/>: what stopped the kernel, a signal, or the
/// return value; then the oracle's verdict on the bytes (any mismatch is silent corruption, whatever the call
/// returned). Pure functions of their inputs.
/// </summary>
internal static class OutcomeClassifier
{
    /// <summary>Classify a system call's result: what stopped the kernel, a signal, or the return value.</summary>
    public static Outcome Classify(in Observation o, ulong requested, out string detail)
    {
        if (o.Ret == Machine.NoReturn) return FromStuck(o, out detail);
        if (o.NewSignal is { } s) return FromSignal(s, out detail, o.Ret);
        if (o.KilledBy is { } k) return FromSignal(k, out detail, o.Ret);
        return FromReturn(o.Ret, requested, out detail);
    }

    /// <summary>A return value against the byte count asked for: a count no larger than asked, or −1…−4095.</summary>
    public static Outcome FromReturn(long ret, ulong requested, out string detail)
    {
        detail = "";
        if (ret < -4095 || (ret >= 0 && (ulong)ret > requested))
        {
            detail = $"out-of-range return {ret} for {requested} bytes";
            return Outcome.SimBug;
        }
        if (ret >= 0)
        {
            if ((ulong)ret == requested) return Outcome.Complete;
            detail = $"{ret} of {requested} bytes";
            return Outcome.ShortCount;
        }
        if (ret == -Errno.EFAULT) return Outcome.Efault;
        if (ret == -Errno.EIO) return Outcome.Eio;
        detail = Errno.Name(ret);
        return Outcome.OtherErrno;
    }

    /// <summary>A call that did not return: the machine's state first, then the process's.</summary>
    public static Outcome FromStuck(in Observation o, out string detail)
    {
        detail = o.PanicMessage ?? o.StuckReason ?? "";
        switch (o.Machine)
        {
            case MachineStatus.Panicked: return Outcome.Panic;
            case MachineStatus.Shutdown:
                detail = "shutdown: " + detail;
                return Outcome.Panic;
            case MachineStatus.VmStopped: return Outcome.VmStop;
        }
        switch (o.Process)
        {
            case ProcessState.Livelocked: return Outcome.Livelock;
            case ProcessState.Oopsed: return Outcome.Oops;
            case ProcessState.Killed when o.KilledBy is { } k: return FromSignal(k, out detail);
        }
        detail = "no return with the machine and the process running";
        return Outcome.SimBug;
    }

    /// <summary>A delivered signal by number and si_code (SIGBUS BUS_MCEERR_AR/AO/ADRERR, SIGSEGV ACCERR/MAPERR).</summary>
    public static Outcome FromSignal(SigInfo s, out string detail, long? ret = null)
    {
        detail = $"{Sig.Name(s.Signo)} {Sig.CodeName(s.Signo, s.Code)} si_addr=0x{s.Addr:x}{(ret is { } r ? $" ret={Errno.Describe(r)}" : "")}";
        if (s.Signo == Sig.SIGBUS)
        {
            if (s.Code == Sig.BUS_MCEERR_AR) return Outcome.SigbusAr;
            if (s.Code == Sig.BUS_MCEERR_AO) return Outcome.SigbusAo;
            return Outcome.SigbusAdrerr;
        }
        if (s.Signo == Sig.SIGSEGV) return s.Code == Sig.SEGV_ACCERR ? Outcome.SigsegvAccerr : Outcome.SigsegvMaperr;
        return Outcome.OtherErrno;
    }

    /// <summary>A user-mode load or store of <paramref name="len"/> bytes: stuck, a signal, or how many bytes it did.</summary>
    public static Outcome UserAccess(UserAccessResult r, ulong len, in Observation o, out string detail)
    {
        if (r.Outcome != null)
        {
            var stuck = FromStuck(o, out _);
            detail = r.Outcome;
            return stuck;
        }
        if (r.Signal is { } sig) return FromSignal(sig, out detail);
        if (r.Done > len)
        {
            detail = $"user access reports {r.Done} bytes of {len}";
            return Outcome.SimBug;
        }
        if (r.Done == len)
        {
            detail = "";
            return Outcome.Complete;
        }
        detail = $"{r.Done} of {len} bytes";
        return Outcome.ShortCount;
    }

    /// <summary>
    /// A write that accepted <paramref name="n"/> bytes including a poisoned source line is poison-accepted (what
    /// the 5.10 pretend-success copy-in does), not an error: it replaces complete and short.
    /// </summary>
    public static Outcome Write(Outcome o, bool acceptedPoison, ulong n, ref string detail)
    {
        if (!acceptedPoison || o is not (Outcome.Complete or Outcome.ShortCount)) return o;
        detail = $"write accepted {n} bytes including a poisoned source line";
        return Outcome.PoisonAccepted;
    }

    /// <summary>The oracle's verdict: any mismatch makes the operation silent corruption, with the mismatches as detail.</summary>
    public static Outcome Judge(Outcome o, IReadOnlyList<string> mismatches, ref string detail)
    {
        if (mismatches.Count == 0) return o;
        detail = string.Join("; ", mismatches);
        return Outcome.SilentCorruption;
    }
}
