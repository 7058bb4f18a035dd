using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Dax;

/// <summary>
/// struct dax_device and the core entry points of drivers/dax/super.c: dax_direct_access,
/// dax_copy_{to,from}_iter, dax_zero_page_range, dax_recovery_write, dax_holder_notify_failure and
/// kill_dax. Filesystems (Fs.Dax) see only this type; drivers (Drivers.Pmem, Drivers.Virtiofs) supply
/// the <see cref="IDaxOperations"/>.
/// </summary>
public sealed class DaxDevice(string name, IDaxOperations ops, IovIterOps iov, KernelProfile profile, Tracer trace)
{
    /// <summary>Device name ("pmem0", "virtiofs0").</summary>
    public string Name { get; } = name;

    /// <summary>The driver's operations.</summary>
    public IDaxOperations Ops { get; } = ops;

    /// <summary>DAXDEV_* flags (ALIVE set at alloc_dax).</summary>
    public DaxDevFlags Flags { get; set; } = DaxDevFlags.DAXDEV_ALIVE;

    /// <summary>The holder (the mounted filesystem) and its operations, if it registered any.</summary>
    public object? Holder { get; private set; }

    /// <summary>The holder's notify_failure operations.</summary>
    public IDaxHolderOperations? HolderOps { get; private set; }

    /// <summary>dax_alive().</summary>
    public bool Alive => (Flags & DaxDevFlags.DAXDEV_ALIVE) != 0;

    /// <summary>fs_dax_get_by_bdev(bdev, &amp;start_off, holder, ops): claim the device for a filesystem.</summary>
    public void SetHolder(object holder, IDaxHolderOperations? ops)
    {
        Holder = holder;
        HolderOps = ops;
    }

    /// <summary>fs_put_dax: release the holder.</summary>
    public void PutHolder()
    {
        Holder = null;
        HolderOps = null;
    }

    /// <summary>
    /// dax_direct_access: -ENXIO when dead, -EINVAL for nr_pages &lt; 0; a driver result of 0 becomes
    /// -ERANGE; a positive one is clipped to nr_pages.
    /// </summary>
    public long DirectAccess(ulong pgoff, long nrPages, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn)
    {
        if (trace.Enabled) return DirectAccessTraced(pgoff, nrPages, mode, out kaddr, out pfn);
        return DirectAccessBody(pgoff, nrPages, mode, out kaddr, out pfn); // tracing off: no traced frame at all
    }

    // The traced frame out of line, so that the body is inlined once, into the untraced path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long DirectAccessTraced(ulong pgoff, long nrPages, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn)
    {
        using var _ = trace.Fn("dax_direct_access", "dax");
        return DirectAccessBody(pgoff, nrPages, mode, out kaddr, out pfn);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private long DirectAccessBody(ulong pgoff, long nrPages, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn)
    {
        kaddr = default;
        pfn = 0;
        if (!Alive) return -Errno.ENXIO;
        if (nrPages < 0) return -Errno.EINVAL;
        var avail = Ops.DirectAccess(this, pgoff, nrPages, mode, out kaddr, out pfn);
        if (avail == 0) return -Errno.ERANGE;
        return avail < 0 ? avail : Math.Min(avail, nrPages);
    }

    /// <summary>dax_copy_from_iter: 0 when dead; _copy_from_iter_flushcache with DAXDEV_NOCACHE, else _copy_from_iter.</summary>
    public ulong CopyFromIter(ulong pgoff, KernelPtr addr, ulong bytes, IovIter i)
    {
        if (!Alive) return 0;
        return (Flags & DaxDevFlags.DAXDEV_NOCACHE) != 0 ? iov.CopyFromIterFlushcache(addr, bytes, i) : iov.CopyFromIter(addr, bytes, i);
    }

    /// <summary>dax_copy_to_iter: 0 when dead; _copy_mc_to_iter with DAXDEV_NOMC, else _copy_to_iter.</summary>
    public ulong CopyToIter(ulong pgoff, KernelPtr addr, ulong bytes, IovIter i)
    {
        if (!Alive) return 0;
        return (Flags & DaxDevFlags.DAXDEV_NOMC) != 0 ? iov.CopyMcToIter(addr, bytes, i) : iov.CopyToIter(addr, bytes, i);
    }

    /// <summary>dax_zero_page_range: -ENXIO when dead, -EIO unless nr_pages is 1; the driver result through dax_mem2blk_err.</summary>
    public int ZeroPageRange(ulong pgoff, ulong nrPages)
    {
        using var _ = trace.Fn("dax_zero_page_range", "dax");
        if (!Alive) return -Errno.ENXIO;
        if (nrPages != 1) return -Errno.EIO;
        return Mem2BlkErr(Ops.ZeroPageRange(this, pgoff, nrPages));
    }

    /// <summary>dax_recovery_write: 0 when the driver has no recovery_write op (virtio-fs, dm, …).</summary>
    public ulong RecoveryWrite(ulong pgoff, KernelPtr addr, ulong bytes, IovIter i)
    {
        using var _ = trace.Fn("dax_recovery_write", "dax");
        if (!profile.DaxRecoveryWrite) return 0;
        return Ops.RecoveryWrite(this, pgoff, addr, bytes, i) ?? 0;
    }

    /// <summary>dax_holder_notify_failure: -ENXIO when dead, -EOPNOTSUPP with no holder ops, else the holder's result.</summary>
    public int HolderNotifyFailure(ulong off, ulong len, MfFlags flags)
    {
        using var _ = trace.Fn("dax_holder_notify_failure", "dax");
        if (!Alive) return -Errno.ENXIO;
        if (HolderOps == null) return -Errno.EOPNOTSUPP;
        return HolderOps.NotifyFailure(this, off, len, flags);
    }

    /// <summary>kill_dax: clear ALIVE; a registered holder is told with MF_MEM_PRE_REMOVE over the whole device.</summary>
    public void Kill()
    {
        if (HolderOps != null) HolderOps.NotifyFailure(this, 0, ulong.MaxValue, MfFlags.MF_MEM_PRE_REMOVE);
        Flags &= ~DaxDevFlags.DAXDEV_ALIVE;
    }

    /// <summary>dax_mem2blk_err (6.5+): -EHWPOISON becomes -EIO; everything else passes through.</summary>
    public static int Mem2BlkErr(int err) => err == -Errno.EHWPOISON ? -Errno.EIO : err;

    /// <summary>dax_mem2blk_err for a long result.</summary>
    public static long Mem2BlkErr(long err) => err == -Errno.EHWPOISON ? -Errno.EIO : err;
}
