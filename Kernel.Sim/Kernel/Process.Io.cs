using KernelSim.Arch.X86;
using KernelSim.Fs;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>SEEK_MAX (include/uapi/linux/fs.h).</summary>
    private const int SeekMax = Fcntl.SEEK_HOLE;

    /// <summary>read(2) (fs/read_write.c ksys_read): bytes read (a short count after partial progress) or −errno; advances f_pos.</summary>
    public long Read(int fd, UserPtr buf, ulong count) => Machine.Syscall(this, "sys_read", new ReadCall(fd, buf, count));

    /// <summary>write(2) (ksys_write): bytes written or −errno; advances f_pos.</summary>
    public long Write(int fd, UserPtr buf, ulong count) => Machine.Syscall(this, "sys_write", new WriteCall(fd, buf, count));

    /// <summary>pread64(2) (ksys_pread64): −EINVAL for a negative offset (checked before the fd), −ESPIPE without FMODE_PREAD; f_pos untouched.</summary>
    public long Pread64(int fd, UserPtr buf, ulong count, long pos) => Machine.Syscall(this, "sys_pread64", new Pread64Call(fd, buf, count, pos));

    /// <summary>pwrite64(2) (ksys_pwrite64): as <see cref="Pread64"/> for writes (O_APPEND still appends).</summary>
    public long Pwrite64(int fd, UserPtr buf, ulong count, long pos) => Machine.Syscall(this, "sys_pwrite64", new Pwrite64Call(fd, buf, count, pos));

    // The bodies of the four hottest system calls as structs (Machine.Syscall<TBody>: no delegate, compiled for each).

    private readonly struct ReadCall(int fd, UserPtr buf, ulong count) : ISyscallBody
    {
        public long Invoke(Process p)
        {
            var f = p.FileAt(fd);
            if (f == null) return -Errno.EBADF;
            var pos = f.Pos;
            var ret = p.VfsRead(f, buf, count, ref pos);
            if (ret >= 0) f.Pos = pos;
            return ret;
        }
    }

    private readonly struct WriteCall(int fd, UserPtr buf, ulong count) : ISyscallBody
    {
        public long Invoke(Process p)
        {
            var f = p.FileAt(fd);
            if (f == null) return -Errno.EBADF;
            var pos = f.Pos;
            var ret = p.VfsWrite(f, buf, count, ref pos);
            if (ret >= 0) f.Pos = pos;
            return ret;
        }
    }

    private readonly struct Pread64Call(int fd, UserPtr buf, ulong count, long pos) : ISyscallBody
    {
        public long Invoke(Process p)
        {
            if (pos < 0) return -Errno.EINVAL;
            var f = p.FileAt(fd);
            if (f == null) return -Errno.EBADF;
            if ((f.Mode & KFile.FMODE_PREAD) == 0) return -Errno.ESPIPE;
            var at = pos;
            return p.VfsRead(f, buf, count, ref at);
        }
    }

    private readonly struct Pwrite64Call(int fd, UserPtr buf, ulong count, long pos) : ISyscallBody
    {
        public long Invoke(Process p)
        {
            if (pos < 0) return -Errno.EINVAL;
            var f = p.FileAt(fd);
            if (f == null) return -Errno.EBADF;
            if ((f.Mode & KFile.FMODE_PWRITE) == 0) return -Errno.ESPIPE;
            var at = pos;
            return p.VfsWrite(f, buf, count, ref at);
        }
    }

    /// <summary>readv(2) (do_readv): the iovec array at <paramref name="vec"/> (16 bytes per entry) is imported with import_iovec.</summary>
    public long Readv(int fd, UserPtr vec, long vlen) => Machine.Syscall(this, "sys_readv", () => DoReadv(fd, vec, vlen, 0, write: false));

    /// <summary>writev(2) (do_writev).</summary>
    public long Writev(int fd, UserPtr vec, long vlen) => Machine.Syscall(this, "sys_writev", () => DoReadv(fd, vec, vlen, 0, write: true));

    /// <summary>preadv(2) (do_preadv with flags 0).</summary>
    public long Preadv(int fd, UserPtr vec, long vlen, long pos) => Machine.Syscall(this, "sys_preadv", () => DoPreadv(fd, vec, vlen, pos, 0, write: false));

    /// <summary>pwritev(2) (do_pwritev with flags 0).</summary>
    public long Pwritev(int fd, UserPtr vec, long vlen, long pos) => Machine.Syscall(this, "sys_pwritev", () => DoPreadv(fd, vec, vlen, pos, 0, write: true));

    /// <summary>
    /// preadv2(2): pos == −1 uses and updates f_pos (do_readv), otherwise do_preadv. RWF_* flags go through
    /// kiocb_set_rw_flags (unknown flags, or RWF_NOWAIT on a file without FMODE_NOWAIT → −EOPNOTSUPP).
    /// </summary>
    public long Preadv2(int fd, UserPtr vec, long vlen, long pos, int flags) => Machine.Syscall(this, "sys_preadv2", () =>
        pos == -1 ? DoReadv(fd, vec, vlen, flags, write: false) : DoPreadv(fd, vec, vlen, pos, flags, write: false));

    /// <summary>pwritev2(2): as <see cref="Preadv2"/> for writes.</summary>
    public long Pwritev2(int fd, UserPtr vec, long vlen, long pos, int flags) => Machine.Syscall(this, "sys_pwritev2", () =>
        pos == -1 ? DoReadv(fd, vec, vlen, flags, write: true) : DoPreadv(fd, vec, vlen, pos, flags, write: true));

    /// <summary>lseek(2) (ksys_lseek): −EBADF, −EINVAL for whence &gt; SEEK_MAX, −ESPIPE without FMODE_LSEEK, else ->llseek.</summary>
    public long Lseek(int fd, long offset, int whence) => Machine.Syscall(this, "sys_lseek", () =>
    {
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        if ((uint)whence > SeekMax) return -Errno.EINVAL;
        if ((f.Mode & KFile.FMODE_LSEEK) == 0) return -Errno.ESPIPE;
        return f.Llseek(offset, whence);
    });

    /// <summary>fsync(2) (do_fsync → vfs_fsync_range): −EBADF, −EINVAL without ->fsync.</summary>
    public long Fsync(int fd) => Machine.Syscall(this, "sys_fsync", () =>
    {
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        return f.Fsync(0, long.MaxValue, false);
    });

    // ---- fs/read_write.c -------------------------------------------------------------------------------

    /// <summary>
    /// rw_verify_area (fs/read_write.c): a negative position → −EINVAL; pos + count overflowing loff_t → −EINVAL
    /// (no FMODE_UNSIGNED_OFFSET files here).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int RwVerifyArea(long pos, ulong count)
    {
        if ((long)count < 0) return -Errno.EINVAL;
        if (pos < 0) return -Errno.EINVAL;
        if (unchecked(pos + (long)count) < 0) return -Errno.EINVAL;
        return 0;
    }

    /// <summary>A single-buffer iterator as new_sync_read/new_sync_write build it: UBUF on 6.0+, a one-entry IOVEC before.</summary>
    private IovIter SingleBufferIter(bool source, UserPtr buf, ulong len) =>
        Machine.Profile.UbufIter ? IovIter.Ubuf(source, buf, len) : IovIter.Iovec(source, [new Iovec(buf, len)], len);

    // One kiocb and one single-buffer iterator (UBUF, or a one-segment IOVEC before 6.0) per direction, reused by
    // read(2)/write(2) so the fault-free path allocates
    // nothing per call. Marked in use while taken (a nested call, or one after a call that never returned, gets fresh
    // ones, which then become the spares); nothing keeps a kiocb or an iterator past the call that built it. Flags
    // rather than taking the reference out and putting it back: a reference store costs a GC write barrier per call.
    private Kiocb? _spareKiocb;
    private IovIter? _spareReadIter, _spareWriteIter;
    private bool _spareKiocbBusy, _spareReadIterBusy, _spareWriteIterBusy;

    /// <summary>init_sync_kiocb on the spare kiocb (or a new one while it is in use).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private Kiocb TakeKiocb(KFile file)
    {
        var iocb = _spareKiocb;
        if (iocb == null || _spareKiocbBusy) return new Kiocb(file);
        _spareKiocbBusy = true;
        iocb.InitSync(file);
        return iocb;
    }

    /// <summary>
    /// <see cref="SingleBufferIter"/>, reusing the spare iterator of that direction when free (a spare only ever comes from
    /// <see cref="SingleBufferIter"/> on this machine, so it has the profile's type: UBUF, or a one-segment IOVEC before 6.0).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private IovIter TakeSingleBufferIter(bool source, UserPtr buf, ulong len)
    {
        var spare = source ? _spareWriteIter : _spareReadIter;
        if (spare == null || (source ? _spareWriteIterBusy : _spareReadIterBusy)) return SingleBufferIter(source, buf, len);
        if (source) _spareWriteIterBusy = true;
        else _spareReadIterBusy = true;
        if (spare.Type == IterType.ITER_UBUF) spare.ResetUbuf(buf, len);
        else spare.ResetIovec(buf, len);
        return spare;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void PutBack(Kiocb iocb, IovIter iter)
    {
        if (iocb == _spareKiocb) _spareKiocbBusy = false;
        else
        {
            _spareKiocb = iocb;
            _spareKiocbBusy = false;
        }
        if (iter.DataSource)
        {
            if (iter != _spareWriteIter) _spareWriteIter = iter;
            _spareWriteIterBusy = false;
        }
        else
        {
            if (iter != _spareReadIter) _spareReadIter = iter;
            _spareReadIterBusy = false;
        }
    }

    /// <summary>vfs_read (fs/read_write.c): FMODE checks, access_ok, rw_verify_area, MAX_RW_COUNT clamp, new_sync_read.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private long VfsRead(KFile file, UserPtr buf, ulong count, ref long pos) =>
        // Tracing off: no traced frame at all, and no try/finally inlined into the system call's entry.
        Machine.Tracer.Enabled ? VfsReadTraced(file, buf, count, ref pos) : VfsReadBody(file, buf, count, ref pos);

    /// <summary>vfs_read's traced frame (tracing on).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long VfsReadTraced(KFile file, UserPtr buf, ulong count, ref long pos)
    {
        using var _ = Machine.Tracer.Fn("vfs_read", "fs");
        return VfsReadBody(file, buf, count, ref pos);
    }

    private long VfsReadBody(KFile file, UserPtr buf, ulong count, ref long pos)
    {
        if ((file.Mode & KFile.FMODE_READ) == 0) return -Errno.EBADF;
        if ((file.Mode & KFile.FMODE_CAN_READ) == 0) return -Errno.EINVAL;
        if (!CopyRoutines.AccessOk(buf, count)) return -Errno.EFAULT;
        var r = RwVerifyArea(pos, count);
        if (r != 0) return r;
        if (count > (ulong)PageDefs.MAX_RW_COUNT) count = (ulong)PageDefs.MAX_RW_COUNT;
        // new_sync_read
        var iocb = TakeKiocb(file);
        iocb.Pos = pos;
        var iter = TakeSingleBufferIter(false, buf, count);
        var ret = file.ReadIter(iocb, iter);
        pos = iocb.Pos;
        PutBack(iocb, iter);
        return ret;
    }

    /// <summary>vfs_write (fs/read_write.c): FMODE checks, access_ok, rw_verify_area, MAX_RW_COUNT clamp, new_sync_write.</summary>
    private long VfsWrite(KFile file, UserPtr buf, ulong count, ref long pos)
    {
        using var _ = Machine.Tracer.Fn("vfs_write", "fs");
        if ((file.Mode & KFile.FMODE_WRITE) == 0) return -Errno.EBADF;
        if ((file.Mode & KFile.FMODE_CAN_WRITE) == 0) return -Errno.EINVAL;
        if (!CopyRoutines.AccessOk(buf, count)) return -Errno.EFAULT;
        var r = RwVerifyArea(pos, count);
        if (r != 0) return r;
        if (count > (ulong)PageDefs.MAX_RW_COUNT) count = (ulong)PageDefs.MAX_RW_COUNT;
        // new_sync_write
        var iocb = TakeKiocb(file);
        iocb.Pos = pos;
        iocb.Flags |= Kiocb.IOCB_WRITE;
        var iter = TakeSingleBufferIter(true, buf, count);
        var ret = file.WriteIter(iocb, iter);
        if (ret > 0) pos = iocb.Pos;
        PutBack(iocb, iter);
        return ret;
    }

    private long DoReadv(int fd, UserPtr vec, long vlen, int flags, bool write)
    {
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        var pos = f.Pos;
        var ret = VfsReadvWritev(f, vec, vlen, ref pos, flags, write);
        if (ret >= 0) f.Pos = pos;
        return ret;
    }

    private long DoPreadv(int fd, UserPtr vec, long vlen, long pos, int flags, bool write)
    {
        if (pos < 0) return -Errno.EINVAL;
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        if ((f.Mode & (write ? KFile.FMODE_PWRITE : KFile.FMODE_PREAD)) == 0) return -Errno.ESPIPE;
        return VfsReadvWritev(f, vec, vlen, ref pos, flags, write);
    }

    /// <summary>
    /// vfs_readv / vfs_writev (fs/read_write.c, 6.7+ order: FMODE checks before import_iovec): import_iovec
    /// (−EINVAL for vlen &gt; UIO_MAXIOV or a negative length, −EFAULT for an unreadable array or a bad buffer),
    /// 0 for an empty total, rw_verify_area, then do_iter_readv_writev.
    /// </summary>
    private long VfsReadvWritev(KFile file, UserPtr vec, long vlen, ref long pos, int flags, bool write)
    {
        using var _ = Machine.Tracer.Fn(write ? "vfs_writev" : "vfs_readv", "fs");
        if ((file.Mode & (write ? KFile.FMODE_WRITE : KFile.FMODE_READ)) == 0) return -Errno.EBADF;
        if ((file.Mode & (write ? KFile.FMODE_CAN_WRITE : KFile.FMODE_CAN_READ)) == 0) return -Errno.EINVAL;
        var ret = Machine.IovIter.ImportIovec(vec, vlen, write, out var iter);
        if (ret < 0) return ret;
        var total = iter.Count;
        if (total == 0) return 0;
        var r = RwVerifyArea(pos, total);
        if (r != 0) return r;
        return DoIterReadvWritev(file, iter, ref pos, write, flags);
    }

    /// <summary>do_iter_readv_writev (fs/read_write.c): init_sync_kiocb, kiocb_set_rw_flags, ->read_iter / ->write_iter, *ppos = ki_pos.</summary>
    private static long DoIterReadvWritev(KFile file, IovIter iter, ref long pos, bool write, int flags)
    {
        var iocb = new Kiocb(file);
        var r = iocb.SetRwFlags(flags);
        if (r != 0) return r;
        iocb.Pos = pos;
        long ret;
        if (write)
        {
            iocb.Flags |= Kiocb.IOCB_WRITE;
            ret = file.WriteIter(iocb, iter);
        }
        else
        {
            ret = file.ReadIter(iocb, iter);
        }
        pos = iocb.Pos;
        return ret;
    }
}
