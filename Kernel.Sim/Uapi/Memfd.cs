namespace KernelSim.Uapi;

/// <summary>
/// memfd_create(2) flags (include/uapi/linux/memfd.h), file seals and the fcntl(2) commands that manage them
/// (include/uapi/linux/fcntl.h), as on x86-64.
/// </summary>
public static class Memfd
{
    /// <summary>MFD_CLOEXEC: the descriptor is close-on-exec.</summary>
    public const uint MFD_CLOEXEC = 0x0001;
    /// <summary>MFD_ALLOW_SEALING: F_SEAL_SEAL is cleared, so F_ADD_SEALS works.</summary>
    public const uint MFD_ALLOW_SEALING = 0x0002;
    /// <summary>MFD_HUGETLB: back the file with hugetlbfs pages (the huge page size in bits 26–31).</summary>
    public const uint MFD_HUGETLB = 0x0004;
    /// <summary>MFD_NOEXEC_SEAL (6.3+): mode loses its x bits, F_SEAL_EXEC is set and sealing is allowed.</summary>
    public const uint MFD_NOEXEC_SEAL = 0x0008;
    /// <summary>MFD_EXEC (6.3+): executable (the default when neither exec flag is given and vm.memfd_noexec is 0).</summary>
    public const uint MFD_EXEC = 0x0010;
    /// <summary>MFD_HUGE_SHIFT: where the log2 of the huge page size sits in the flags.</summary>
    public const int MFD_HUGE_SHIFT = 26;
    /// <summary>MFD_HUGE_MASK: the 6-bit huge page size field.</summary>
    public const uint MFD_HUGE_MASK = 0x3f;
    /// <summary>MFD_HUGE_2MB: 21 &lt;&lt; MFD_HUGE_SHIFT.</summary>
    public const uint MFD_HUGE_2MB = 21u << MFD_HUGE_SHIFT;

    /// <summary>"memfd:": the prefix of a memfd's dentry name.</summary>
    public const string MFD_NAME_PREFIX = "memfd:";
    /// <summary>MFD_NAME_MAX_LEN: NAME_MAX (255) − strlen("memfd:") = 249 bytes of name.</summary>
    public const int MFD_NAME_MAX_LEN = 255 - 6;

    /// <summary>F_SEAL_SEAL: no further seals can be added.</summary>
    public const int F_SEAL_SEAL = 0x0001;
    /// <summary>F_SEAL_SHRINK: the file cannot shrink.</summary>
    public const int F_SEAL_SHRINK = 0x0002;
    /// <summary>F_SEAL_GROW: the file cannot grow.</summary>
    public const int F_SEAL_GROW = 0x0004;
    /// <summary>F_SEAL_WRITE: no writes, no new shared writable mappings.</summary>
    public const int F_SEAL_WRITE = 0x0008;
    /// <summary>F_SEAL_FUTURE_WRITE (5.1+): like F_SEAL_WRITE, but existing shared writable mappings keep working.</summary>
    public const int F_SEAL_FUTURE_WRITE = 0x0010;
    /// <summary>F_SEAL_EXEC (6.3+): the x bits of the mode cannot change.</summary>
    public const int F_SEAL_EXEC = 0x0020;

    /// <summary>fcntl F_GETFL: the file status flags.</summary>
    public const int F_GETFL = 3;
    /// <summary>fcntl F_ADD_SEALS (F_LINUX_SPECIFIC_BASE + 9).</summary>
    public const int F_ADD_SEALS = 1033;
    /// <summary>fcntl F_GET_SEALS (F_LINUX_SPECIFIC_BASE + 10).</summary>
    public const int F_GET_SEALS = 1034;
}
