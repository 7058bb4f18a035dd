using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Host;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Virtiofs;

/// <summary>
/// The common setup of the worked scenarios (docs/kernel/virtiofs.md): 1 GiB window (512 ranges), -o dax=always, file F
/// with node id 5 and 4 MiB on the host (guest-cached size 4 MiB once looked up), attr timeout 1 s; a process with
/// F open read-write and an 8 KiB buffer.
/// </summary>
internal sealed class VfsScenario
{
    public const long MiB = 1 << 20;
    public const long FSize = 4 * MiB;
    public const ulong Read = FuseConst.FUSE_SETUPMAPPING_FLAG_READ;
    public const ulong ReadWrite = FuseConst.FUSE_SETUPMAPPING_FLAG_READ | FuseConst.FUSE_SETUPMAPPING_FLAG_WRITE;

    /// <summary>S1 done (an 8 KiB read across the first two ranges), then the transport log cleared.</summary>
    public static VfsScenario S1Done(Action<VirtioFsOptions>? configure = null)
    {
        var s = Boot(configure);
        Assert.That(s.P.Pread64(s.Fd, s.Buf, 8192, 2 * MiB - 4096), Is.EqualTo(8192));
        s.Share.Transport.ClearLog();
        return s;
    }

    /// <summary>The host file's byte at offset i.</summary>
    public static byte HostShare_Pattern(long i) => HostShare.Pattern(i);

    public required Machine M;
    public required VirtioFsShare Share;
    public required Process P;
    public required int Fd;
    public required UserPtr Buf;

    public static VfsScenario Boot(Action<VirtioFsOptions>? configure = null, string kernel = "6.12", WorkTiming timing = WorkTiming.AtSyscallExit,
        Action<HostShare>? hostSetup = null, string file = "F")
    {
        var o = new VirtioFsOptions();
        configure?.Invoke(o);
        var m = new MachineBuilder().WithKernel(kernel).WithWorkTiming(timing)
            .AddVirtioFs(o, s =>
            {
                if (hostSetup != null) hostSetup(s.Host);
                else s.Host.CreateFile("F", FSize, nodeId: 5);
            })
            .Build();
        var share = VirtioFs.Shares(m).Single();
        var p = m.Spawn("guest-app");
        var fd = (int)p.Open(share.PathOf(file), Fcntl.O_RDWR);
        var buf = p.MapAnonymous(16384);
        p.Fill(buf, 16384, _ => 0xee);
        return new VfsScenario { M = m, Share = share, P = p, Fd = fd, Buf = buf };
    }

    public IReadOnlyList<FuseMessage> Log => Share.Log;

    public HostFile F => Share.Host["F"]!;

    public Drivers.Virtiofs.Guest.FuseInode Inode(string name = "F") => (Drivers.Virtiofs.Guest.FuseInode)P.FileAt(Fd)!.Inode is { } i && i.Fs.Share.Host[name]!.NodeId == i.NodeId ? i : Share.Fs!.Inodes[Share.Host[name]!.NodeId];

    public Drivers.Virtiofs.Guest.FuseConnDax Dax => Share.Fs!.Dax!;

    /// <summary>The expected content of F (host pattern) at [off, off+len).</summary>
    public static byte?[] Expected(long off, int len) => Enumerable.Range(0, len).Select(i => (byte?)HostShare.Pattern(off + i)).ToArray();

    public static void AssertSetup(FuseMessage m, ulong nodeid, ulong foffset, ulong flags, ulong moffset)
    {
        Assert.Multiple(() =>
        {
            Assert.That(m.Queue, Is.EqualTo("requests.0"));
            Assert.That(m.Opcode, Is.EqualTo(FuseOpcode.FUSE_SETUPMAPPING));
            Assert.That(m.NodeId, Is.EqualTo(nodeid));
            Assert.That(m.Fh, Is.EqualTo(ulong.MaxValue), "fh = -1: the daemon opens the inode itself");
            Assert.That(m.Offset, Is.EqualTo(foffset), "foffset");
            Assert.That(m.Size, Is.EqualTo((ulong)(2 * MiB)), "len");
            Assert.That(m.Flags, Is.EqualTo(flags), "flags");
            Assert.That(m.MOffset, Is.EqualTo(moffset), "moffset");
            Assert.That(m.Len, Is.EqualTo(80u), "in.h.len: 40-byte header + 40-byte fuse_setupmapping_in");
            Assert.That(m.RequestBytes, Is.EqualTo(80));
            Assert.That(m.ReplyBytes, Is.EqualTo(16), "header-only reply");
            Assert.That(m.Unique % 2, Is.Zero, "unique ids are even");
        });
    }

    public static void AssertRemove(FuseMessage m, ulong nodeid, ulong moffset)
    {
        Assert.Multiple(() =>
        {
            Assert.That(m.Opcode, Is.EqualTo(FuseOpcode.FUSE_REMOVEMAPPING));
            Assert.That(m.NodeId, Is.EqualTo(nodeid));
            Assert.That(m.Removals, Is.EqualTo(new[] { (moffset, (ulong)(2 * MiB)) }));
            Assert.That(m.Len, Is.EqualTo(40u + 4 + 16));
            Assert.That(m.Error, Is.Zero);
        });
    }
}
