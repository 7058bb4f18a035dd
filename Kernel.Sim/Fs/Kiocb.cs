using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// struct kiocb (include/linux/fs.h): one I/O request on a file: the file, the position it works at and the
/// IOCB_* flags derived from the open flags (iocb_flags()) and per-call RWF_* flags (kiocb_set_rw_flags()).
/// </summary>
public sealed class Kiocb
{
    /// <summary>IOCB_HIPRI (= RWF_HIPRI).</summary>
    public const int IOCB_HIPRI = Fcntl.RWF_HIPRI;
    /// <summary>IOCB_DSYNC (= RWF_DSYNC).</summary>
    public const int IOCB_DSYNC = Fcntl.RWF_DSYNC;
    /// <summary>IOCB_SYNC (= RWF_SYNC).</summary>
    public const int IOCB_SYNC = Fcntl.RWF_SYNC;
    /// <summary>IOCB_NOWAIT (= RWF_NOWAIT).</summary>
    public const int IOCB_NOWAIT = Fcntl.RWF_NOWAIT;
    /// <summary>IOCB_APPEND (= RWF_APPEND).</summary>
    public const int IOCB_APPEND = Fcntl.RWF_APPEND;
    /// <summary>IOCB_EVENTFD.</summary>
    public const int IOCB_EVENTFD = 1 << 16;
    /// <summary>IOCB_DIRECT (O_DIRECT).</summary>
    public const int IOCB_DIRECT = 1 << 17;
    /// <summary>IOCB_WRITE: the request is a write.</summary>
    public const int IOCB_WRITE = 1 << 18;
    /// <summary>IOCB_NOIO: do not issue I/O (set with IOCB_NOWAIT by page-cache reads).</summary>
    public const int IOCB_NOIO = 1 << 20;

    /// <summary>init_sync_kiocb(kiocb, filp): ki_flags = iocb_flags(filp), ki_pos = 0.</summary>
    public Kiocb(KFile filp)
    {
        Filp = filp;
        Flags = IocbFlags(filp);
    }

    /// <summary>init_sync_kiocb again, for a kiocb reused by the next request (as on a new stack frame).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void InitSync(KFile filp)
    {
        if (Filp != filp) Filp = filp; // the same file again on most calls: no reference store
        Flags = IocbFlags(filp);
        Pos = 0;
    }

    /// <summary>ki_filp.</summary>
    public KFile Filp { get; private set; }

    /// <summary>ki_pos: the file position of this request; updated by the read/write path.</summary>
    public long Pos { get; set; }

    /// <summary>ki_flags (IOCB_*).</summary>
    public int Flags { get; set; }

    /// <summary>True if the request has every flag in <paramref name="flag"/>.</summary>
    public bool Has(int flag) => (Flags & flag) == flag;

    /// <summary>iocb_flags(file) (include/linux/fs.h): O_APPEND, O_DIRECT, O_DSYNC/IS_SYNC, __O_SYNC → IOCB_*.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int IocbFlags(KFile file)
    {
        var res = 0;
        if ((file.Flags & Fcntl.O_APPEND) != 0) res |= IOCB_APPEND;
        if ((file.Flags & Fcntl.O_DIRECT) != 0) res |= IOCB_DIRECT;
        if ((file.Flags & Fcntl.O_DSYNC) != 0) res |= IOCB_DSYNC;
        if ((file.Flags & (Fcntl.O_SYNC & ~Fcntl.O_DSYNC)) != 0) res |= IOCB_SYNC;
        return res;
    }

    /// <summary>
    /// kiocb_set_rw_flags(ki, flags) (include/linux/fs.h, 4.16–6.8 form): 0, or −EOPNOTSUPP for flags outside
    /// RWF_SUPPORTED or RWF_NOWAIT on a file without FMODE_NOWAIT.
    /// </summary>
    public int SetRwFlags(int rwFlags)
    {
        if (rwFlags == 0) return 0;
        if ((rwFlags & ~Fcntl.RWF_SUPPORTED) != 0) return -Errno.EOPNOTSUPP;
        var kflags = 0;
        if ((rwFlags & Fcntl.RWF_NOWAIT) != 0)
        {
            if ((Filp.Mode & KFile.FMODE_NOWAIT) == 0) return -Errno.EOPNOTSUPP;
            kflags |= IOCB_NOIO;
        }
        kflags |= rwFlags & Fcntl.RWF_SUPPORTED;
        if ((rwFlags & Fcntl.RWF_SYNC) != 0) kflags |= IOCB_DSYNC;
        Flags |= kflags;
        return 0;
    }

    /// <inheritdoc/>
    public override string ToString() => $"kiocb pos={Pos} flags=0x{Flags:x}";
}
