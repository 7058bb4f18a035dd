using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using KernelSim.Drivers.Virtiofs.Protocol;

namespace KernelSim.Drivers.Virtiofs.Transport;

/// <summary>
/// The virtio-fs virtqueues (fs/fuse/virtio_fs.c): index 0 = "hiprio" (FORGET only), 1 = "requests.0". Each queue
/// is a pair of System.IO.Pipelines pipes (available ring: driver → device; used ring: device → driver) pumped
/// synchronously — writing a chain, kicking the device and reading the used element all happen inside the call,
/// so a run is deterministic. A chain on the available pipe is framed as
/// <c>u32 frame_len | u32 inline_len | inline bytes (fuse_in_header + args [+ data]) | u16 n | n × (u64 gpa, u32 len, u32 writable)</c>;
/// a used element is <c>u32 len | bytes (fuse_out_header + args + data)</c>. Every request is logged, decoded
/// from its wire bytes.
/// </summary>
public sealed class VirtioFsTransport
{
    /// <summary>Index of the hiprio queue.</summary>
    public const int HiprioQueue = 0;
    /// <summary>Index of the first (only) request queue.</summary>
    public const int RequestQueue = 1;

    private static readonly PipeOptions Options = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0,
        readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);

    private readonly (Pipe Avail, Pipe Used)[] _queues = [(new Pipe(Options), new Pipe(Options)), (new Pipe(Options), new Pipe(Options))];
    private readonly List<FuseMessage> _log = [];

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
    /// Put one descriptor chain on queue <paramref name="queue"/>, kick the device and return the used element's
    /// bytes, or null when the device returned no reply for it.
    /// </summary>
    public byte[]? Submit(int queue, ReadOnlySpan<byte> inline, IReadOnlyList<PageDesc>? pages = null)
    {
        pages ??= [];
        var frameLen = 4 + 4 + inline.Length + 2 + pages.Count * 16;
        var frame = new byte[frameLen];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)frameLen);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), (uint)inline.Length);
        inline.CopyTo(frame.AsSpan(8));
        var p = 8 + inline.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(p), (ushort)pages.Count);
        p += 2;
        foreach (var d in pages)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(p), d.Gpa);
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(p + 8), d.Len);
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(p + 12), d.DeviceWritable ? 1u : 0u);
            p += 16;
        }
        return SubmitFrame(queue, frame, Decode(queue, inline, pages));
    }

    /// <summary>Put raw bytes on a queue's available pipe (malformed-chain tests) and kick; the used element or null.</summary>
    public byte[]? SubmitRawFrame(int queue, ReadOnlySpan<byte> frame) => SubmitFrame(queue, frame.ToArray(), null);

    private byte[]? SubmitFrame(int queue, byte[] frame, FuseMessage? msg)
    {
        if ((uint)queue >= (uint)_queues.Length) return null;
        var (avail, used) = _queues[queue];
        if (msg != null) _log.Add(msg);
        _lastDeviceError = null;
        avail.Writer.Write(frame);
        Complete(avail.Writer.FlushAsync());
        Device.Kick(queue, avail.Reader, used.Writer);
        Complete(used.Writer.FlushAsync());
        var reply = ReadUsed(used.Reader);
        if (msg != null)
        {
            msg.DeviceError = _lastDeviceError;
            if (reply != null)
            {
                msg.ReplyBytes = reply.Length;
                msg.Error = FuseOutHeader.TryRead(reply, out var oh) ? oh.Error : null;
            }
        }
        return reply;
    }

    private string? _lastDeviceError;

    /// <summary>The device reports a problem with the chain it is processing (shown in the log).</summary>
    public void ReportDeviceError(string error) => _lastDeviceError = error;

    private static void Complete(ValueTask<FlushResult> t)
    {
        // With pauseWriterThreshold 0 and inline schedulers a flush never waits.
        if (!t.IsCompleted) throw new InvalidOperationException("simulator bug: a virtqueue flush did not complete synchronously");
        t.GetAwaiter().GetResult();
    }

    private static byte[]? ReadUsed(PipeReader reader)
    {
        if (!reader.TryRead(out var result)) return null;
        var buf = result.Buffer;
        if (buf.Length < 4)
        {
            reader.AdvanceTo(buf.Start, buf.End);
            return null;
        }
        Span<byte> lenBytes = stackalloc byte[4];
        buf.Slice(0, 4).CopyTo(lenBytes);
        var len = BinaryPrimitives.ReadUInt32LittleEndian(lenBytes);
        if (buf.Length < 4 + len)
        {
            reader.AdvanceTo(buf.Start, buf.End);
            return null;
        }
        var data = buf.Slice(4, len).ToArray();
        reader.AdvanceTo(buf.GetPosition(4 + len));
        return data;
    }

    private FuseMessage Decode(int queue, ReadOnlySpan<byte> b, IReadOnlyList<PageDesc> pages)
    {
        FuseInHeader.TryRead(b, out var h);
        var a = b.Length > FuseConst.InHeaderSize ? b[FuseConst.InHeaderSize..] : [];
        ulong fh = 0, off = 0, size = 0, flags = 0, moff = 0;
        uint valid = 0;
        string? name = null;
        List<(ulong, ulong)> rem = [];
        switch (h.Opcode)
        {
            case FuseOpcode.FUSE_SETUPMAPPING when a.Length >= FuseConst.SetupMappingInSize:
                fh = FuseWire.U64(a, 0); off = FuseWire.U64(a, 8); size = FuseWire.U64(a, 16); flags = FuseWire.U64(a, 24); moff = FuseWire.U64(a, 32);
                break;
            case FuseOpcode.FUSE_REMOVEMAPPING when a.Length >= 4:
                var count = FuseWire.U32(a, 0);
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
            case FuseOpcode.FUSE_LOOKUP:
                var z = a.IndexOf((byte)0);
                name = System.Text.Encoding.UTF8.GetString(z >= 0 ? a[..z] : a);
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
            RequestBytes = b.Length + SumReadable(pages),
            Fh = fh,
            Offset = off,
            Size = size,
            Flags = flags,
            MOffset = moff,
            Valid = valid,
            Name = name,
            Removals = rem,
            Pages = pages.ToArray(),
        };
    }

    private static int SumReadable(IReadOnlyList<PageDesc> pages)
    {
        var n = 0;
        foreach (var p in pages) if (!p.DeviceWritable) n += (int)p.Len;
        return n;
    }
}
