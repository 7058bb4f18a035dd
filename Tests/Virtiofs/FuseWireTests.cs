using System.Buffers.Binary;
using System.IO.Pipelines;
using FsCheck;
using FsCheck.Fluent;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Kernel;
using KernelSim.Uapi;
using Moq;

namespace KernelSim.Tests.Virtiofs;

/// <summary>Wire layouts, malformed and truncated requests, and the daemon's view of a guest read.</summary>
public class FuseWireTests
{
    private static VirtioFsShare Share(out Machine m)
    {
        m = new MachineBuilder().AddVirtioFs().Build();
        var s = VirtioFs.Create(m, new VirtioFsOptions());
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

    private static FuseOutHeader Out(byte[]? reply)
    {
        Assert.That(reply, Is.Not.Null);
        Assert.That(FuseOutHeader.TryRead(reply!, out var h), Is.True);
        return h;
    }

    [Test]
    public void Headers_HaveKernelSizesAndLittleEndianLayout()
    {
        var b = new byte[40];
        new FuseInHeader(80, FuseOpcode.FUSE_SETUPMAPPING, 0x1122334455667788, 5, 1, 2, 3, 0).Write(b);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4)), Is.EqualTo(48u));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8)), Is.EqualTo(0x1122334455667788UL));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(16)), Is.EqualTo(5UL));
        var o = new byte[16];
        new FuseOutHeader(16, -22, 8).Write(o);
        Assert.That(o, Is.EqualTo(new byte[] { 16, 0, 0, 0, 0xea, 0xff, 0xff, 0xff, 8, 0, 0, 0, 0, 0, 0, 0 }));
        Assert.That(((uint)FuseOpcode.FUSE_SETUPMAPPING, (uint)FuseOpcode.FUSE_REMOVEMAPPING, (uint)FuseOpcode.FUSE_FORGET), Is.EqualTo((48u, 49u, 2u)));
        Assert.That(FuseWire.SetupMappingIn(new byte[256], 1, 2, 3, 4, 5).Length, Is.EqualTo(40));
        Assert.That(FuseWire.SetattrIn(new byte[256], 8, 0, 0).Length, Is.EqualTo(88));
        Assert.That(FuseWire.EntryOut(new byte[256], 5, 1, 1, default).Length, Is.EqualTo(128));
        Assert.That(FuseWire.AttrOut(new byte[256], 1, default).Length, Is.EqualTo(104));
    }

    [Test]
    public void ShortHeader_Einval()
    {
        var s = Share(out _);
        var h = Out(s.Transport.Submit(VirtioFsTransport.RequestQueue, new byte[20]));
        Assert.That(h, Is.EqualTo(new FuseOutHeader(16, -Errno.EINVAL, 0)));
    }

    [Test]
    public void InLenDisagreesWithChain_Einval()
    {
        var s = Share(out _);
        var h = Out(s.Transport.Submit(VirtioFsTransport.RequestQueue, Request(FuseOpcode.FUSE_GETATTR, 2, 5, new byte[16], len: 200)));
        Assert.That((h.Error, h.Unique, h.Len), Is.EqualTo((-Errno.EINVAL, 2UL, 16u)));
    }

    [Test]
    public void UnknownOpcode_Enosys()
    {
        var s = Share(out _);
        Assert.That(Out(s.Transport.Submit(1, Request((FuseOpcode)9999, 4, 5, []))).Error, Is.EqualTo(-Errno.ENOSYS));
    }

    [Test]
    public void TruncatedSetupMappingArgs_Einval_NoMappingMade()
    {
        var s = Share(out _);
        Assert.That(Out(s.Transport.Submit(1, Request(FuseOpcode.FUSE_SETUPMAPPING, 6, 5, new byte[20]))).Error, Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.Vmm!.Mappings, Is.Empty);
        Assert.That(s.Daemon.DaemonLog.Single(), Does.Contain("20 argument bytes, need 40"));
    }

    [Test]
    public void SetupMappingBeyondWindow_Einval_BeyondEofAccepted()
    {
        var s = Share(out _);
        var beyondWindow = FuseWire.SetupMappingIn(new byte[FuseConst.SetupMappingInSize], ulong.MaxValue, 0, 2 << 20, 2, (1UL << 30) - 4096).ToArray();
        Assert.That(Out(s.Transport.Submit(1, Request(FuseOpcode.FUSE_SETUPMAPPING, 6, 5, beyondWindow))).Error, Is.EqualTo(-Errno.EINVAL));
        var beyondEof = FuseWire.SetupMappingIn(new byte[FuseConst.SetupMappingInSize], ulong.MaxValue, 64 << 20, 2 << 20, 3, 0).ToArray();
        Assert.That(Out(s.Transport.Submit(1, Request(FuseOpcode.FUSE_SETUPMAPPING, 8, 5, beyondEof))).Error, Is.Zero, "no size check");
    }

    [TestCase(300u, 300, -Errno.EINVAL)]
    [TestCase(2u, 1, -Errno.EINVAL)]
    [TestCase(1u, 1, 0)]
    public void RemoveMapping_CountChecks(uint count, int entries, int error)
    {
        var s = Share(out _);
        var args = new byte[4 + entries * 16];
        BinaryPrimitives.WriteUInt32LittleEndian(args, count);
        for (var i = 0; i < entries; i++) BinaryPrimitives.WriteUInt64LittleEndian(args.AsSpan(12 + i * 16), 4096);
        Assert.That(Out(s.Transport.Submit(1, Request(FuseOpcode.FUSE_REMOVEMAPPING, 10, 5, args))).Error, Is.EqualTo(error));
    }

    [Test]
    public void OversizedRequest_Enomem()
    {
        var s = Share(out _);
        Assert.That(Out(s.Transport.Submit(1, Request(FuseOpcode.FUSE_WRITE, 2, 5, new byte[(1 << 20) + 8192]))).Error, Is.EqualTo(-Errno.ENOMEM));
    }

    [Test]
    public void NonForgetOnHiprio_Einval_ForgetGetsNoReply()
    {
        var s = Share(out _);
        Assert.That(Out(s.Transport.Submit(VirtioFsTransport.HiprioQueue, Request(FuseOpcode.FUSE_GETATTR, 2, 5, new byte[16]))).Error, Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.Transport.Submit(VirtioFsTransport.HiprioQueue, Request(FuseOpcode.FUSE_FORGET, 4, 5, FuseWire.ForgetIn(new byte[FuseConst.ForgetInSize], 3).ToArray())), Is.Null);
        Assert.That(s.Daemon.Forgotten, Is.EqualTo(3UL));
    }

    [Test]
    public void BadChainFraming_DroppedWithoutReply_DaemonKeepsServing()
    {
        var s = Share(out _);
        var frame = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, 4000);
        Assert.That(s.Transport.SubmitRawFrame(1, frame), Is.Null);
        Assert.That(s.Daemon.DaemonLog.Single(), Does.Contain("bad chain length 4000"));
        Assert.That(Out(s.Transport.Submit(1, Request((FuseOpcode)9999, 2, 5, []))).Error, Is.EqualTo(-Errno.ENOSYS));
    }

    [FsCheck.NUnit.Property(MaxTest = 300)]
    public Property RandomRequestsAndFrames_NeverThrow_AlwaysValidReplyHeader() => Prop.ForAll((byte[] junk, int op, bool raw) =>
    {
        var s = Share(out _);
        byte[]? reply;
        if (raw) reply = s.Transport.SubmitRawFrame(1, junk ?? []);
        else
        {
            var req = junk is { Length: >= 40 } ? junk : Request((FuseOpcode)(uint)(op & 63), 2, 5, junk ?? []);
            reply = s.Transport.Submit(1, req);
        }
        return reply == null || (FuseOutHeader.TryRead(reply, out var h) && h.Error <= 0 && h.Error > -512);
    });

    [Test]
    public void GuestRead_DaemonSeesTwoSetupMappingKicks_OnRequestQueue()
    {
        var kicks = new List<int>();
        var m = new MachineBuilder().AddVirtioFs().Build();
        var mock = new Mock<IVirtioFsDevice>(MockBehavior.Strict);
        IVirtioFsDevice? real = null;
        mock.Setup(d => d.Kick(It.IsAny<int>(), It.IsAny<PipeReader>(), It.IsAny<PipeWriter>()))
            .Callback<int, PipeReader, PipeWriter>((q, r, w) =>
            {
                kicks.Add(q);
                real!.Kick(q, r, w);
            });
        var share = VirtioFs.Create(m, new VirtioFsOptions
        {
            DeviceInterceptor = d =>
            {
                real = d;
                return mock.Object;
            },
        });
        share.Host.CreateFile("F", 4 << 20, nodeId: 5);
        Assert.That(share.Mount(), Is.Zero);
        var p = m.Spawn();
        var fd = (int)p.Open(share.PathOf("F"), Fcntl.O_RDONLY);
        var buf = p.MapAnonymous(8192);
        kicks.Clear();
        mock.Invocations.Clear();
        Assert.That(p.Pread64(fd, buf, 8192, (2 << 20) - 4096), Is.EqualTo(8192));
        mock.Verify(d => d.Kick(VirtioFsTransport.RequestQueue, It.IsAny<PipeReader>(), It.IsAny<PipeWriter>()), Times.Exactly(2));
        Assert.That(kicks, Is.EqualTo(new[] { 1, 1 }));
        Assert.That(share.Log.TakeLast(2).Select(x => x.Opcode), Is.All.EqualTo(FuseOpcode.FUSE_SETUPMAPPING));
    }

    [Test]
    public void Unmount_RemoveMappingBatched_ForgetOnHiprio_Destroy()
    {
        var s = VfsScenario.Boot();
        s.P.Pread64(s.Fd, s.Buf, 8192, 2 * VfsScenario.MiB - 4096);
        s.Share.Transport.ClearLog();
        s.Share.Unmount();
        Assert.That(s.Log.Select(x => (x.Queue, x.Opcode)), Is.EqualTo(new[]
        {
            ("requests.0", FuseOpcode.FUSE_REMOVEMAPPING), ("hiprio", FuseOpcode.FUSE_FORGET), ("requests.0", FuseOpcode.FUSE_DESTROY),
        }));
        Assert.That(s.Log[0].Removals, Is.EqualTo(new[] { (0UL, 2UL << 20), (2UL << 20, 2UL << 20) }));
        Assert.That((s.Log[1].Size, s.Log[1].Len, s.Log[1].Error), Is.EqualTo((1UL, 48u, (int?)null)), "nlookup 1, 48-byte forget, no reply");
        Assert.That(s.Share.Vmm!.Mappings, Is.Empty);
    }

    [Test]
    public void StrictReplies_DaemonErrorOutOfRange_RequestFailsEio()
    {
        var m = new MachineBuilder().AddVirtioFs().Build();
        var share = VirtioFs.Create(m, new VirtioFsOptions { StrictReplies = true, Daemon = { SetupMappingError = 5 } });
        share.Host.CreateFile("F", 8192, nodeId: 5);
        Assert.That(share.Mount(), Is.Zero);
        var p = m.Spawn();
        var fd = (int)p.Open(share.PathOf("F"), Fcntl.O_RDONLY);
        Assert.That(p.Pread64(fd, p.MapAnonymous(4096), 4096, 0), Is.EqualTo(-Errno.EIO));
        Assert.That(m.State.Dmesg, Has.Some.Contains("fuse: bad reply to FUSE_SETUPMAPPING"));
    }
}
