using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Host;

/// <summary>
/// The vhost-user-fs daemon (virtiofsd-like passthrough) serving a <see cref="HostShare"/>: decodes each chain's
/// FUSE request from the wire, validates it and answers with a fuse_out_header (error 0 or −errno) plus the reply
/// arguments. SETUPMAPPING opens the inode itself (fh is ignored) and asks the VMM to map; REMOVEMAPPING unmaps.
/// Malformed or truncated requests get an error reply; nothing a guest sends makes it throw. Not a kernel type.
/// </summary>
public sealed class VirtiofsDaemon : IVirtioFsDevice
{
    private readonly Dictionary<ulong, HostFile> _handles = [];
    private readonly List<string> _log = [];
    private ulong _nextFh = 1;

    internal VirtiofsDaemon(HostShare share, VirtioFsVmm? vmm, DaemonOptions options, PhysicalMemory phys, PhysRange? guestRam, PhysRange? window)
    {
        Share = share;
        Vmm = vmm;
        Options = options;
        _phys = phys;
        _guestRam = guestRam;
        _window = window;
    }

    private readonly PhysicalMemory _phys;
    private readonly PhysRange? _guestRam;
    private readonly PhysRange? _window;

    /// <summary>The served directory.</summary>
    public HostShare Share { get; }

    /// <summary>The VMM owning the DAX window (null without a window).</summary>
    public VirtioFsVmm? Vmm { get; }

    /// <summary>Settings.</summary>
    public DaemonOptions Options { get; }

    /// <summary>The transport (set when connected), used to report chain-level problems into its log.</summary>
    internal VirtioFsTransport? Transport { get; set; }

    /// <summary>The daemon's own log (errors it printed).</summary>
    public IReadOnlyList<string> DaemonLog => _log;

    /// <summary>Number of FORGETs received (total nlookup forgotten).</summary>
    public ulong Forgotten { get; private set; }

    /// <summary>Open file handles.</summary>
    public int OpenHandles => _handles.Count;

    /// <inheritdoc/>
    public void Kick(int queue, PipeReader avail, PipeWriter used)
    {
        Span<byte> l = stackalloc byte[4];
        while (avail.TryRead(out var result))
        {
            var buf = result.Buffer;
            if (buf.Length < 4)
            {
                avail.AdvanceTo(buf.Start, buf.End);
                return;
            }
            buf.Slice(0, 4).CopyTo(l);
            var frameLen = BinaryPrimitives.ReadUInt32LittleEndian(l);
            if (frameLen < 4 || frameLen > buf.Length)
            {
                // A chain whose framing lies about its size: drop everything queued (the ring is corrupt) and
                // answer nothing; the device never reads past what is there.
                _log.Add($"virtqueue {queue}: bad chain length {frameLen} with {buf.Length} bytes available; chain dropped");
                Transport?.ReportDeviceError("bad descriptor chain");
                avail.AdvanceTo(buf.End);
                return;
            }
            var frame = buf.Slice(0, frameLen).ToArray();
            avail.AdvanceTo(buf.GetPosition(frameLen));
            var reply = ProcessChain(queue, frame);
            if (reply != null)
            {
                var hdr = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(hdr, (uint)reply.Length);
                used.Write(hdr);
                used.Write(reply);
            }
        }
    }

    /// <summary>Decode the chain framing: inline bytes and data descriptors; null reply when nothing can be answered.</summary>
    private byte[]? ProcessChain(int queue, byte[] frame)
    {
        var f = frame.AsSpan();
        if (f.Length < 8) return ChainError("chain shorter than its framing");
        var inlineLen = BinaryPrimitives.ReadUInt32LittleEndian(f[4..]);
        if (inlineLen > f.Length - 8) return ChainError("inline length beyond the chain");
        var inline = f.Slice(8, (int)inlineLen);
        var p = 8 + (int)inlineLen;
        var pages = new List<PageDesc>();
        if (p + 2 <= f.Length)
        {
            var n = BinaryPrimitives.ReadUInt16LittleEndian(f[p..]);
            p += 2;
            if ((long)n * 16 > f.Length - p) return ChainError("descriptor table beyond the chain");
            for (var i = 0; i < n; i++, p += 16)
                pages.Add(new PageDesc(BinaryPrimitives.ReadUInt64LittleEndian(f[p..]), BinaryPrimitives.ReadUInt32LittleEndian(f[(p + 8)..]), BinaryPrimitives.ReadUInt32LittleEndian(f[(p + 12)..]) != 0));
        }
        return ProcessRequest(queue, inline, pages);
    }

