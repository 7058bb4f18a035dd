using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using KernelSim.Fs;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// ioctl(2) (fs/ioctl.c): −EBADF for a closed descriptor, then the VFS's own commands (do_vfs_ioctl,
    /// <see cref="DoVfsIoctl"/>), then the file's -&gt;unlocked_ioctl (vfs_ioctl), which is −ENOTTY when the file has
    /// none; −ENOIOCTLCMD from either becomes −ENOTTY.
    /// </summary>
    public long Ioctl(int fd, uint cmd, ulong arg) => Machine.Syscall(this, "sys_ioctl", new IoctlCall(fd, cmd, arg));

    // ioctl, getdents64 and readlink bodies without a closure per call (ndctl makes hundreds of these per run).
    private readonly struct IoctlCall(int fd, uint cmd, ulong arg) : ISyscallBody
    {
        public long Invoke(Process p)
        {
            var f = p.FileAt(fd);
            if (f == null) return -Errno.EBADF;
            var r = p.DoVfsIoctl(f, cmd, arg);
            if (r == -Errno.ENOIOCTLCMD) r = f.Ioctl(cmd, arg);
            return r == -Errno.ENOIOCTLCMD ? -Errno.ENOTTY : r;
        }
    }

    /// <summary>
    /// getdents64(2) (fs/readdir.c): as many struct linux_dirent64 records (d_ino, d_off, d_reclen, d_type, d_name NUL
    /// terminated, each padded to 8 bytes) as fit in <paramref name="count"/> bytes from f_pos on. Returns the bytes
    /// written, 0 at the end, −EBADF, −ENOTDIR, −EINVAL when not even one record fits, −EFAULT for a bad buffer.
    /// </summary>
    public long Getdents64(int fd, UserPtr dirp, ulong count) => Machine.Syscall(this, "sys_getdents64", new Getdents64Call(fd, dirp, count));

    private readonly struct Getdents64Call(int fd, UserPtr dirp, ulong count) : ISyscallBody
    {
        public long Invoke(Process p) => p.DoGetdents64(fd, dirp, count);
    }

    private long DoGetdents64(int fd, UserPtr dirp, ulong count)
    {
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        var entries = f.ReadDir();
        if (entries == null) return -Errno.ENOTDIR;
        // The records are built in one pooled buffer (grown when a large count needs it) and copied out with one
        // copy_to_user: the bytes and the page-sized copies of a list of per-record arrays, without the garbage.
        var pos = (int)Math.Max(0, f.Pos);
        var buf = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(count, 1UL, PageDefs.PAGE_SIZE));
        var len = 0;
        while (pos < entries.Count)
        {
            var e = entries[pos];
            var reclen = (19 + Encoding.UTF8.GetByteCount(e.Name) + 1 + 7) & ~7;
            if ((ulong)(len + reclen) > count) break;
            if (len + reclen > buf.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(buf.Length * 2, len + reclen));
                buf.AsSpan(0, len).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(buf);
                buf = bigger;
            }
            var rec = buf.AsSpan(len, reclen);
            rec.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(rec, e.Ino);
            BinaryPrimitives.WriteInt64LittleEndian(rec[8..], pos + 1);
            BinaryPrimitives.WriteUInt16LittleEndian(rec[16..], (ushort)reclen);
            rec[18] = e.Type;
            Encoding.UTF8.GetBytes(e.Name, rec[19..]);
            len += reclen;
            pos++;
        }
        var r = len == 0 && pos < entries.Count ? -Errno.EINVAL
            : len > 0 && CopyToUser(dirp, buf.AsSpan(0, len)) < 0 ? -Errno.EFAULT : len;
        ArrayPool<byte>.Shared.Return(buf);
        if (r < 0) return r;
        f.Pos = pos;
        return r;
    }

    /// <summary>
    /// readlink(2) (fs/stat.c do_readlinkat): the link text, cut to <paramref name="bufsiz"/> bytes and not NUL
    /// terminated; −EINVAL for bufsiz ≤ 0 or a path that is not a link, −ENOENT, −EFAULT.
    /// </summary>
    public long Readlink(string path, UserPtr buf, long bufsiz) =>
        Machine.Syscall(this, "sys_readlinkat", (this, path, buf, bufsiz), static a => a.Item1.DoReadlink(a.path, a.buf, a.bufsiz));

    private long DoReadlink(string path, UserPtr buf, long bufsiz)
    {
        if (bufsiz <= 0) return -Errno.EINVAL;
        var r = Machine.Vfs.ResolveAt(path, out var fs, out var at);
        if (r < 0) return r;
        r = fs!.ReadlinkAt(path, at, out var target);
        if (r < 0) return r;
        // The link text's UTF-8 bytes on the stack when short (sysfs links are), not an array per call.
        var max = Encoding.UTF8.GetMaxByteCount(target!.Length);
        Span<byte> bytes = max <= 1024 ? stackalloc byte[max] : new byte[max];
        bytes = bytes[..Encoding.UTF8.GetBytes(target, bytes)];
        var n = (int)Math.Min(bytes.Length, bufsiz);
        return CopyToUser(buf, bytes[..n]) < 0 ? -Errno.EFAULT : n;
    }

    /// <summary>copy_from_user for a driver's ioctl (through a kernel page, like any copy): 0, or −EFAULT when any byte cannot be loaded.</summary>
    public int CopyFromUser(UserPtr src, Span<byte> into)
    {
        var page = CopyOutPage;
        var pa = Machine.KernelMap.Pa(page)!.Value;
        for (var off = 0; off < into.Length;)
        {
            var n = Math.Min(into.Length - off, (int)PageDefs.PAGE_SIZE);
            var it = TakeCopyIter(true, src + (ulong)off, (ulong)n);
            var copied = Machine.IovIter.CopyFromIter(page, (ulong)n, it);
            PutBackCopyIter(it);
            if (copied != (ulong)n) return -Errno.EFAULT;
            Machine.Phys.PeekBytes(pa, into.Slice(off, n));
            off += n;
        }
        return 0;
    }

    /// <summary>
    /// copy_to_user of kernel-built bytes for a system call or a driver's ioctl (through a kernel page, so faults behave
    /// as for any copy): 0, or −EFAULT when any byte cannot be stored.
    /// </summary>
    public int CopyToUser(UserPtr dst, ReadOnlySpan<byte> data)
    {
        var page = CopyOutPage;
        var pa = Machine.KernelMap.Pa(page)!.Value;
        for (var off = 0; off < data.Length;)
        {
            var n = Math.Min(data.Length - off, (int)PageDefs.PAGE_SIZE);
            Machine.Phys.PokeBytes(pa, data.Slice(off, n));
            var it = TakeCopyIter(false, dst + (ulong)off, (ulong)n);
            var copied = Machine.IovIter.CopyToIter(page, (ulong)n, it);
            PutBackCopyIter(it);
            if (copied != (ulong)n) return -Errno.EFAULT;
            off += n;
        }
        return 0;
    }

    // One UBUF iterator per direction for the page-sized steps of CopyFromUser / CopyToUser (an ioctl's payload, a
    // stat buffer, getdents64's records), reused as read(2) reuses its own; a nested copy while one is taken gets a new one.
    private IovIter? _copyFromIter, _copyToIter;
    private bool _copyFromIterBusy, _copyToIterBusy;

    /// <summary>iov_iter_ubuf over <paramref name="buf"/>: the spare of that direction when free, else a new one.</summary>
    private IovIter TakeCopyIter(bool source, UserPtr buf, ulong len)
    {
        var spare = source ? _copyFromIter : _copyToIter;
        if (spare == null || (source ? _copyFromIterBusy : _copyToIterBusy)) return IovIter.Ubuf(source, buf, len);
        if (source) _copyFromIterBusy = true;
        else _copyToIterBusy = true;
        spare.ResetUbuf(buf, len);
        return spare;
    }

    /// <summary>The copy is done with <paramref name="it"/>: it becomes (or stays) the free spare of its direction.</summary>
    private void PutBackCopyIter(IovIter it)
    {
        if (it.DataSource)
        {
            _copyFromIter = it;
            _copyFromIterBusy = false;
        }
        else
        {
            _copyToIter = it;
            _copyToIterBusy = false;
        }
    }

    /// <summary>copy_from_user of a small kernel-bound struct (through a kernel page, so faults behave as for any copy): 0 or −EFAULT.</summary>
    internal int CopyIn(UserPtr src, Span<byte> into)
    {
        var page = CopyOutPage;
        if (Machine.Copy.CopyFromUser(page, src, (ulong)into.Length) != 0) return -Errno.EFAULT;
        Machine.Phys.PeekBytes(Machine.KernelMap.Pa(page)!.Value, into);
        return 0;
    }

    /// <summary>The scratch buffer of <see cref="UserLib"/> in this address space (mapped on first use).</summary>
    internal UserPtr? UserLibScratch { get; set; }

    private KernelPtr? _copyOutPage;
    private KernelPtr CopyOutPage => _copyOutPage ??= Machine.Kmalloc(PageDefs.PAGE_SIZE) ?? throw new InvalidOperationException("out of memory");
}
