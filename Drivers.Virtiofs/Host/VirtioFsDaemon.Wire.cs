using System.Buffers;
using System.IO.Pipelines;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Host;

/// <summary>The daemon's side of the virtqueues: chains parsed in place from the available ring, requests checked and dispatched.</summary>
public sealed partial class VirtioFsDaemon
{
    /// <summary>
    /// Largest fixed argument struct a handler reads field by field (fuse_setattr_in); those bytes are copied once
    /// from the ring onto the stack, variable parts (names, REMOVEMAPPING entries, WRITE data) are read in place.
    /// </summary>
    private const int FixedArgsMax = FuseConst.SetattrInSize;

    private readonly List<PageDesc> _pages = [];

    /// <inheritdoc/>
    /// <remarks>
    /// Chains are parsed in place with <see cref="SequenceReader{T}"/> (they may span segments); replies are written
    /// straight into <paramref name="used"/>. A kick publishes whole chains, so a frame_len that claims more than
    /// the ring holds is a corrupt ring: everything queued is dropped without a reply. Fewer than four bytes (a
    /// frame_len not yet whole) stay in the ring: consumed up to their start, examined to the end.
    /// </remarks>
    public void Kick(int queue, PipeReader avail, PipeWriter used)
    {
        if (!avail.TryRead(out var result)) return;
        var buf = result.Buffer;
        var r = new SequenceReader<byte>(buf);
        while (r.TryReadLittleEndian(out int word))
        {
            var frameLen = (uint)word;
            if (frameLen < 4 || frameLen - 4 > r.Remaining)
            {
                _log.Add($"virtqueue {queue}: bad chain length {frameLen} with {r.Remaining + 4} bytes available; chain dropped");
                Transport?.ReportDeviceError("bad descriptor chain");
                avail.AdvanceTo(buf.End);
                return;
            }
            var frame = buf.Slice(r.Position, frameLen - 4);
            r.Advance(frameLen - 4);
            ProcessChain(queue, frame, used);
        }
        avail.AdvanceTo(r.Position, buf.End);
    }

    /// <summary>Decode the chain framing after frame_len: inline bytes and data descriptors; no reply when nothing can be answered.</summary>
    private void ProcessChain(int queue, in ReadOnlySequence<byte> frame, PipeWriter used)
    {
        var r = new SequenceReader<byte>(frame);
        if (!r.TryReadLittleEndian(out int il))
        {
            ChainError("chain shorter than its framing");
            return;
        }
        var inlineLen = (uint)il;
        if (inlineLen > r.Remaining)
        {
            ChainError("inline length beyond the chain");
            return;
        }
        var inline = frame.Slice(r.Position, inlineLen);
        r.Advance(inlineLen);
        _pages.Clear();
        if (r.TryReadLittleEndian(out short count))
        {
            var n = (ushort)count;
            if (n * 16L > r.Remaining)
            {
                ChainError("descriptor table beyond the chain");
                return;
            }
            for (var i = 0; i < n; i++)
            {
                r.TryReadLittleEndian(out long gpa);
                r.TryReadLittleEndian(out int len);
                r.TryReadLittleEndian(out int writable);
                _pages.Add(new PageDesc((ulong)gpa, (uint)len, writable != 0));
            }
        }
        ProcessRequest(queue, inline, _pages, used);
    }

    private void ChainError(string what)
    {
        _log.Add($"bad descriptor chain: {what}");
        Transport?.ReportDeviceError(what);
    }