    private byte[]? ChainError(string what)
    {
        _log.Add($"bad descriptor chain: {what}");
        Transport?.ReportDeviceError(what);
        return null;
    }

    /// <summary>
    /// Handle one FUSE request: header checks (−EINVAL for a short header or a len that disagrees with the chain,
    /// −ENOMEM above MaxBufferSize), opcode dispatch (−ENOSYS for unknown opcodes), argument checks (−EINVAL for
    /// truncated arguments). FORGET gets no reply.
    /// </summary>
    private byte[]? ProcessRequest(int queue, ReadOnlySpan<byte> req, List<PageDesc> pages)
    {
        if (!FuseInHeader.TryRead(req, out var h))
        {
            _log.Add($"request of {req.Length} bytes is shorter than fuse_in_header");
            var unique = req.Length >= 16 ? BinaryPrimitives.ReadUInt64LittleEndian(req[8..]) : 0;
            return Reply(unique, -Errno.EINVAL);
        }
        var readable = req.Length;
        foreach (var d in pages) if (!d.DeviceWritable) readable += (int)d.Len;
        if (h.Len > Options.MaxBufferSize) return Reply(h.Unique, -Errno.ENOMEM);
        if (h.Len != (uint)readable)
        {
            _log.Add($"{h.Opcode}: in.h.len {h.Len} but the chain carries {readable} bytes");
            return h.Opcode == FuseOpcode.FUSE_FORGET ? null : Reply(h.Unique, -Errno.EINVAL);
        }
        var a = req[FuseConst.InHeaderSize..];
        if (queue == VirtioFsTransport.HiprioQueue)
        {
            if (h.Opcode != FuseOpcode.FUSE_FORGET) return Reply(h.Unique, -Errno.EINVAL);
            if (a.Length >= FuseConst.ForgetInSize) Forgotten += FuseWire.U64(a, 0);
            return null;
        }
        return h.Opcode switch
        {
            FuseOpcode.FUSE_INIT => Init(h, a),
            FuseOpcode.FUSE_LOOKUP => Lookup(h, a),
            FuseOpcode.FUSE_GETATTR => Need(h, a, FuseConst.GetattrInSize) ?? Getattr(h),
            FuseOpcode.FUSE_SETATTR => Need(h, a, FuseConst.SetattrInSize) ?? Setattr(h, a),
            FuseOpcode.FUSE_OPEN => Need(h, a, FuseConst.OpenInSize) ?? Open(h),
            FuseOpcode.FUSE_READ => Need(h, a, FuseConst.ReadInSize) ?? Read(h, a, pages),
            FuseOpcode.FUSE_WRITE => Need(h, a, FuseConst.ReadInSize) ?? Write(h, a, pages),
            FuseOpcode.FUSE_FLUSH => Need(h, a, FuseConst.FlushInSize) ?? FhOnly(h, a, release: false),
            FuseOpcode.FUSE_FSYNC => Need(h, a, FuseConst.FsyncInSize) ?? FhOnly(h, a, release: false),
            FuseOpcode.FUSE_RELEASE => Need(h, a, FuseConst.ReleaseInSize) ?? FhOnly(h, a, release: true),
            FuseOpcode.FUSE_SETUPMAPPING => Need(h, a, FuseConst.SetupMappingInSize) ?? SetupMapping(h, a),
            FuseOpcode.FUSE_REMOVEMAPPING => Need(h, a, FuseConst.RemoveMappingInSize) ?? RemoveMapping(h, a),
            FuseOpcode.FUSE_DESTROY => Reply(h.Unique, 0),
            FuseOpcode.FUSE_FORGET => null, // on the request queue: still no reply
            _ => Reply(h.Unique, -Errno.ENOSYS),
        };
    }

    private byte[]? Need(in FuseInHeader h, ReadOnlySpan<byte> a, int size)
    {
        if (a.Length >= size) return null;
        _log.Add($"{h.Opcode}: {a.Length} argument bytes, need {size}");
        return Reply(h.Unique, -Errno.EINVAL);
    }

