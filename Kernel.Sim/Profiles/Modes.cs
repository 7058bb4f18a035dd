namespace KernelSim.Profiles;

/// <summary>What a machine check during a kernel copy <em>from</em> user memory becomes (B6).</summary>
public enum CopyInMcMode
{
    /// <summary>≤5.9: no COPYIN context; the #MC is an unrecoverable kernel consumption → panic.</summary>
    Panic,
    /// <summary>5.10–5.15: recovered; kill_me_maybe (COPYIN) sends SIGBUS BUS_MCEERR_AR to the caller.</summary>
    SigbusAr,
    /// <summary>5.16+: recovered; kill_me_never offlines the page, no signal.</summary>
    KillMeNever,
}

/// <summary>How copy_user_generic's tail handler treats a machine check (C5).</summary>
public enum CopyUserMcTail
{
    /// <summary>5.10–5.14: the tail handler sees trap 18 and returns 0 ("pretend the copy succeeded").</summary>
    PretendSuccess,
    /// <summary>5.15–5.16: byte retry even after #MC (a second #MC at the poisoned line).</summary>
    RetryAfterMc,
    /// <summary>5.17–6.3: on #MC skip the retry and return the main loop's remaining count.</summary>
    SkipRetryOnMc,
    /// <summary>6.4+: rep_movs_alternative; rep movsb returns RCX directly, the word loop falls into the byte loop.</summary>
    RepMovsAlternative,
}

/// <summary>The pre-fault / post-fault form of generic_perform_write (F1–F3).</summary>
public enum PerformWriteMode
{
    /// <summary>≤5.13: iov_iter_fault_in_readable all-or-nothing pre-fault; iov_iter_copy_from_user_atomic does not advance; single-segment fallback.</summary>
    Pre514,
    /// <summary>5.14–5.17: "saner logics for short copy" with a pre-fault whose any failure is −EFAULT.</summary>
    PreFaultAnyFailure,
    /// <summary>5.18–6.14 (631f871f0717 "fs/iomap: Fix buffered write page prefaulting"): pre-fault fails only when nothing could be faulted in (== bytes).</summary>
    PreFaultNothingFaultedIn,
    /// <summary>6.15+: Dave Hansen's post-fault loop (fault in only after a zero-length copy; chunk halving).</summary>
    PostFault,
}

