using KernelSim.Mm;

namespace KernelSim.Arch.X86;

/// <summary>A machine check as raised by a consuming load.</summary>
/// <param name="Addr">Physical address of the consumed line (MCi_ADDR masked to lsb 6).</param>
/// <param name="UserMode">CS RPL == 3.</param>
/// <param name="Site">The kernel instruction site (for kernel-mode #MC).</param>
/// <param name="SourceIsUser">is_copy_from_user(): the faulting load's source is a user address.</param>
/// <param name="UserVaddr">That user address (current-&gt;mce_vaddr), or the user-mode fault address.</param>
internal readonly record struct MceEvent(PhysAddr Addr, bool UserMode, ExSite Site, bool SourceIsUser, ulong UserVaddr);

/// <summary>error_context() results (arch/x86/kernel/cpu/mce/severity.c).</summary>
public enum McContext
{
    IN_USER,
    IN_KERNEL,
    IN_KERNEL_RECOV,
}

/// <summary>MCE severities this model reaches.</summary>
public enum MceSeverity
{
    /// <summary>MCE_AR_SEVERITY: action required, recoverable.</summary>
    MCE_AR_SEVERITY,
    /// <summary>MCE_PANIC_SEVERITY.</summary>
    MCE_PANIC_SEVERITY,
}

/// <summary>The severity table's short names (severity.c's MCESEV(AR, …) macro argument).</summary>
public static class MceSeverityNames
{
    /// <summary>"AR" for MCE_AR_SEVERITY, "PANIC" for MCE_PANIC_SEVERITY.</summary>
    public static string Short(this MceSeverity severity) => severity switch
    {
        MceSeverity.MCE_AR_SEVERITY => "AR",
        MceSeverity.MCE_PANIC_SEVERITY => "PANIC",
        _ => severity.ToString(),
    };

    /// <summary>Parse "AR"/"PANIC" or the full enum name; false for anything else.</summary>
    public static bool TryParse(string text, out MceSeverity severity)
    {
        foreach (var s in Enum.GetValues<MceSeverity>())
        {
            if (text == s.Short() || text == s.ToString())
            {
                severity = s;
                return true;
            }
        }
        severity = default;
        return false;
    }
}

/// <summary>m-&gt;kflags bits.</summary>
[Flags]
public enum MceKflags
{
    None = 0,
    /// <summary>MCE_IN_KERNEL_RECOV.</summary>
    MCE_IN_KERNEL_RECOV = 1,
    /// <summary>MCE_IN_KERNEL_COPYIN.</summary>
    MCE_IN_KERNEL_COPYIN = 2,
}

/// <summary>One logged machine check (what mcelog / the decode chain sees).</summary>
/// <param name="Seq">Order of the machine check since boot (1-based).</param>
/// <param name="Addr">Physical address (line aligned).</param>
/// <param name="AddrLsb">MCI_MISC address LSB (6: one cache line).</param>
/// <param name="Context">error_context().</param>
/// <param name="Kflags">COPYIN / RECOV.</param>
/// <param name="Severity">AR or PANIC.</param>
/// <param name="Message">The severity message.</param>
public sealed record MceRecord(int Seq, PhysAddr Addr, int AddrLsb, McContext Context, MceKflags Kflags, MceSeverity Severity, string Message);
