namespace KernelSim.Uapi;

/// <summary>
/// ioctl request numbers as x86-64 encodes them (include/uapi/asm-generic/ioctl.h): dir(2) | size(14) | type(8) | nr(8).
/// </summary>
public static class Ioctl
{
    /// <summary>_IOC_NONE.</summary>
    public const uint IOC_NONE = 0;
    /// <summary>_IOC_WRITE: user space writes the argument (copy_from_user).</summary>
    public const uint IOC_WRITE = 1;
    /// <summary>_IOC_READ: user space reads the argument (copy_to_user).</summary>
    public const uint IOC_READ = 2;

    /// <summary>_IOC(dir, type, nr, size).</summary>
    public static uint IOC(uint dir, uint type, uint nr, uint size) => dir << 30 | (size & 0x3fff) << 16 | (type & 0xff) << 8 | (nr & 0xff);

    /// <summary>_IO(type, nr).</summary>
    public static uint IO(uint type, uint nr) => IOC(IOC_NONE, type, nr, 0);

    /// <summary>_IOR(type, nr, size).</summary>
    public static uint IOR(uint type, uint nr, uint size) => IOC(IOC_READ, type, nr, size);

    /// <summary>_IOW(type, nr, size).</summary>
    public static uint IOW(uint type, uint nr, uint size) => IOC(IOC_WRITE, type, nr, size);

    /// <summary>_IOWR(type, nr, size).</summary>
    public static uint IOWR(uint type, uint nr, uint size) => IOC(IOC_READ | IOC_WRITE, type, nr, size);

    /// <summary>_IOC_DIR(cmd).</summary>
    public static uint Dir(uint cmd) => cmd >> 30;

    /// <summary>_IOC_TYPE(cmd).</summary>
    public static uint Type(uint cmd) => cmd >> 8 & 0xff;

    /// <summary>_IOC_NR(cmd).</summary>
    public static uint Nr(uint cmd) => cmd & 0xff;

    /// <summary>_IOC_SIZE(cmd).</summary>
    public static uint Size(uint cmd) => cmd >> 16 & 0x3fff;
}
