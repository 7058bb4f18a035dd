namespace KernelSim.Uapi;

/// <summary>errno values as on x86-64 (include/uapi/asm-generic/errno-base.h, errno.h).</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int E2BIG = 7;
    public const int EBADF = 9;
    public const int ECHILD = 10;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int ENOTTY = 25;
    public const int ETXTBSY = 26;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int ESPIPE = 29;
    public const int EROFS = 30;
    public const int ERANGE = 34;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int EBADE = 52;
    public const int ENODATA = 61;
    public const int ENOLINK = 67;
    public const int EPROTO = 71;
    public const int EOVERFLOW = 75;
    public const int EILSEQ = 84;
    public const int EOPNOTSUPP = 95;
    public const int ENOTCONN = 107;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EREMOTEIO = 121;
    public const int EHWPOISON = 133;
    /// <summary>ENOIOCTLCMD (include/linux/errno.h, kernel-internal): "no such ioctl here, try the next handler"; sys_ioctl turns it into −ENOTTY.</summary>
    public const int ENOIOCTLCMD = 515;

    /// <summary>Symbolic name of an errno (positive or negative), e.g. "EFAULT".</summary>
    public static string Name(long err)
    {
        var e = err < 0 ? -err : err;
        return Names.TryGetValue(e, out var name) ? name : $"E#{e}";
    }

    /// <summary>Each value's name (the first constant declaring it), read by reflection once rather than per call.</summary>
    private static readonly Dictionary<long, string> Names = NamesByValue();

    private static Dictionary<long, string> NamesByValue()
    {
        var names = new Dictionary<long, string>();
        foreach (var f in typeof(Errno).GetFields())
            if (f.IsLiteral && f.FieldType == typeof(int))
                names.TryAdd((int)f.GetRawConstantValue()!, f.Name);
        return names;
    }

    /// <summary>A syscall return rendered as the kernel would print it: "4992" or "-EFAULT (-14)".</summary>
    public static string Describe(long ret) => ret >= 0 ? ret.ToString() : $"-{Name(ret)} ({ret})";
}