    private static byte[] Reply(ulong unique, int error, ReadOnlySpan<byte> arg = default, ReadOnlySpan<byte> data = default)
    {
        var len = FuseConst.OutHeaderSize + (error == 0 ? arg.Length + data.Length : 0);
        var b = new byte[len];
        new FuseOutHeader((uint)len, error, unique).Write(b);
        if (error == 0)
        {
            arg.CopyTo(b.AsSpan(FuseConst.OutHeaderSize));
            data.CopyTo(b.AsSpan(FuseConst.OutHeaderSize + arg.Length));
        }
        return b;
    }

    private byte[] Init(in FuseInHeader h, ReadOnlySpan<byte> a)
    {
        if (a.Length < 16) return Reply(h.Unique, -Errno.EINVAL);
        var major = FuseWire.U32(a, 0);
        var minor = FuseWire.U32(a, 4);
        var flags = FuseWire.U32(a, 12);
        ulong flags2 = (flags & FuseConst.FUSE_INIT_EXT) != 0 && a.Length >= 20 ? FuseWire.U32(a, 16) : 0;
        var out_ = new byte[FuseConst.InitOutSize];
        FuseWire.Put(out_, 0, FuseConst.KernelVersion);
        FuseWire.Put(out_, 4, Math.Min(minor, 38u));
        FuseWire.Put(out_, 8, FuseWire.U32(a, 8));
        uint rflags = flags & (FuseConst.FUSE_ASYNC_READ | FuseConst.FUSE_BIG_WRITES | FuseConst.FUSE_MAX_PAGES);
        if ((flags & FuseConst.FUSE_MAP_ALIGNMENT) != 0 && Vmm != null) rflags |= FuseConst.FUSE_MAP_ALIGNMENT;
        uint rflags2 = 0;
        if ((flags & FuseConst.FUSE_INIT_EXT) != 0)
        {
            rflags |= FuseConst.FUSE_INIT_EXT;
            if (Options.InodeDax && (flags2 & (FuseConst.FUSE_HAS_INODE_DAX >> 32)) != 0) rflags2 |= (uint)(FuseConst.FUSE_HAS_INODE_DAX >> 32);
        }
        FuseWire.Put(out_, 12, rflags);
        FuseWire.Put(out_, 16, (ushort)16);
        FuseWire.Put(out_, 18, (ushort)12);
        FuseWire.Put(out_, 20, Options.MaxWrite);
        FuseWire.Put(out_, 24, 1u);
        FuseWire.Put(out_, 28, (ushort)32);
        FuseWire.Put(out_, 30, Options.MapAlignment);
        FuseWire.Put(out_, 32, rflags2);
        if (major != FuseConst.KernelVersion) return Reply(h.Unique, -Errno.EPROTO);
        return Reply(h.Unique, 0, out_);
    }

    private FuseAttr AttrOf(HostFile f) => new(f.NodeId, (ulong)f.Size, (f.PagesInFile * 8), Fcntl.S_IFREG | 0x1a4, 1, 4096, f.AttrDax ? FuseConst.FUSE_ATTR_DAX : 0);

    private byte[] Lookup(in FuseInHeader h, ReadOnlySpan<byte> a)
    {
        var z = a.IndexOf((byte)0);
        if (z < 0) return Reply(h.Unique, -Errno.EINVAL);
        if (h.NodeId != FuseConst.RootId) return Reply(h.Unique, -Errno.ENOTDIR);
        var name = System.Text.Encoding.UTF8.GetString(a[..z]);
        var f = Share[name];
        if (f == null) return Reply(h.Unique, -Errno.ENOENT);
        return Reply(h.Unique, 0, FuseWire.EntryOut(f.NodeId, Options.EntryTimeoutSeconds, Options.AttrTimeoutSeconds, AttrOf(f)));
    }

    private byte[] Getattr(in FuseInHeader h)
    {
        var f = Share.ByNode(h.NodeId);
        if (f == null) return Reply(h.Unique, -Errno.ENOENT);
        return Reply(h.Unique, 0, FuseWire.AttrOut(Options.AttrTimeoutSeconds, AttrOf(f)));
    }

