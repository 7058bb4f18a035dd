using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using KernelSim.Drivers.Virtiofs.Protocol;

namespace KernelSim.Drivers.Virtiofs.Transport;

/// <summary>
/// The virtio-fs virtqueues (fs/fuse/virtio_fs.c): index 0 = "hiprio" (FORGET only), 1 = "requests.0". Each queue
/// is a pair of System.IO.Pipelines pipes (available ring: driver → device; used ring: device → driver) over pooled
/// memory, pumped synchronously — writing a chain, kicking the device and reading the used element all happen inside
/// the call, so a run is deterministic. A chain on the available pipe is framed as
/// <c>u32 frame_len | u32 inline_len | inline bytes (fuse_in_header + args [+ data]) | u16 n | n × (u64 gpa, u32 len, u32 writable)</c>;
/// a used element is <c>u32 len | bytes (fuse_out_header + args + data)</c>, all little-endian. Chains are written
/// straight into the pipe's memory (<see cref="PipeWriter.GetSpan"/> + <see cref="PipeWriter.Advance"/>); used
/// elements are parsed with <see cref="SequenceReader{T}"/> and may span segments. Every request is logged,
/// decoded from its wire bytes.
/// </summary>
public sealed class VirtioFsTransport
{
    /// <summary>Index of the hiprio queue.</summary>
    public const int HiprioQueue = 0;
    /// <summary>Index of the first (only) request queue.</summary>
    public const int RequestQueue = 1;

    private const int ChainHead = 8; // frame_len + inline_len
    private const int DescSize = 16;

    /// <summary>
    /// Pooled segments; inline schedulers and no writer back-pressure (pauseWriterThreshold 0 never pauses), so
    /// every FlushAsync completes synchronously by construction and no continuation runs on another thread.
    /// </summary>
    internal static readonly PipeOptions Options = new(pool: MemoryPool<byte>.Shared,
        readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: 4096, useSynchronizationContext: false);

    private readonly (Pipe Avail, Pipe Used)[] _queues = [(new Pipe(Options), new Pipe(Options)), (new Pipe(Options), new Pipe(Options))];
    private readonly bool[] _stalled = new bool[2];
    private readonly List<FuseMessage> _log = [];
    private string? _lastDeviceError;

    /// <summary>Connect the driver end to <paramref name="device"/>.</summary>
    public VirtioFsTransport(IVirtioFsDevice device) => Device = device;

    /// <summary>The device (daemon).</summary>
    public IVirtioFsDevice Device { get; }

    /// <summary>Every request sent, in order.</summary>
    public IReadOnlyList<FuseMessage> Log => _log;

    /// <summary>Queue names as Linux creates them.</summary>
    public static string QueueName(int q) => q == HiprioQueue ? "hiprio" : $"requests.{q - 1}";

    /// <summary>Forget the log (scenario setup done).</summary>
    public void ClearLog() => _log.Clear();

    /// <summary>The messages with a given opcode.</summary>
    public IReadOnlyList<FuseMessage> Messages(FuseOpcode op) => _log.Where(m => m.Opcode == op).ToList();

