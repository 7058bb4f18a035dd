using System.Buffers;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// struct fuse_conn plus the request machinery of fs/fuse/dev.c and virtio_fs.c: unique ids (even, step 2),
/// fuse_simple_request over the request queue, FORGET on hiprio, and the INIT negotiation (process_init_reply).
/// </summary>
public sealed class FuseConn
{
    private ulong _reqctr;

    internal FuseConn(Machine machine, VirtioFsTransport transport, bool strictReplies)
    {
        Machine = machine;
        Transport = transport;
        StrictReplies = strictReplies;
    }

    /// <summary>The machine.</summary>
    public Machine Machine { get; }

    /// <summary>The virtqueues.</summary>
    public VirtioFsTransport Transport { get; }

    /// <summary>
    /// Check replies the way the /dev/fuse path does (fuse_dev_do_write: len must match, error in −511…0, unique
    /// must match). Off by default: the virtio-fs completion path does not validate (TODO in virtio_fs.c).
    /// </summary>
    public bool StrictReplies { get; }

    /// <summary>fc-&gt;conn_init: INIT was answered.</summary>
    public bool ConnInit { get; internal set; }

    /// <summary>fc-&gt;conn_error: INIT failed; requests fail with −ECONNREFUSED.</summary>
    public bool ConnError { get; internal set; }

    /// <summary>fc-&gt;connected: false after unmount / abort (requests fail with −ENOTCONN).</summary>
    public bool Connected { get; internal set; } = true;

    /// <summary>Negotiated minor version.</summary>
    public uint Minor { get; internal set; }

    /// <summary>fc-&gt;inode_dax: the server acknowledged FUSE_HAS_INODE_DAX.</summary>
    public bool InodeDax { get; internal set; }

    /// <summary>fc-&gt;no_create: the server answered FUSE_CREATE with −ENOSYS, so files are made with FUSE_MKNOD.</summary>
    public bool NoCreate { get; internal set; }

    /// <summary>init_out.max_write.</summary>
    public uint MaxWrite { get; internal set; } = 4096;

    /// <summary>fc-&gt;max_pages.</summary>
    public uint MaxPages { get; internal set; } = 32;

    /// <summary>init_out.map_alignment as received.</summary>
    public ushort MapAlignment { get; internal set; }

    /// <summary>out.h.len of the last reply (sizes data the device wrote into descriptor pages).</summary>
    internal uint LastReplyLen { get; private set; }

    /// <summary>fuse_get_unique: the next request id (2, 4, 6, …).</summary>
    internal ulong NextUnique() => _reqctr += FuseConst.ReqIdStep;

    /// <summary>
    /// req-&gt;argbuf: the used element of the last request (fuse_out_header + payload), copied once out of the used
    /// ring and reused by every request (it only grows). Payloads handed out by <see cref="Request(FuseOpcode, ulong, ReadOnlySpan{byte}, out ReadOnlySpan{byte}, IReadOnlyList{PageDesc}?)"/>
    /// point into it and are valid until the next request.
    /// </summary>
    private readonly ArrayBufferWriter<byte> _argbuf = new(FuseConst.OutHeaderSize + FuseConst.EntryOutSize);

    /// <summary>fuse_simple_request with the in args only (see the overload with data).</summary>
    internal int Request(FuseOpcode op, ulong nodeid, scoped ReadOnlySpan<byte> args, out ReadOnlySpan<byte> payload, IReadOnlyList<PageDesc>? pages = null) =>
        Request(op, nodeid, args, default, out payload, pages);

    /// <summary>
    /// fuse_simple_request: send one request (argument struct, then inline data) and wait for the answer. Returns
    /// out.h.error (0 or −errno) and the reply payload (what follows the out header, sized by out.h.len as virtio_fs
    /// does; valid until the next request). A request the device never answers leaves the caller waiting forever
    /// (reported as a livelock outcome).
    /// </summary>
    internal int Request(FuseOpcode op, ulong nodeid, scoped ReadOnlySpan<byte> args, scoped ReadOnlySpan<byte> data, out ReadOnlySpan<byte> payload, IReadOnlyList<PageDesc>? pages = null)
    {
        payload = default;
        if (!Connected) return -Errno.ENOTCONN;
        if (ConnError && op != FuseOpcode.FUSE_INIT) return -Errno.ECONNREFUSED;
        var unique = NextUnique();
        _argbuf.ResetWrittenCount();
        if (Transport.Submit(VirtioFsTransport.RequestQueue, Header(op, nodeid, unique, args.Length + data.Length, pages), args, data, pages, _argbuf) < 0)
            throw HungTask.Blocked($"request_wait_answer: {op} (unique {unique}) is never answered by the device");
        var reply = _argbuf.WrittenSpan;
        if (!FuseOutHeader.TryRead(reply, out var oh)) return -Errno.EIO; // [model] a used element shorter than the out header
        LastReplyLen = oh.Len;
        if (StrictReplies)
        {
            if (oh.Len != reply.Length || oh.Error > 0 || oh.Error <= -512 || oh.Unique != unique)
            {
                Machine.State.Printk($"fuse: bad reply to {op}: len {oh.Len}/{reply.Length} error {oh.Error} unique {oh.Unique}/{unique}");
                return -Errno.EIO;
            }
        }
        var len = (int)Math.Clamp(oh.Len, (uint)FuseConst.OutHeaderSize, (uint)reply.Length);
        payload = reply[FuseConst.OutHeaderSize..len];
        return oh.Error;
    }

    /// <summary>fuse_queue_forget: FUSE_FORGET on the hiprio queue, no reply.</summary>
    internal void Forget(ulong nodeid, ulong nlookup)
    {
        if (!Connected) return;
        var unique = NextUnique();
        Span<byte> arg = stackalloc byte[FuseConst.ForgetInSize];
        FuseWire.ForgetIn(arg, nlookup);
        _argbuf.ResetWrittenCount();
        Transport.Submit(VirtioFsTransport.HiprioQueue, Header(FuseOpcode.FUSE_FORGET, nodeid, unique, arg.Length, null), arg, default, null, _argbuf);
    }

    /// <summary>The fuse_in_header the kernel fills: len covers the in args and the data the device reads from pages.</summary>
    private FuseInHeader Header(FuseOpcode op, ulong nodeid, ulong unique, int inlineArgs, IReadOnlyList<PageDesc>? pages)
    {
        var extra = 0u;
        if (pages != null) foreach (var p in pages) if (!p.DeviceWritable) extra += p.Len;
        var pid = (uint)(Machine.Scheduler.Current?.Pid ?? 0);
        return new FuseInHeader((uint)(FuseConst.InHeaderSize + inlineArgs) + extra, op, unique, nodeid, 0, 0, pid, 0);
    }
}
