using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Host;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Kernel;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Moq;

namespace KernelSim.Tests.Composition;

/// <summary>
/// The FUSE device seam (<see cref="IVirtioFsBackend"/>) replaced through MachineBuilder.Services: the backend double
/// hands the driver a Moq <see cref="IVirtioFsDevice"/> that records the opcode of every chain the guest kicks and
/// forwards it to the simulated daemon. Mount, open and read send exactly the FUSE requests fs/fuse sends.
/// </summary>
public class FuseDeviceDoubleTests
{
    /// <summary>The opcode of the chain at the head of an available ring (u32 frame_len, u32 inline_len, fuse_in_header), not consumed.</summary>
    private static FuseOpcode PeekOpcode(PipeReader avail)
    {
        Assert.That(avail.TryRead(out var r), Is.True);
        var header = r.Buffer.Slice(8, 8).ToArray();
        avail.AdvanceTo(r.Buffer.Start);
        return (FuseOpcode)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
    }

    [Test]
    public void MountOpenRead_SendInitLookupOpenRead_InOrder_ToTheDeviceDouble()
    {
        var sent = new List<(int Queue, FuseOpcode Op)>();
        var backend = new Mock<IVirtioFsBackend>(MockBehavior.Strict);
        backend.Setup(b => b.Connect(It.IsAny<VirtioFsDaemon>(), It.IsAny<VirtioFsOptions>())).Returns((VirtioFsDaemon daemon, VirtioFsOptions _) =>
        {
            var device = new Mock<IVirtioFsDevice>(MockBehavior.Strict);
            device.Setup(d => d.Kick(It.IsAny<int>(), It.IsAny<PipeReader>(), It.IsAny<PipeWriter>()))
                .Callback((int q, PipeReader avail, PipeWriter used) =>
                {
                    sent.Add((q, PeekOpcode(avail)));
                    daemon.Kick(q, avail, used);
                });
            return device.Object;
        });
        var data = Enumerable.Range(0, 8192).Select(i => (byte)(i * 3 + 1)).ToArray();
        var builder = new MachineBuilder().WithKernel("6.12")
            .AddVirtioFs(new VirtioFsOptions { Dax = DaxMountMode.Never }, s => s.Host.CreateFile("F", data.Length, nodeId: 5, data: data));
        builder.Services.Replace(ServiceDescriptor.Singleton(backend.Object));
        var m = builder.Build();

        var share = VirtioFs.Shares(m).Single();
        var p = m.Spawn("app");
        var u = p.MapAnonymous(8192);
        var fd = (int)p.Open(share.PathOf("F"), Fcntl.O_RDONLY);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(p.Pread64(fd, u, 8192, 0), Is.EqualTo(8192));
        var got = new byte[8192];
        Assert.That(p.Load(u, got).Done, Is.EqualTo(8192UL));
        Assert.That(got, Is.EqualTo(data), "the bytes came back through the double");

        Assert.That(sent, Is.EqualTo(new[]
        {
            (VirtioFsTransport.RequestQueue, FuseOpcode.FUSE_INIT),
            (VirtioFsTransport.RequestQueue, FuseOpcode.FUSE_LOOKUP),
            (VirtioFsTransport.RequestQueue, FuseOpcode.FUSE_OPEN),
            (VirtioFsTransport.RequestQueue, FuseOpcode.FUSE_READ),
        }));
        Assert.That(share.Log.Select(l => l.Opcode), Is.EqualTo(sent.Select(s => s.Op)), "the transport's own log agrees");
        backend.Verify(b => b.Connect(share.Daemon, share.Options), Times.Once());
    }
}
