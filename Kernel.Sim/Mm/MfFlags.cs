namespace KernelSim.Mm;

/// <summary>memory_failure flags (include/linux/mm.h enum mf_flags).</summary>
[Flags]
public enum MfFlags
{
    None = 0,
    MF_COUNT_INCREASED = 1 << 0,
    MF_ACTION_REQUIRED = 1 << 1,
    MF_MUST_KILL = 1 << 2,
    MF_SOFT_OFFLINE = 1 << 3,
    MF_UNPOISON = 1 << 4,
    MF_SW_SIMULATED = 1 << 5,
    MF_NO_RETRY = 1 << 6,
    MF_MEM_PRE_REMOVE = 1 << 7,
}