    /// <summary>
    /// Handle one FUSE request: header checks (−EINVAL for a short header or a len that disagrees with the chain,
    /// −ENOMEM above MaxBufferSize), opcode dispatch (−ENOSYS for unknown opcodes), argument checks (−EINVAL for
    /// truncated arguments). FORGET gets no reply.
    /// </summary>
    private void ProcessRequest(int queue, in ReadOnlySequence<byte> req, List<PageDesc> pages, PipeWriter w)
    {
        var r = new SequenceReader<byte>(req);
        if (!FuseInHeader.TryRead(ref r, out var h))
        {
            _log.Add($"request of {req.Length} bytes is shorter than fuse_in_header");
            long unique = 0;
            if (r.Remaining >= 16) { r.Advance(8); r.TryReadLittleEndian(out unique); }
            FuseReplyWriter.Header(w, (ulong)unique, -Errno.EINVAL);
            return;
        }
        var readable = req.Length;
        foreach (var d in pages) if (!d.DeviceWritable) readable += d.Len;
        if (h.Len > Options.MaxBufferSize)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.ENOMEM);
            return;
        }
        if (h.Len != readable)
        {
            _log.Add($"{h.Opcode}: in.h.len {h.Len} but the chain carries {readable} bytes");
            if (h.Opcode != FuseOpcode.FUSE_FORGET) FuseReplyWriter.Header(w, h.Unique, -Errno.EINVAL);
            return;
        }
        var args = req.Slice(r.Position);
        Span<byte> fixedArgs = stackalloc byte[FixedArgsMax];
        var a = fixedArgs[..(int)Math.Min(args.Length, FixedArgsMax)];
        args.Slice(0, a.Length).CopyTo(a);
        if (queue == VirtioFsTransport.HiprioQueue)
        {
            if (h.Opcode != FuseOpcode.FUSE_FORGET) FuseReplyWriter.Header(w, h.Unique, -Errno.EINVAL);
            else if (args.Length >= FuseConst.ForgetInSize) Forgotten += FuseWire.U64(a, 0);
            return;
        }
        switch (h.Opcode)
        {
            case FuseOpcode.FUSE_INIT: Init(h, a, w); break;
            case FuseOpcode.FUSE_LOOKUP: Lookup(h, args, w); break;
            case FuseOpcode.FUSE_GETATTR: if (Need(h, args, FuseConst.GetattrInSize, w)) Getattr(h, w); break;
            case FuseOpcode.FUSE_SETATTR: if (Need(h, args, FuseConst.SetattrInSize, w)) Setattr(h, a, w); break;
            case FuseOpcode.FUSE_OPEN: if (Need(h, args, FuseConst.OpenInSize, w)) Open(h, w); break;
            case FuseOpcode.FUSE_READ: if (Need(h, args, FuseConst.ReadInSize, w)) Read(h, a, pages, w); break;
            case FuseOpcode.FUSE_WRITE: if (Need(h, args, FuseConst.ReadInSize, w)) Write(h, a, args, pages, w); break;
            case FuseOpcode.FUSE_FLUSH: if (Need(h, args, FuseConst.FlushInSize, w)) FhOnly(h, a, release: false, w); break;
            case FuseOpcode.FUSE_FSYNC: if (Need(h, args, FuseConst.FsyncInSize, w)) FhOnly(h, a, release: false, w); break;
            case FuseOpcode.FUSE_RELEASE: if (Need(h, args, FuseConst.ReleaseInSize, w)) FhOnly(h, a, release: true, w); break;
            case FuseOpcode.FUSE_SETUPMAPPING: if (Need(h, args, FuseConst.SetupMappingInSize, w)) SetupMapping(h, a, w); break;
            case FuseOpcode.FUSE_REMOVEMAPPING: if (Need(h, args, FuseConst.RemoveMappingInSize, w)) RemoveMapping(h, a, args, w); break;
            case FuseOpcode.FUSE_CREATE: if (Need(h, args, FuseConst.CreateInSize, w)) Create(h, a, args, w); break;
            case FuseOpcode.FUSE_MKNOD: if (Need(h, args, FuseConst.MknodInSize, w)) Mknod(h, a, args, w); break;
            case FuseOpcode.FUSE_UNLINK: Unlink(h, args, w); break;
            case FuseOpcode.FUSE_DESTROY: FuseReplyWriter.Header(w, h.Unique, 0); break;
            case FuseOpcode.FUSE_FORGET: break; // on the request queue: still no reply
            default: FuseReplyWriter.Header(w, h.Unique, -Errno.ENOSYS); break;
        }
    }

    /// <summary>True when the arguments hold <paramref name="size"/> bytes; otherwise −EINVAL is answered.</summary>
    private bool Need(in FuseInHeader h, in ReadOnlySequence<byte> args, int size, PipeWriter w)
    {
        if (args.Length >= size) return true;
        _log.Add($"{h.Opcode}: {args.Length} argument bytes, need {size}");
        FuseReplyWriter.Header(w, h.Unique, -Errno.EINVAL);
        return false;
    }
}