    private byte[] Setattr(in FuseInHeader h, ReadOnlySpan<byte> a)
    {
        var f = Share.ByNode(h.NodeId);
        if (f == null) return Reply(h.Unique, -Errno.ENOENT);
        var valid = FuseWire.U32(a, 0);
        if ((valid & FuseConst.FATTR_SIZE) != 0)
        {
            var size = FuseWire.U64(a, 16);
            if (size > long.MaxValue) return Reply(h.Unique, -Errno.EINVAL);
            f.SetSize((long)size);
        }
        return Reply(h.Unique, 0, FuseWire.AttrOut(Options.AttrTimeoutSeconds, AttrOf(f)));
    }

    private byte[] Open(in FuseInHeader h)
    {
        var f = Share.ByNode(h.NodeId);
        if (f == null) return Reply(h.Unique, -Errno.ENOENT);
        var fh = _nextFh++;
        _handles[fh] = f;
        var o = new byte[FuseConst.OpenOutSize];
        FuseWire.Put(o, 0, fh);
        return Reply(h.Unique, 0, o);
    }

    private HostFile? Handle(in FuseInHeader h, ulong fh) =>
        _handles.TryGetValue(fh, out var f) && f.NodeId == h.NodeId ? f : null;

    private byte[]? Read(in FuseInHeader h, ReadOnlySpan<byte> a, List<PageDesc> pages)
    {
        var f = Handle(h, FuseWire.U64(a, 0));
        if (f == null) return Reply(h.Unique, -Errno.EBADF);
        var off = FuseWire.U64(a, 8);
        var size = FuseWire.U32(a, 16);
        if (off > long.MaxValue) return Reply(h.Unique, -Errno.EINVAL);
        if (size > Options.MaxBufferSize) return Reply(h.Unique, -Errno.ENOMEM);
        var data = new byte[size];
        var n = f.Read((long)off, data);
        var writable = pages.Where(p => p.DeviceWritable).ToList();
        if (writable.Count == 0) return Reply(h.Unique, 0, data.AsSpan(0, n));
        // Data goes to the guest pages named by the descriptors.
        var done = 0;
        foreach (var d in writable)
        {
            if (done >= n) break;
            var chunk = (int)Math.Min((uint)(n - done), d.Len);
            var r = WriteGuest(d.Gpa, data.AsSpan(done, chunk));
            if (r != null) return Unanswerable(r);
            done += chunk;
        }
        var hdr = new byte[FuseConst.OutHeaderSize];
        new FuseOutHeader((uint)(FuseConst.OutHeaderSize + n), 0, h.Unique).Write(hdr);
        return hdr;
    }

    private byte[]? Write(in FuseInHeader h, ReadOnlySpan<byte> a, List<PageDesc> pages)
    {
        var f = Handle(h, FuseWire.U64(a, 0));
        if (f == null) return Reply(h.Unique, -Errno.EBADF);
        var off = FuseWire.U64(a, 8);
        var size = FuseWire.U32(a, 16);
        var inlineData = a[FuseConst.ReadInSize..];
        var data = new byte[inlineData.Length + pages.Where(p => !p.DeviceWritable).Sum(p => (long)p.Len)];
        inlineData.CopyTo(data);
        var pos = inlineData.Length;
        foreach (var d in pages)
        {
            if (d.DeviceWritable) continue;
            var r = ReadGuest(d.Gpa, data.AsSpan(pos, (int)d.Len));
            if (r != null) return Unanswerable(r);
            pos += (int)d.Len;
        }
        if (size != data.Length) return Reply(h.Unique, -Errno.EINVAL);
        if (off > (ulong)long.MaxValue - size) return Reply(h.Unique, -Errno.EFBIG);
        f.Write((long)off, data);
        var o = new byte[FuseConst.WriteOutSize];
        FuseWire.Put(o, 0, size);
        return Reply(h.Unique, 0, o);
    }

    private byte[]? Unanswerable(string why)
    {
        _log.Add($"virtio-fs request failed: {why}");
        Transport?.ReportDeviceError(why);
        return null;
    }

    /// <summary>Guest memory access through the vhost-user memory table (guest RAM only) or, with FS_IO, the VMM.</summary>
    private string? WriteGuest(ulong gpa, ReadOnlySpan<byte> data) => GuestIo(gpa, data.Length, data.ToArray(), null);

