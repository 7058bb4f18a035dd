using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// FUSE_READ / FUSE_WRITE I/O (fs/fuse/file.c fuse_direct_io, the path of non-DAX files and of extending DAX
/// writes). Requests are at most min(max_write or max_pages·4 KiB) bytes. The data goes through a per-connection
/// kernel bounce buffer, or — with <see cref="VirtioFsOptions.PinUserPages"/> — the user pages are pinned
/// (iov_iter_get_pages) and passed to the device as data descriptors by guest-physical address.
/// </summary>
public sealed class FuseDirectIo
{
    private readonly Machine _machine;
    private readonly FuseConn _conn;
    private readonly KernelPtr _bounce;
    private readonly ulong _bounceBytes;
    private readonly bool _pin;
    /// <summary>The bounce buffer's bytes as the WRITE request's inline data (allocated once; the transport copies them into the ring).</summary>
    private readonly byte[] _stage;

    internal FuseDirectIo(Machine machine, FuseConn conn, bool pinUserPages)
    {
        _machine = machine;
        _conn = conn;
        _bounceBytes = 128 * 1024;
        _bounce = machine.Kmalloc(_bounceBytes) ?? throw new InvalidOperationException("out of memory for the FUSE bounce buffer");
        _pin = pinUserPages;
        _stage = new byte[_bounceBytes];
    }

    private ulong Chunk(bool write) => Math.Min(_bounceBytes, write ? Math.Min(_conn.MaxWrite, _conn.MaxPages * (uint)PageDefs.PAGE_SIZE) : _conn.MaxPages * (ulong)PageDefs.PAGE_SIZE);

    /// <summary>fuse_direct_io(FUSE_DIO_READ): FUSE_READ per chunk until a short reply (EOF) or a short copy.</summary>
    public long Read(FuseFile file, Kiocb iocb, IovIter to)
    {
        using var _ = _machine.Tracer.Fn("fuse_direct_io", "fuse");
        var inode = (FuseInode)file.Inode;
        long done = 0;
        Span<byte> args = stackalloc byte[FuseConst.ReadInSize];
        while (to.Count > 0)
        {
            var n = Math.Min(to.Count, Chunk(false));
            if (_pin && to.IsUserBacked)
            {
                var r = PinnedRead(file, iocb.Pos, n, to, out var got);
                if (r < 0) return done > 0 ? done : r;
                iocb.Pos += (long)got;
                done += (long)got;
                if (got < n) break;
                continue;
            }
            var err = _conn.Request(FuseOpcode.FUSE_READ, inode.NodeId, FuseWire.ReadWriteIn(args, file.Fh, (ulong)iocb.Pos, (uint)n, 0, (uint)file.Flags), out var data);
            if (err < 0) return done > 0 ? done : err;
            var nres = (ulong)Math.Min((long)n, data.Length);
            _machine.Phys.PokeBytes(_machine.KernelMap.Pa(_bounce)!.Value, data[..(int)nres]);
            var copied = _machine.IovIter.CopyToIter(_bounce, nres, to);
            iocb.Pos += (long)copied;
            done += (long)copied;
            if (copied < nres) return done > 0 ? done : -Errno.EFAULT;
            if (nres < n) break;
        }
        return done;
    }

    private int PinnedRead(FuseFile file, long pos, ulong n, IovIter to, out ulong got)
    {
        got = 0;
        var inode = (FuseInode)file.Inode;
        var start = to.Type == IterType.ITER_UBUF ? to.UbufBase.Value + to.IovOffset : to.IovecSegments[to.SegIndex].Base.Value + to.IovOffset;
        n = Math.Min(n, to.IterIovLen);
        var first = start & PageDefs.PAGE_MASK;
        var nrPages = (int)((PageDefs.PageAlign(start + n) - first) >> PageDefs.PAGE_SHIFT);
        var pfns = new ulong[nrPages];
        var pinned = _machine.Gup.GetUserPagesFast(new UserPtr(start), nrPages, write: true, nofault: false, pfns);
        if (pinned < 0) return (int)pinned;
        var descs = new List<PageDesc>();
        var left = n;
        var off = PageDefs.OffsetInPage(start);
        for (var i = 0; i < pinned && left > 0; i++)
        {
            var len = Math.Min(left, PageDefs.PAGE_SIZE - off);
            descs.Add(new PageDesc((pfns[i] << PageDefs.PAGE_SHIFT) + off, (uint)len, true));
            left -= len;
            off = 0;
        }
        var want = n - left;
        try
        {
            var err = _conn.Request(FuseOpcode.FUSE_READ, inode.NodeId, FuseWire.ReadWriteIn(stackalloc byte[FuseConst.ReadInSize], file.Fh, (ulong)pos, (uint)want, 0, (uint)file.Flags), out _, descs);
            if (err < 0) return err;
            // The reply's out.h.len tells how much the device wrote into the pages.
            got = Math.Min(want, (ulong)Math.Max(0L, (long)_conn.LastReplyLen - FuseConst.OutHeaderSize));
            _machine.IovIter.Advance(to, got);
            return 0;
        }
        finally
        {
            for (var i = 0; i < pinned; i++) _machine.Gup.UnpinUserPage(pfns[i]);
        }
    }

    /// <summary>
    /// fuse_direct_io(FUSE_DIO_WRITE) + fuse_write_update_attr: FUSE_WRITE per chunk with the data; the cached
    /// i_size grows to the new end; attributes are invalidated.
    /// </summary>
    public long Write(FuseFile file, Kiocb iocb, IovIter from)
    {
        using var _ = _machine.Tracer.Fn("fuse_direct_io", "fuse");
        var inode = (FuseInode)file.Inode;
        long done = 0;
        var bouncePa = _machine.KernelMap.Pa(_bounce)!.Value;
        Span<byte> args = stackalloc byte[FuseConst.ReadInSize];
        while (from.Count > 0)
        {
            var n = Math.Min(from.Count, Chunk(true));
            var copied = _machine.IovIter.CopyFromIter(_bounce, n, from);
            if (copied == 0)
            {
                if (done == 0) return -Errno.EFAULT;
                break;
            }
            var data = _stage.AsSpan(0, (int)copied);
            _machine.Phys.PeekBytes(bouncePa, data);
            FuseWire.ReadWriteIn(args, file.Fh, (ulong)iocb.Pos, (uint)copied, 0, (uint)file.Flags);
            var err = _conn.Request(FuseOpcode.FUSE_WRITE, inode.NodeId, args, data, out var reply);
            if (err < 0) return done > 0 ? done : err;
            var written = reply.Length >= FuseConst.WriteOutSize ? FuseWire.U32(reply, 0) : 0u;
            if (written > copied) return done > 0 ? done : -Errno.EIO;
            iocb.Pos += written;
            done += written;
            if (written < copied) break;
        }
        // fuse_write_update_attr
        if (iocb.Pos > inode.Size) inode.Size = iocb.Pos;
        inode.AttrValidUntil = 0;
        return done;
    }
}