    /// <summary>
    /// Put one descriptor chain with ready-made inline bytes on queue <paramref name="queue"/>, kick the device and
    /// return the used element's bytes (copied once into a new array), or null when the device returned no reply.
    /// </summary>
    public byte[]? Submit(int queue, ReadOnlySpan<byte> inline, IReadOnlyList<PageDesc>? pages = null)
    {
        pages ??= [];
        if (!Usable(queue)) return null;
        var w = _queues[queue].Avail.Writer;
        var head = w.GetSpan(ChainHead);
        BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)ChainLength(inline.Length, pages.Count));
        BinaryPrimitives.WriteUInt32LittleEndian(head[4..], (uint)inline.Length);
        w.Advance(ChainHead);
        w.Write(inline);
        WriteDescriptors(w, pages);
        return Exchange(queue, Decode(queue, inline, 0, pages), out var element, out var reader) ? TakeArray(reader, element) : null;
    }

    /// <summary>
    /// virtio_fs_enqueue_req for a request the caller describes: fuse_in_header, argument bytes, inline data and
    /// data descriptors are written straight into the available ring (no intermediate buffer); the device is kicked
    /// and the used element (fuse_out_header + payload) is copied once into <paramref name="reply"/>. Returns the
    /// used element's length, or −1 when the device returned no complete used element for the chain.
    /// </summary>
    public int Submit(int queue, in FuseInHeader header, scoped ReadOnlySpan<byte> args, scoped ReadOnlySpan<byte> data,
        IReadOnlyList<PageDesc>? pages, IBufferWriter<byte> reply)
    {
        pages ??= [];
        if (!Usable(queue)) return -1;
        var w = _queues[queue].Avail.Writer;
        var inlineLen = FuseConst.InHeaderSize + args.Length + data.Length;
        var headLen = ChainHead + FuseConst.InHeaderSize + args.Length;
        var s = w.GetSpan(headLen)[..headLen];
        BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)ChainLength(inlineLen, pages.Count));
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], (uint)inlineLen);
        header.Write(s[ChainHead..]);
        args.CopyTo(s[(ChainHead + FuseConst.InHeaderSize)..]);
        var msg = Decode(queue, s[ChainHead..], data.Length, pages);
        w.Advance(headLen);
        w.Write(data);
        WriteDescriptors(w, pages);
        if (!Exchange(queue, msg, out var element, out var reader)) return -1;
        var len = (int)element.Length;
        foreach (var seg in element) reply.Write(seg.Span);
        reader.AdvanceTo(element.End); // the sequence's segments go back to the pool: not touched after this
        return len;
    }

    /// <summary>Put raw bytes on a queue's available pipe (malformed-chain tests) and kick; the used element or null.</summary>
    public byte[]? SubmitRawFrame(int queue, ReadOnlySpan<byte> frame)
    {
        if (!Usable(queue)) return null;
        _queues[queue].Avail.Writer.Write(frame);
        return Exchange(queue, null, out var element, out var reader) ? TakeArray(reader, element) : null;
    }

    /// <summary>The device reports a problem with the chain it is processing (shown in the log).</summary>
    public void ReportDeviceError(string error) => _lastDeviceError = error;

    private static int ChainLength(int inlineLen, int descs) => ChainHead + inlineLen + 2 + descs * DescSize;

    private bool Usable(int queue) => (uint)queue < (uint)_queues.Length && !_stalled[queue];

    private static void WriteDescriptors(PipeWriter w, IReadOnlyList<PageDesc> pages)
    {
        var len = 2 + pages.Count * DescSize;
        var s = w.GetSpan(len);
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)pages.Count);
        var p = 2;
        foreach (var d in pages)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(s[p..], d.Gpa);
            BinaryPrimitives.WriteUInt32LittleEndian(s[(p + 8)..], d.Len);
            BinaryPrimitives.WriteUInt32LittleEndian(s[(p + 12)..], d.DeviceWritable ? 1u : 0u);
            p += DescSize;
        }
        w.Advance(len);
    }

    /// <summary>
    /// Publish the chain (flush), kick the device, publish its used elements and peek at the first one. On true the
    /// caller copies <paramref name="element"/> and then advances <paramref name="reader"/> past it.
    /// </summary>
    private bool Exchange(int queue, FuseMessage? msg, out ReadOnlySequence<byte> element, out PipeReader reader)
    {
        var (avail, used) = _queues[queue];
        reader = used.Reader;
        element = default;
        if (msg != null) _log.Add(msg);
        _lastDeviceError = null;
        var ok = Flushed(queue, avail.Writer.FlushAsync());
        if (ok)
        {
            Device.Kick(queue, avail.Reader, used.Writer);
            ok = Flushed(queue, used.Writer.FlushAsync()) && TryPeekUsed(reader, out element);
        }
        if (msg != null)
        {
            msg.DeviceError = _lastDeviceError;
            if (ok)
            {
                msg.ReplyBytes = (int)element.Length;
                var r = new SequenceReader<byte>(element);
                msg.Error = FuseOutHeader.TryRead(ref r, out var oh) ? oh.Error : null;
            }
        }
        return ok;
    }

    /// <summary>
    /// With <see cref="Options"/> a flush cannot wait, and the simulation must never depend on thread timing. If a
    /// flush does not complete synchronously, or the other end has completed, that is a simulator error: the queue is
    /// marked stalled (no chain is put on it any more, every request on it gets no reply — the outcome of a device that
    /// stopped serving the queue) and the log says so. The pending task is never blocked on.
    /// </summary>
    private bool Flushed(int queue, ValueTask<FlushResult> flush)
    {
        if (flush.IsCompletedSuccessfully && flush.Result is { IsCompleted: false, IsCanceled: false }) return true;
        _stalled[queue] = true;
        _lastDeviceError = $"simulator error: virtqueue {QueueName(queue)} stalled (a flush did not complete synchronously)";
        return false;
    }

    /// <summary>
    /// The first used element (u32 len | len bytes), which may span segments. An element that has not wholly arrived
    /// stays in the ring — consumed up to its start, examined to the end — and the request has no reply yet.
    /// </summary>
    private static bool TryPeekUsed(PipeReader reader, out ReadOnlySequence<byte> element)
    {
        element = default;
        if (!reader.TryRead(out var result)) return false;
        var buf = result.Buffer;
        var r = new SequenceReader<byte>(buf);
        if (!r.TryReadLittleEndian(out int len) || (uint)len > r.Remaining)
        {
            reader.AdvanceTo(buf.Start, buf.End);
            return false;
        }
        element = buf.Slice(r.Position, len);
        return true;
    }

    private static byte[] TakeArray(PipeReader reader, in ReadOnlySequence<byte> element)
    {
        var a = new byte[element.Length];
        element.CopyTo(a);
        reader.AdvanceTo(element.End);
        return a;
    }

    /// <summary>Decode the log entry from the chain's inline bytes (header + args as written) and its descriptors.</summary>
    private FuseMessage Decode(int queue, ReadOnlySpan<byte> b, int dataLen, IReadOnlyList<PageDesc> pages)
    {
        FuseInHeader.TryRead(b, out var h);
        var a = b.Length > FuseConst.InHeaderSize ? b[FuseConst.InHeaderSize..] : [];
        ulong fh = 0, off = 0, size = 0, flags = 0, moff = 0;
        uint valid = 0, mode = 0, umask = 0;
        string? name = null;
        List<(ulong, ulong)>? rem = null;
        switch (h.Opcode)
        {
            case FuseOpcode.FUSE_SETUPMAPPING when a.Length >= FuseConst.SetupMappingInSize:
                fh = FuseWire.U64(a, 0); off = FuseWire.U64(a, 8); size = FuseWire.U64(a, 16); flags = FuseWire.U64(a, 24); moff = FuseWire.U64(a, 32);
                break;
            case FuseOpcode.FUSE_REMOVEMAPPING when a.Length >= 4:
                var count = FuseWire.U32(a, 0);
                rem = [];
                for (var i = 0; i < count && 4 + (i + 1) * 16 <= a.Length; i++) rem.Add((FuseWire.U64(a, 4 + i * 16), FuseWire.U64(a, 12 + i * 16)));
                break;
            case FuseOpcode.FUSE_READ or FuseOpcode.FUSE_WRITE when a.Length >= FuseConst.ReadInSize:
                fh = FuseWire.U64(a, 0); off = FuseWire.U64(a, 8); size = FuseWire.U32(a, 16); flags = FuseWire.U32(a, 20);
                break;
            case FuseOpcode.FUSE_SETATTR when a.Length >= FuseConst.SetattrInSize:
                valid = FuseWire.U32(a, 0); fh = FuseWire.U64(a, 8); size = FuseWire.U64(a, 16);
                break;
            case FuseOpcode.FUSE_RELEASE or FuseOpcode.FUSE_FLUSH or FuseOpcode.FUSE_FSYNC when a.Length >= 16:
                fh = FuseWire.U64(a, 0); flags = FuseWire.U32(a, 8);
                break;
            case FuseOpcode.FUSE_INIT when a.Length >= 16:
                flags = FuseWire.U32(a, 12) | (a.Length >= 20 ? (ulong)FuseWire.U32(a, 16) << 32 : 0);
                break;
            case FuseOpcode.FUSE_FORGET when a.Length >= 8:
                size = FuseWire.U64(a, 0);
                break;
            case FuseOpcode.FUSE_LOOKUP or FuseOpcode.FUSE_UNLINK:
                name = NameAt(a);
                break;
            case FuseOpcode.FUSE_CREATE when a.Length >= FuseConst.CreateInSize:
                flags = FuseWire.U32(a, 0); mode = FuseWire.U32(a, 4); umask = FuseWire.U32(a, 8); valid = FuseWire.U32(a, 12);
                name = NameAt(a[FuseConst.CreateInSize..]);
                break;
            case FuseOpcode.FUSE_MKNOD when a.Length >= FuseConst.MknodInSize:
                mode = FuseWire.U32(a, 0); size = FuseWire.U32(a, 4); umask = FuseWire.U32(a, 8);
                name = NameAt(a[FuseConst.MknodInSize..]);
                break;
        }
        return new FuseMessage
        {
            Seq = _log.Count,
            Queue = QueueName(queue),
            Opcode = h.Opcode,
            Unique = h.Unique,
            NodeId = h.NodeId,
            Len = h.Len,
            RequestBytes = b.Length + dataLen + SumReadable(pages),
            Fh = fh,
            Offset = off,
            Size = size,
            Flags = flags,
            MOffset = moff,
            Valid = valid,
            Mode = mode,
            Umask = umask,
            Name = name,
            Removals = rem ?? [],
            Pages = pages.Count == 0 ? [] : pages.ToArray(),
        };
    }

    private static string NameAt(ReadOnlySpan<byte> a)
    {
        var z = a.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(z >= 0 ? a[..z] : a);
    }

    private static int SumReadable(IReadOnlyList<PageDesc> pages)
    {
        var n = 0;
        foreach (var p in pages) if (!p.DeviceWritable) n += (int)p.Len;
        return n;
    }
}
