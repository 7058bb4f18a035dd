using System.Buffers;
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
public sealed partial class VirtioFsDaemon : IVirtioFsDevice
{
    private readonly Dictionary<ulong, HostFile> _handles = [];
    private readonly List<string> _log = [];
    private ulong _nextFh = 1;

    internal VirtioFsDaemon(HostShare share, VirtioFsVmm? vmm, DaemonOptions options, PhysicalMemory phys, PhysRange? guestRam, PhysRange? window)
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

    private void Init(in FuseInHeader h, ReadOnlySpan<byte> a, PipeWriter w)
    {
        if (a.Length < 16)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.EINVAL);
            return;
        }
        var major = FuseWire.U32(a, 0);
        var minor = FuseWire.U32(a, 4);
        var flags = FuseWire.U32(a, 12);
        if (major != FuseConst.KernelVersion)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.EPROTO);
            return;
        }
        ulong flags2 = (flags & FuseConst.FUSE_INIT_EXT) != 0 && a.Length >= 20 ? FuseWire.U32(a, 16) : 0;
        var reply = new FuseReplyWriter(w, FuseConst.InitOutSize);
        var out_ = reply.Args;
        out_.Clear();
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
        reply.Commit(h.Unique, 0, FuseConst.InitOutSize);
    }

    private FuseAttr AttrOf(HostFile f) => new(f.NodeId, (ulong)f.Size, (f.PagesInFile * 8), (uint)f.Mode, 1, 4096, f.AttrDax ? FuseConst.FUSE_ATTR_DAX : 0);

    private void Lookup(in FuseInHeader h, in ReadOnlySequence<byte> args, PipeWriter w)
    {
        var r = new SequenceReader<byte>(args);
        if (!r.TryReadTo(out ReadOnlySequence<byte> nameBytes, (byte)0))
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.EINVAL);
            return;
        }
        if (h.NodeId != FuseConst.RootId)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.ENOTDIR);
            return;
        }
        var f = Share[System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, nameBytes)];
        if (f == null)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.ENOENT);
            return;
        }
        var reply = new FuseReplyWriter(w, FuseConst.EntryOutSize);
        FuseWire.EntryOut(reply.Args, f.NodeId, Options.EntryTimeoutSeconds, Options.AttrTimeoutSeconds, AttrOf(f));
        reply.Commit(h.Unique, 0, FuseConst.EntryOutSize);
    }

    private void AttrReply(in FuseInHeader h, HostFile f, PipeWriter w)
    {
        var reply = new FuseReplyWriter(w, FuseConst.AttrOutSize);
        FuseWire.AttrOut(reply.Args, Options.AttrTimeoutSeconds, AttrOf(f));
        reply.Commit(h.Unique, 0, FuseConst.AttrOutSize);
    }

    private void Getattr(in FuseInHeader h, PipeWriter w)
    {
        var f = Share.ByNode(h.NodeId);
        if (f == null) FuseReplyWriter.Header(w, h.Unique, -Errno.ENOENT);
        else AttrReply(h, f, w);
    }

    private void Setattr(in FuseInHeader h, ReadOnlySpan<byte> a, PipeWriter w)
    {
        var f = Share.ByNode(h.NodeId);
        if (f == null)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.ENOENT);
            return;
        }
        var valid = FuseWire.U32(a, 0);
        if ((valid & FuseConst.FATTR_SIZE) != 0)
        {
            var size = FuseWire.U64(a, 16);
            if (size > long.MaxValue)
            {
                FuseReplyWriter.Header(w, h.Unique, -Errno.EINVAL);
                return;
            }
            f.SetSize((long)size);
        }
        AttrReply(h, f, w);
    }

    private void Open(in FuseInHeader h, PipeWriter w)
    {
        var f = Share.ByNode(h.NodeId);
        if (f == null)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.ENOENT);
            return;
        }
        var fh = _nextFh++;
        _handles[fh] = f;
        var reply = new FuseReplyWriter(w, FuseConst.OpenOutSize);
        reply.Args.Clear();
        FuseWire.Put(reply.Args, 0, fh);
        reply.Commit(h.Unique, 0, FuseConst.OpenOutSize);
    }

    private HostFile? Handle(in FuseInHeader h, ulong fh) =>
        _handles.TryGetValue(fh, out var f) && f.NodeId == h.NodeId ? f : null;

    /// <summary>
    /// FUSE_READ: the data is read from the host file straight into the reply's place in the used ring, or — with
    /// device-writable descriptors — through one pooled buffer into the guest pages.
    /// </summary>
    private void Read(in FuseInHeader h, ReadOnlySpan<byte> a, List<PageDesc> pages, PipeWriter w)
    {
        var f = Handle(h, FuseWire.U64(a, 0));
        var off = FuseWire.U64(a, 8);
        var size = FuseWire.U32(a, 16);
        var err = f == null ? -Errno.EBADF : off > long.MaxValue ? -Errno.EINVAL : size > Options.MaxBufferSize ? -Errno.ENOMEM : 0;
        if (err != 0)
        {
            FuseReplyWriter.Header(w, h.Unique, err);
            return;
        }
        var writable = 0;
        foreach (var d in pages) if (d.DeviceWritable) writable++;
        if (writable == 0)
        {
            var reply = new FuseReplyWriter(w, (int)size);
            reply.Commit(h.Unique, 0, f!.Read((long)off, reply.Args));
            return;
        }
        var data = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            var n = f!.Read((long)off, data.AsSpan(0, (int)size));
            // Data goes to the guest pages named by the descriptors.
            var done = 0;
            foreach (var d in pages)
            {
                if (!d.DeviceWritable) continue;
                if (done >= n) break;
                var chunk = (int)Math.Min((uint)(n - done), d.Len);
                var r = GuestIo(d.Gpa, data.AsSpan(done, chunk), toGuest: true);
                if (r != null)
                {
                    Unanswerable(r);
                    return;
                }
                done += chunk;
            }
            FuseReplyWriter.Header(w, h.Unique, 0, (uint)(FuseConst.OutHeaderSize + n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(data);
        }
    }

    /// <summary>
    /// FUSE_WRITE: inline data goes from the ring straight into the host file, segment by segment; data in guest pages
    /// is gathered with it in one pooled buffer first (a page that cannot be read leaves the file untouched).
    /// </summary>
    private void Write(in FuseInHeader h, ReadOnlySpan<byte> a, in ReadOnlySequence<byte> args, List<PageDesc> pages, PipeWriter w)
    {
        var f = Handle(h, FuseWire.U64(a, 0));
        if (f == null)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.EBADF);
            return;
        }
        var off = FuseWire.U64(a, 8);
        var size = FuseWire.U32(a, 16);
        var inlineData = args.Slice(FuseConst.ReadInSize);
        long fromPages = 0;
        foreach (var d in pages) if (!d.DeviceWritable) fromPages += d.Len;
        var total = inlineData.Length + fromPages;
        byte[]? gathered = null;
        try
        {
            if (fromPages != 0)
            {
                // total ≤ in.h.len ≤ MaxBufferSize: checked before dispatch.
                gathered = ArrayPool<byte>.Shared.Rent((int)total);
                inlineData.CopyTo(gathered);
                var pos = (int)inlineData.Length;
                foreach (var d in pages)
                {
                    if (d.DeviceWritable) continue;
                    var r = GuestIo(d.Gpa, gathered.AsSpan(pos, (int)d.Len), toGuest: false);
                    if (r != null)
                    {
                        Unanswerable(r);
                        return;
                    }
                    pos += (int)d.Len;
                }
            }
            var err = size != total ? -Errno.EINVAL : off > (ulong)long.MaxValue - size ? -Errno.EFBIG : 0;
            if (err != 0)
            {
                FuseReplyWriter.Header(w, h.Unique, err);
                return;
            }
            if (gathered != null) f.Write((long)off, gathered.AsSpan(0, (int)total));
            else if (inlineData.IsEmpty) f.Write((long)off, []);
            else
            {
                var at = (long)off;
                foreach (var seg in inlineData)
                {
                    f.Write(at, seg.Span);
                    at += seg.Length;
                }
            }
        }
        finally
        {
            if (gathered != null) ArrayPool<byte>.Shared.Return(gathered);
        }
        var reply = new FuseReplyWriter(w, FuseConst.WriteOutSize);
        reply.Args.Clear();
        FuseWire.Put(reply.Args, 0, size);
        reply.Commit(h.Unique, 0, FuseConst.WriteOutSize);
    }

    private void Unanswerable(string why)
    {
        _log.Add($"virtio-fs request failed: {why}");
        Transport?.ReportDeviceError(why);
    }

    /// <summary>
    /// Guest memory access through the vhost-user memory table (guest RAM only) or, with FS_IO, the VMM: copies
    /// <paramref name="buf"/> to the guest (<paramref name="toGuest"/>) or fills it from the guest. Null, or why not.
    /// </summary>
    private string? GuestIo(ulong gpa, Span<byte> buf, bool toGuest)
    {
        var len = buf.Length;
        if (_guestRam != null && gpa >= _guestRam.Start.Value && gpa + (ulong)len <= _guestRam.End.Value)
        {
            if (toGuest) _phys.PokeBytes(new PhysAddr(gpa), buf);
            else _phys.PeekBytes(new PhysAddr(gpa), buf);
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
                if (toGuest) Share.Memory.Write(pfn.Value, po, buf.Slice(done, chunk));
                else Share.Memory.Read(pfn.Value, po, buf.Slice(done, chunk));
                done += chunk;
            }
            return null;
        }
        return "QueueReader(FindMemoryRegion): descriptor outside guest memory";
    }

    private void FhOnly(in FuseInHeader h, ReadOnlySpan<byte> a, bool release, PipeWriter w)
    {
        var fh = FuseWire.U64(a, 0);
        if (Handle(h, fh) == null)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.EBADF);
            return;
        }
        if (release) _handles.Remove(fh);
        FuseReplyWriter.Header(w, h.Unique, 0);
    }

    private void SetupMapping(in FuseInHeader h, ReadOnlySpan<byte> a, PipeWriter w) => FuseReplyWriter.Header(w, h.Unique, SetupMapping(h, a));

    private int SetupMapping(in FuseInHeader h, ReadOnlySpan<byte> a)
    {
        if (Vmm == null) return -Errno.ENOSYS;
        if (Options.SetupMappingError != 0) return Options.SetupMappingError;
        var f = Share.ByNode(h.NodeId);
        if (f == null) return -Errno.ENOENT;
        var foffset = FuseWire.U64(a, 8);
        var len = FuseWire.U64(a, 16);
        var flags = FuseWire.U64(a, 24);
        var moffset = FuseWire.U64(a, 32);
        var align = (1UL << Math.Min((int)Options.MapAlignment, 63)) - 1;
        if ((foffset & align) != 0 || (moffset & align) != 0) return -Errno.EINVAL;
        return Vmm.Map(moffset, len, f, foffset,
            read: (flags & FuseConst.FUSE_SETUPMAPPING_FLAG_READ) != 0, write: (flags & FuseConst.FUSE_SETUPMAPPING_FLAG_WRITE) != 0);
    }

    private void RemoveMapping(in FuseInHeader h, ReadOnlySpan<byte> a, in ReadOnlySequence<byte> args, PipeWriter w) =>
        FuseReplyWriter.Header(w, h.Unique, RemoveMapping(a, args));

    /// <summary>The fuse_removemapping_one entries are read in place from the ring.</summary>
    private int RemoveMapping(ReadOnlySpan<byte> a, in ReadOnlySequence<byte> args)
    {
        if (Vmm == null) return -Errno.ENOSYS;
        var count = FuseWire.U32(a, 0);
        if (count > FuseConst.FUSE_REMOVEMAPPING_MAX_ENTRY) return -Errno.EINVAL;
        if ((ulong)args.Length < 4 + (ulong)count * FuseConst.RemoveMappingOneSize) return -Errno.EINVAL;
        var r = new SequenceReader<byte>(args);
        r.Advance(FuseConst.RemoveMappingInSize);
        var err = 0;
        for (var i = 0; i < count; i++)
        {
            r.TryReadLittleEndian(out long moffset);
            r.TryReadLittleEndian(out long len);
            var e = Vmm.Unmap((ulong)moffset, (ulong)len);
            if (e != 0) err = e;
        }
        return err;
    }
}
