using System.Buffers;
using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Kernel;

namespace KernelSim.Bench;

/// <summary>
/// One FUSE request through the virtio-fs virtqueue pipes and the daemon, without a guest: the chain is written
/// into the available ring, the daemon parses it in place and writes the used element, the reply is copied once
/// into a reused buffer. GETATTR measures the framing; READ and WRITE move <see cref="Size"/> bytes of data.
/// The transport's request log is cleared every call (it allocates one entry per request by design).
/// </summary>
[MemoryDiagnoser]
public class FuseTransportBenchmarks
{
    [Params(4096, 131072)]
    public int Size;

    private VirtioFsTransport _t = null!;
    private readonly ArrayBufferWriter<byte> _reply = new();
    private byte[] _data = [];
    private ulong _fh;
    private ulong _unique;

    [GlobalSetup]
    public void Setup()
    {
        var share = VirtioFs.Create(new MachineBuilder().AddVirtioFs().Build(), new VirtioFsOptions());
        share.Host.CreateFile("F", 1 << 20, nodeId: 5);
        _t = share.Transport;
        _data = new byte[Size];
        new Random(1).NextBytes(_data);
        Send(FuseOpcode.FUSE_OPEN, new byte[FuseConst.OpenInSize], [], FuseConst.OpenOutSize);
        _fh = BinaryPrimitives.ReadUInt64LittleEndian(_reply.WrittenSpan[FuseConst.OutHeaderSize..]);
        Getattr();
        Read();
        Write();
    }

    private void Send(FuseOpcode op, ReadOnlySpan<byte> args, ReadOnlySpan<byte> data, int expectPayload)
    {
        _reply.ResetWrittenCount();
        var h = new FuseInHeader((uint)(FuseConst.InHeaderSize + args.Length + data.Length), op, _unique += 2, 5, 0, 0, 0, 0);
        var n = _t.Submit(VirtioFsTransport.RequestQueue, h, args, data, null, _reply);
        _t.ClearLog();
        if (n != FuseConst.OutHeaderSize + expectPayload || !FuseOutHeader.TryRead(_reply.WrittenSpan, out var oh) || oh.Error != 0)
            throw new InvalidOperationException($"{op}: reply of {n} bytes; the benchmark must get a full successful reply");
    }

    /// <summary>GETATTR: 56-byte chain, 120-byte reply.</summary>
    [Benchmark(Baseline = true)]
    public int Getattr()
    {
        Span<byte> args = stackalloc byte[FuseConst.GetattrInSize];
        Send(FuseOpcode.FUSE_GETATTR, FuseWire.GetattrIn(args, 0, 0), [], FuseConst.AttrOutSize);
        return _reply.WrittenCount;
    }

    /// <summary>READ of Size bytes: the daemon reads the host file straight into the used ring.</summary>
    [Benchmark]
    public int Read()
    {
        Span<byte> args = stackalloc byte[FuseConst.ReadInSize];
        Send(FuseOpcode.FUSE_READ, FuseWire.ReadWriteIn(args, _fh, 0, (uint)Size, 0, 0), [], Size);
        return _reply.WrittenCount;
    }

    /// <summary>WRITE of Size bytes inline: the daemon writes them from the ring's segments into the host file.</summary>
    [Benchmark]
    public int Write()
    {
        Span<byte> args = stackalloc byte[FuseConst.ReadInSize];
        Send(FuseOpcode.FUSE_WRITE, FuseWire.ReadWriteIn(args, _fh, 0, (uint)Size, 0, 0), _data, FuseConst.WriteOutSize);
        return _reply.WrittenCount;
    }
}
