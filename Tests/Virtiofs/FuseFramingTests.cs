using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using FsCheck;
using FsCheck.Fluent;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Tests.Virtiofs;

/// <summary>
/// The virtqueue pipes as Pipelines: frames split across segments, frames that have not wholly arrived
/// (consumed at their start, examined to the end), and malformed replies giving the FUSE outcome.
/// </summary>
public class FuseFramingTests
{
    private static readonly PipeOptions Inline = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);

    private static VirtioFsShare Share()
    {
        var s = VirtioFs.Create(new MachineBuilder().AddVirtioFs().Build(), new VirtioFsOptions());
        s.Host.CreateFile("F", 8192, nodeId: 5);
        return s;
    }

    private static byte[] Request(FuseOpcode op, ulong unique, ulong nodeid, byte[] args, uint? len = null)
    {
        var b = new byte[40 + args.Length];
        new FuseInHeader(len ?? (uint)b.Length, op, unique, nodeid, 0, 0, 0, 0).Write(b);
        args.CopyTo(b, 40);
        return b;
    }

    /// <summary>An available-ring chain without data descriptors: frame_len | inline_len | inline | u16 0.</summary>
    private static byte[] Chain(byte[] inline)
    {
        var b = new byte[8 + inline.Length + 2];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)b.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (uint)inline.Length);
        inline.CopyTo(b, 8);
        return b;
    }

    /// <summary>A used element: u32 len | body.</summary>
    private static byte[] Used(byte[] body)
    {
        var b = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)body.Length);
        body.CopyTo(b, 4);
        return b;
    }

    /// <summary>Write <paramref name="bytes"/> so that the pipe's memory splits after <paramref name="at"/> bytes.</summary>
    private static void WriteSplit(PipeWriter w, ReadOnlySpan<byte> bytes, int at)
    {
        var first = w.GetSpan();
        var cap = first.Length;
        bytes[..at].CopyTo(first);
        w.Advance(at);
        w.GetSpan(cap); // more than the segment has left: the rest goes to a new segment
        w.Write(bytes[at..]);
    }

    private static void Flush(PipeWriter w) => Assert.That(w.FlushAsync().IsCompletedSuccessfully, Is.True);

    /// <summary>Every whole used element in the pipe (bodies), consuming them.</summary>
    private static List<byte[]> Elements(PipeReader r)
    {
        var list = new List<byte[]>();
        if (!r.TryRead(out var res)) return list;
        var sr = new SequenceReader<byte>(res.Buffer);
        while (sr.TryReadLittleEndian(out int len) && len <= sr.Remaining)
        {
            list.Add(res.Buffer.Slice(sr.Position, len).ToArray());
            sr.Advance(len);
        }
        r.AdvanceTo(sr.Position, res.Buffer.End);
        return list;
    }

    private static FuseOutHeader Out(byte[] body)
    {
        Assert.That(FuseOutHeader.TryRead(body, out var h), Is.True);
        return h;
    }

    [Test]
    public void InLenSmallerThanHeader_Einval()
    {
        var s = Share();
        var reply = s.Transport.Submit(VirtioFsTransport.RequestQueue, Request(FuseOpcode.FUSE_GETATTR, 2, 5, new byte[16], len: 20));
        Assert.That(Out(reply!), Is.EqualTo(new FuseOutHeader(16, -Errno.EINVAL, 2)));
        Assert.That(s.Daemon.DaemonLog.Single(), Is.EqualTo("FUSE_GETATTR: in.h.len 20 but the chain carries 56 bytes"));
    }

    [Test]
    public void ShortHeaderCarryingUnique_EinvalForThatUnique()
    {
        var s = Share();
        var req = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(req.AsSpan(8), 6);
        Assert.That(Out(s.Transport.Submit(1, req)!), Is.EqualTo(new FuseOutHeader(16, -Errno.EINVAL, 6)));
        Assert.That(s.Log.Single().ReplyBytes, Is.EqualTo(16));
    }

    [Test]
    public void RequestSplitInsideTheInHeader_DaemonAnswers()
    {
        var s = Share();
        var (avail, used) = (new Pipe(Inline), new Pipe(Inline));
        // Chain bytes 8..48 are fuse_in_header; 30 cuts its nodeid (16..24 of the header) in two.
        WriteSplit(avail.Writer, Chain(Request(FuseOpcode.FUSE_GETATTR, 2, 5, new byte[16])), at: 30);
        Flush(avail.Writer);
        Assert.That(avail.Reader.TryRead(out var peek), Is.True);
        Assert.That((peek.Buffer.IsSingleSegment, peek.Buffer.First.Length, peek.Buffer.Length), Is.EqualTo((false, 30, 66L)));
        avail.Reader.AdvanceTo(peek.Buffer.Start);

        s.Daemon.Kick(VirtioFsTransport.RequestQueue, avail.Reader, used.Writer);
        Flush(used.Writer);

        var e = Elements(used.Reader).Single();
        Assert.That(Out(e), Is.EqualTo(new FuseOutHeader(16 + 104, 0, 2)));
        Assert.That(FuseAttr.Read(e.AsSpan(16 + 16)), Is.EqualTo(new FuseAttr(5, 8192, 16, Fcntl.S_IFREG | 0x1a4, 1, 4096, FuseConst.FUSE_ATTR_DAX)));
        Assert.That(avail.Reader.TryRead(out _), Is.False, "the chain was consumed");
    }

    [Test]
    public void WriteDataSplitAcrossSegments_HostFileGetsEveryByte_TailUntouched()
    {
        var s = Share();
        var fh = BinaryPrimitives.ReadUInt64LittleEndian(s.Transport.Submit(1, Request(FuseOpcode.FUSE_OPEN, 2, 5, new byte[8]))!.AsSpan(16));
        var data = Enumerable.Range(0, 100).Select(i => (byte)(0xa0 ^ i)).ToArray();
        var req = Request(FuseOpcode.FUSE_WRITE, 4, 5, [.. FuseWire.ReadWriteIn(new byte[FuseConst.ReadInSize], fh, 1000, 100, 0, 0), .. data]);
        var (avail, used) = (new Pipe(Inline), new Pipe(Inline));
        WriteSplit(avail.Writer, Chain(req), at: 8 + 40 + 40 + 37);
        Flush(avail.Writer);
        s.Daemon.Kick(VirtioFsTransport.RequestQueue, avail.Reader, used.Writer);
        Flush(used.Writer);

        var e = Elements(used.Reader).Single();
        Assert.That(Out(e), Is.EqualTo(new FuseOutHeader(16 + 8, 0, 4)));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(e.AsSpan(16)), Is.EqualTo(100u), "fuse_write_out.size");
        var file = s.Host["F"]!.ReadAll();
        Assert.That(file[1000..1100], Is.EqualTo(data));
        Assert.That(file[1100], Is.EqualTo(KernelSim.Drivers.Virtiofs.Host.HostShare.Pattern(1100)), "the byte after the write is untouched");
        Assert.That(file[999], Is.EqualTo(KernelSim.Drivers.Virtiofs.Host.HostShare.Pattern(999)));
    }

    [Test]
    public void FrameLengthWordNotWhole_StaysInTheRing_ChainAnsweredOnceItArrives()
    {
        var s = Share();
        var (avail, used) = (new Pipe(Inline), new Pipe(Inline));
        var second = Chain(Request(FuseOpcode.FUSE_GETATTR, 4, 5, new byte[16]));
        avail.Writer.Write(Chain(Request(FuseOpcode.FUSE_GETATTR, 2, 5, new byte[16])));
        avail.Writer.Write(second.AsSpan(0, 2));
        Flush(avail.Writer);
        s.Daemon.Kick(1, avail.Reader, used.Writer);
        Flush(used.Writer);
        Assert.That(Elements(used.Reader).Select(e => Out(e).Unique), Is.EqualTo(new[] { 2UL }), "no reply for the partial frame");
        Assert.That(avail.Reader.TryRead(out _), Is.False, "its two bytes were examined: nothing new to read");

        avail.Writer.Write(second.AsSpan(2));
        Flush(avail.Writer);
        s.Daemon.Kick(1, avail.Reader, used.Writer);
        Flush(used.Writer);
        Assert.That(Elements(used.Reader).Select(e => Out(e)), Is.EqualTo(new[] { new FuseOutHeader(120, 0, 4) }));
        Assert.That(s.Daemon.DaemonLog, Is.Empty);
    }

    /// <summary>A device that answers every chain with a fixed used element, delivered in two parts over two kicks.</summary>
    private sealed class Dribble(byte[] used, int first) : IVirtioFsDevice
    {
        private int _kicks;

        public void Kick(int queue, PipeReader avail, PipeWriter w)
        {
            if (avail.TryRead(out var r)) avail.AdvanceTo(r.Buffer.End);
            w.Write(_kicks++ == 0 ? used.AsSpan(0, first) : used.AsSpan(first));
        }
    }

    [Test]
    public void UsedElementNotWhole_NoReplyYet_TheBytesStayUntilTheRestArrives()
    {
        var body = new byte[16 + 8];
        new FuseOutHeader(24, 0, 2).Write(body);
        body.AsSpan(16).Fill(0x5a);
        var t = new VirtioFsTransport(new Dribble(Used(body), first: 10));
        Assert.That(t.Submit(1, Request(FuseOpcode.FUSE_GETATTR, 2, 5, new byte[16])), Is.Null, "10 of 28 bytes: no reply yet");
        Assert.That((t.Log[0].Error, t.Log[0].ReplyBytes), Is.EqualTo(((int?)null, 0)));
        Assert.That(t.Submit(1, Request(FuseOpcode.FUSE_GETATTR, 4, 5, new byte[16])), Is.EqualTo(body),
            "the first 10 bytes were kept (consumed at the element's start) and completed by the next 18");
        Assert.That((t.Log[1].Error, t.Log[1].ReplyBytes), Is.EqualTo(((int?)0, 24)));
    }

    /// <summary>
    /// Between the transport and the real daemon: forwards each kick, then writes the daemon's used elements back,
    /// optionally rewritten for one opcode and split across two segments after <c>splitAt</c> bytes.
    /// </summary>
    private sealed class Relay(IVirtioFsDevice real, FuseOpcode target = 0, Func<byte[], byte[]>? rewrite = null, int splitAt = 0) : IVirtioFsDevice
    {
        private readonly Pipe _tmp = new(Inline);

        public void Kick(int queue, PipeReader avail, PipeWriter used)
        {
            var op = (FuseOpcode)0;
            if (avail.TryRead(out var peek))
            {
                if (peek.Buffer.Length >= 16) op = (FuseOpcode)BinaryPrimitives.ReadUInt32LittleEndian(peek.Buffer.Slice(12, 4).ToArray());
                avail.AdvanceTo(peek.Buffer.Start);
            }
            real.Kick(queue, avail, _tmp.Writer);
            Flush(_tmp.Writer);
            foreach (var e in Elements(_tmp.Reader))
            {
                var bytes = op == target && rewrite != null ? rewrite(e) : Used(e);
                if (splitAt > 0 && splitAt < bytes.Length) WriteSplit(used, bytes, splitAt);
                else used.Write(bytes);
            }
        }
    }

    [Test]
    public void RepliesSplitInsideTheOutHeader_GuestParsesEveryReply_ReadDataExact()
    {
        var s = VfsScenario.Boot(o =>
        {
            o.Dax = DaxMountMode.Never;
            o.DeviceInterceptor = d => new Relay(d, splitAt: 4 + 10); // cuts out.h.unique
        });
        Assert.That(s.Fd, Is.EqualTo(0), "INIT, LOOKUP and OPEN replies all parsed");
        s.Share.Transport.ClearLog();
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 8192, 4096), Is.EqualTo(8192));
        Assert.That(s.P.Peek(s.Buf, 8192), Is.EqualTo(VfsScenario.Expected(4096, 8192)));
        Assert.That(s.P.Peek(s.Buf + 8192UL, 8192), Is.All.EqualTo((byte?)0xee), "nothing past the read");
        var read = s.Log.Single(x => x.Opcode == FuseOpcode.FUSE_READ);
        Assert.That((read.Size, read.ReplyBytes, read.Error), Is.EqualTo((8192UL, 16 + 8192, (int?)0)));
    }

    public enum BadReply { ShortElement, OutLenBelowHeader, OutLenBeyondElement, ErrorPositive, ErrorBelowMinus511, OtherUnique }

    private static byte[] Corrupt(BadReply bad, byte[] e)
    {
        var b = (byte[])e.Clone();
        switch (bad)
        {
            case BadReply.ShortElement: return Used(e[..8]);
            case BadReply.OutLenBelowHeader: BinaryPrimitives.WriteUInt32LittleEndian(b, 8); break;
            case BadReply.OutLenBeyondElement: BinaryPrimitives.WriteUInt32LittleEndian(b, 1000); break;
            case BadReply.ErrorPositive: BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), 5); break;
            case BadReply.ErrorBelowMinus511: BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), -600); break;
            case BadReply.OtherUnique: BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 12345); break;
        }
        return Used(b);
    }

    // virtio_fs trusts the reply (no checks in its completion path): a short element or a payload cut below
    // fuse_entry_out fails the lookup with −EIO, anything else passes through. StrictReplies applies
    // fuse_dev_do_write's checks and fails the request with −EIO. fd 0 = the open succeeded.
    [TestCase(BadReply.ShortElement, false, -Errno.EIO)]
    [TestCase(BadReply.ShortElement, true, -Errno.EIO)]
    [TestCase(BadReply.OutLenBelowHeader, false, -Errno.EIO)]
    [TestCase(BadReply.OutLenBelowHeader, true, -Errno.EIO)]
    [TestCase(BadReply.OutLenBeyondElement, false, 0)]
    [TestCase(BadReply.OutLenBeyondElement, true, -Errno.EIO)]
    [TestCase(BadReply.ErrorPositive, false, 0)]
    [TestCase(BadReply.ErrorPositive, true, -Errno.EIO)]
    [TestCase(BadReply.ErrorBelowMinus511, false, -600)]
    [TestCase(BadReply.ErrorBelowMinus511, true, -Errno.EIO)]
    [TestCase(BadReply.OtherUnique, false, 0)]
    [TestCase(BadReply.OtherUnique, true, -Errno.EIO)]
    public void MalformedLookupReply_FuseOutcome_NeverAnException(BadReply bad, bool strict, int openResult)
    {
        var s = VfsScenario.Boot(o =>
        {
            o.StrictReplies = strict;
            o.DeviceInterceptor = d => new Relay(d, FuseOpcode.FUSE_LOOKUP, e => Corrupt(bad, e), splitAt: 4 + 6);
        });
        Assert.That(s.Fd, Is.EqualTo(openResult));
        Assert.That(s.M.State.Dmesg.Any(l => l.Contains("fuse: bad reply to FUSE_LOOKUP")), Is.EqualTo(strict && bad != BadReply.ShortElement));
        var lookup = s.Log.Single(x => x.Opcode == FuseOpcode.FUSE_LOOKUP);
        Assert.That(lookup.ReplyBytes, Is.EqualTo(bad == BadReply.ShortElement ? 8 : 16 + 128));
    }

    [FsCheck.NUnit.Property(MaxTest = 100)]
    public Property AnyRequestSplitAnywhere_SameReplyAsUnsplit() => Prop.ForAll((byte[] args, int op, int cut) =>
    {
        var chain = Chain(Request((FuseOpcode)(uint)(op & 63), 2, 5, args ?? []));
        var at = 1 + (int)((uint)cut % (uint)(chain.Length - 1));
        List<byte[]> Run(bool split)
        {
            var s = Share();
            var (avail, used) = (new Pipe(Inline), new Pipe(Inline));
            if (split) WriteSplit(avail.Writer, chain, at);
            else avail.Writer.Write(chain);
            Flush(avail.Writer);
            s.Daemon.Kick(1, avail.Reader, used.Writer);
            Flush(used.Writer);
            return Elements(used.Reader);
        }
        var whole = Run(false);
        var parts = Run(true);
        return whole.Count == parts.Count && whole.Zip(parts).All(p => p.First.AsSpan().SequenceEqual(p.Second));
    });
}
