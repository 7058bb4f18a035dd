namespace KernelSim.Scenarios.Campaigns;

/// <summary>How an operation ended, from mild to worst (the order is the severity used for "worst outcome").</summary>
public enum Outcome
{
    /// <summary>A fault step that was applied (not an operation).</summary>
    Injected,
    Complete,
    ShortCount,
    /// <summary>A write accepted data read from a poisoned source line (the 5.10 pretend-success behaviour).</summary>
    PoisonAccepted,
    Efault,
    Eio,
    OtherErrno,
    SigsegvMaperr,
    SigsegvAccerr,
    SigbusAdrerr,
    SigbusAo,
    SigbusAr,
    Oops,
    Livelock,
    VmStop,
    Panic,
    SilentCorruption,
    /// <summary>
    /// An isolation canary (kernel memory, another process, another file) reached the caller's buffer, a file or a
    /// return value: worse than corrupting the caller's own data, since it crosses a protection boundary.
    /// </summary>
    Leak,
    /// <summary>An unhandled .NET exception or an out-of-range return: a simulator bug.</summary>
    SimBug,
}

public static class Outcomes
{
    public static string Name(Outcome o) => o switch
    {
        Outcome.Injected => "injected",
        Outcome.Complete => "complete",
        Outcome.ShortCount => "short",
        Outcome.PoisonAccepted => "poison-accepted",
        Outcome.Efault => "EFAULT",
        Outcome.Eio => "EIO",
        Outcome.OtherErrno => "other-errno",
        Outcome.SigsegvMaperr => "SIGSEGV-MAPERR",
        Outcome.SigsegvAccerr => "SIGSEGV-ACCERR",
        Outcome.SigbusAdrerr => "SIGBUS-ADRERR",
        Outcome.SigbusAo => "SIGBUS-AO",
        Outcome.SigbusAr => "SIGBUS-AR",
        Outcome.Oops => "oops",
        Outcome.Livelock => "livelock",
        Outcome.VmStop => "vm-stop",
        Outcome.Panic => "panic",
        Outcome.SilentCorruption => "silent-corruption",
        Outcome.Leak => "leak",
        _ => "sim-bug",
    };

    public static Outcome? Parse(string s)
    {
        foreach (var o in Enum.GetValues<Outcome>())
            if (Name(o) == s) return o;
        return null;
    }
}

/// <summary>One line of the results: one step of one seed on one profile.</summary>
public sealed record OpRecord(
    ulong Seed,
    string Profile,
    string Workload,
    string PlanId,
    int Step,
    string Call,
    long? Ret,
    Outcome Outcome,
    string Detail);