    private string? ReadGuest(ulong gpa, Span<byte> into)
    {
        var tmp = new byte[into.Length];
        var r = GuestIo(gpa, into.Length, null, tmp);
        tmp.CopyTo(into);
        return r;
    }

    private string? GuestIo(ulong gpa, int len, byte[]? write, byte[]? read)
    {
        if (_guestRam != null && gpa >= _guestRam.Start.Value && gpa + (ulong)len <= _guestRam.End.Value)
        {
            if (write != null) _phys.PokeBytes(new PhysAddr(gpa), write);
            else _phys.PeekBytes(new PhysAddr(gpa), read);
            return null;
        }
        if (_window != null && Vmm != null && gpa >= _window.Start.Value && gpa < _window.End.Value)
        {
            if (!Options.WindowDescriptorIo) return "QueueReader(FindMemoryRegion): descriptor points into the DAX window, which is not in the vhost-user memory table";
            // FS_IO: the front-end preads/pwrites between the file and the window mapping.
            var done = 0;
            while (done < len)
            {
                var off = gpa - _window.Start.Value + (ulong)done;
                var po = (int)PageDefs.OffsetInPage(off);
                var chunk = Math.Min(len - done, (int)PageDefs.PAGE_SIZE - po);
                var m = Vmm.Find(off);
                var pfn = m?.File.Backing((m.FOffset + (off - m.MOffset)) >> PageDefs.PAGE_SHIFT);
                if (pfn == null) return "FS_IO: window range not backed by a host file page";
                if (write != null) write.AsSpan(done, chunk).CopyTo(Share.Memory.Write(pfn.Value, po, chunk));
                else Share.Memory.Read(pfn.Value, po, chunk).CopyTo(read.AsSpan(done, chunk));
                done += chunk;
            }
            return null;
        }
        return "QueueReader(FindMemoryRegion): descriptor outside guest memory";
    }

    private byte[] FhOnly(in FuseInHeader h, ReadOnlySpan<byte> a, bool release)
    {
        var fh = FuseWire.U64(a, 0);
        if (Handle(h, fh) == null) return Reply(h.Unique, -Errno.EBADF);
        if (release) _handles.Remove(fh);
        return Reply(h.Unique, 0);
    }

    private byte[] SetupMapping(in FuseInHeader h, ReadOnlySpan<byte> a)
    {
        if (Vmm == null) return Reply(h.Unique, -Errno.ENOSYS);
        if (Options.SetupMappingError != 0) return Reply(h.Unique, Options.SetupMappingError);
        var f = Share.ByNode(h.NodeId);
        if (f == null) return Reply(h.Unique, -Errno.ENOENT);
        var foffset = FuseWire.U64(a, 8);
        var len = FuseWire.U64(a, 16);
        var flags = FuseWire.U64(a, 24);
        var moffset = FuseWire.U64(a, 32);
        var align = (1UL << Math.Min((int)Options.MapAlignment, 63)) - 1;
        if ((foffset & align) != 0 || (moffset & align) != 0) return Reply(h.Unique, -Errno.EINVAL);
        var r = Vmm.Map(moffset, len, f, foffset,
            read: (flags & FuseConst.FUSE_SETUPMAPPING_FLAG_READ) != 0, write: (flags & FuseConst.FUSE_SETUPMAPPING_FLAG_WRITE) != 0);
        return Reply(h.Unique, r);
    }

    private byte[] RemoveMapping(in FuseInHeader h, ReadOnlySpan<byte> a)
    {
        if (Vmm == null) return Reply(h.Unique, -Errno.ENOSYS);
        var count = FuseWire.U32(a, 0);
        if (count > FuseConst.FUSE_REMOVEMAPPING_MAX_ENTRY) return Reply(h.Unique, -Errno.EINVAL);
        if ((ulong)a.Length < 4 + (ulong)count * FuseConst.RemoveMappingOneSize) return Reply(h.Unique, -Errno.EINVAL);
        var err = 0;
        for (var i = 0; i < count; i++)
        {
            var r = Vmm.Unmap(FuseWire.U64(a, 4 + i * 16), FuseWire.U64(a, 12 + i * 16));
            if (r != 0) err = r;
        }
        return Reply(h.Unique, err);
    }
}
