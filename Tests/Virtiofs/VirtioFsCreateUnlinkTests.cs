using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Guest;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Tests.Virtiofs;

/// <summary>FUSE_CREATE, FUSE_MKNOD and FUSE_UNLINK end to end (guest fuse_create_open / fuse_mknod / fuse_unlink, virtiofsd side, VF14–VF16).</summary>
public class VirtioFsCreateUnlinkTests
{
    private static (Machine M, VirtioFsShare Share, Process P) Boot(bool create = true)
    {
        var o = new VirtioFsOptions();
        o.Daemon.Create = create;
        var m = new MachineBuilder().WithKernel("6.12").AddVirtioFs(o, s => s.Host.CreateFile("F", 8192, nodeId: 5)).Build();
        var share = VirtioFs.Shares(m).Single();
        share.Transport.ClearLog();
        return (m, share, m.Spawn("creator"));
    }

    [Test]
    public void OpenOCreat_LookupThenCreate_WireArgsAndReply_FileUsable()
    {
        var (_, share, p) = Boot();
        var fd = (int)p.Open(share.PathOf("new"), Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL, 0x1ff);
        Assert.That(fd, Is.EqualTo(0));
        var log = share.Log.Where(x => x.Queue == "requests.0").ToList();
        Assert.That(log.Select(x => (x.Opcode, x.Error)), Is.EqualTo(new[] { (FuseOpcode.FUSE_LOOKUP, (int?)-Errno.ENOENT), (FuseOpcode.FUSE_CREATE, (int?)0) }));
        var c = log[1];
        Assert.That(c.NodeId, Is.EqualTo(FuseConst.RootId));
        Assert.That(c.Flags, Is.EqualTo((ulong)(Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL | Fcntl.O_LARGEFILE)), "flags = 0x80c2");
        Assert.That((c.Mode, c.Umask, c.Valid, c.Name), Is.EqualTo((0x81edu, 0x12u, 0u, "new")), "S_IFREG | 0777 & ~022, umask 022, open_flags 0");
        Assert.That(c.Len, Is.EqualTo(40u + 16 + 4), "in header + fuse_create_in + \"new\\0\"");
        Assert.That(c.ReplyBytes, Is.EqualTo(16 + 128 + 16), "out header + fuse_entry_out + fuse_open_out");
        var host = share.Host["new"]!;
        Assert.That((host.Mode, host.Size), Is.EqualTo((0x81ed, 0L)));
        var f = (FuseFile)p.FileAt(fd)!;
        Assert.That(f.Inode.Mode, Is.EqualTo(0x81ed));
        Assert.That(((FuseInode)f.Inode).NodeId, Is.EqualTo(host.NodeId));
        Assert.That(f.Fh, Is.Not.EqualTo(0UL), "fh from fuse_open_out");
        Assert.That(share.Log.Any(x => x.Opcode == FuseOpcode.FUSE_OPEN), Is.False, "CREATE opens: no FUSE_OPEN");
        var buf = p.MapAnonymous(4096);
        p.Store(buf, [1, 2, 3]);
        Assert.That(p.Write(fd, buf, 3), Is.EqualTo(3));
        Assert.That(host.Size, Is.EqualTo(3));
    }

    [Test]
    public void OpenOCreat_ExistingName_NoCreate_OExclEexist()
    {
        var (_, share, p) = Boot();
        Assert.That(p.Open(share.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT), Is.EqualTo(0));
        Assert.That(share.Log.Any(x => x.Opcode == FuseOpcode.FUSE_CREATE), Is.False);
        Assert.That(p.Open(share.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL), Is.EqualTo(-Errno.EEXIST));
    }

    [Test]
    public void ServerWithoutCreate_Enosys_ThenMknodAndOpen_AndNoCreateIsRemembered()
    {
        var (_, share, p) = Boot(create: false);
        Assert.That(p.SetUmask(0x3f), Is.EqualTo(0x12));
        Assert.That(p.Open(share.PathOf("a"), Fcntl.O_RDWR | Fcntl.O_CREAT, 0x1b6), Is.EqualTo(0));
        var ops = share.Log.Where(x => x.Queue == "requests.0").Select(x => (x.Opcode, x.Error)).ToList();
        Assert.That(ops, Is.EqualTo(new[]
        {
            (FuseOpcode.FUSE_LOOKUP, (int?)-Errno.ENOENT), (FuseOpcode.FUSE_CREATE, (int?)-Errno.ENOSYS),
            (FuseOpcode.FUSE_MKNOD, (int?)0), (FuseOpcode.FUSE_OPEN, (int?)0),
        }));
        var mk = share.Log.Single(x => x.Opcode == FuseOpcode.FUSE_MKNOD);
        Assert.That((mk.Mode, mk.Size, mk.Umask, mk.Name, mk.Len, mk.ReplyBytes), Is.EqualTo((0x8180u, 0UL, 0x3fu, "a", 40u + 16 + 2, 16 + 128)));
        Assert.That(share.Fs!.Conn.NoCreate, Is.True);
        share.Transport.ClearLog();
        Assert.That(p.Open(share.PathOf("b"), Fcntl.O_RDWR | Fcntl.O_CREAT), Is.EqualTo(1));
        Assert.That(share.Log.Where(x => x.Queue == "requests.0").Select(x => x.Opcode),
            Is.EqualTo(new[] { FuseOpcode.FUSE_LOOKUP, FuseOpcode.FUSE_MKNOD, FuseOpcode.FUSE_OPEN }), "no second CREATE");
    }

    [Test]
    public void Unlink_SendsUnlinkToTheRoot_DropsTheDentry_EvictsAtLastClose()
    {
        var (_, share, p) = Boot();
        var fd = (int)p.Open(share.PathOf("F"), Fcntl.O_RDONLY);
        var buf = p.MapAnonymous(8192);
        Assert.That(p.Pread64(fd, buf, 4096, 0), Is.EqualTo(4096), "maps range 0 of the window");
        var inode = (FuseInode)p.FileAt(fd)!.Inode;
        share.Transport.ClearLog();
        Assert.That(p.Unlink(share.PathOf("F")), Is.EqualTo(0));
        var u = share.Log.Single();
        Assert.That((u.Opcode, u.NodeId, u.Name, u.Len, u.Error), Is.EqualTo((FuseOpcode.FUSE_UNLINK, FuseConst.RootId, "F", 40u + 2, (int?)0)));
        Assert.That(share.Host["F"], Is.Null);
        Assert.That(inode.Nlink, Is.EqualTo(0));
        Assert.That(share.Fs!.Inodes.ContainsKey(5), Is.True, "still open");
        Assert.That(p.Pread64(fd, buf, 100, 0), Is.EqualTo(100), "the open file still reads");
        share.Transport.ClearLog();
        Assert.That(p.Close(fd), Is.EqualTo(0));
        Assert.That(share.Log.Select(x => x.Opcode), Is.EqualTo(new[]
            { FuseOpcode.FUSE_FLUSH, FuseOpcode.FUSE_RELEASE, FuseOpcode.FUSE_REMOVEMAPPING, FuseOpcode.FUSE_FORGET }));
        Assert.That(share.Log[^1].Queue, Is.EqualTo("hiprio"));
        Assert.That(share.Fs.Inodes.ContainsKey(5), Is.False);
        Assert.That(p.Open(share.PathOf("F"), Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void Unlink_MissingName_EnoentFromLookup_NoUnlinkSent_HostRaceEnoentFromDaemon()
    {
        var (_, share, p) = Boot();
        Assert.That(p.Unlink(share.PathOf("nope")), Is.EqualTo(-Errno.ENOENT));
        Assert.That(share.Log.Any(x => x.Opcode == FuseOpcode.FUSE_UNLINK), Is.False);
        Assert.That(p.Open(share.PathOf("F"), Fcntl.O_RDONLY), Is.EqualTo(0), "F's dentry is now cached");
        share.Host.Unlink("F"); // the other party removes it while the guest's dentry is still valid
        share.Transport.ClearLog();
        Assert.That(p.Unlink(share.PathOf("F")), Is.EqualTo(-Errno.ENOENT));
        Assert.That(share.Log.Select(x => (x.Opcode, x.Error)), Is.EqualTo(new[] { (FuseOpcode.FUSE_UNLINK, (int?)-Errno.ENOENT) }));
    }

    [Test]
    public void FuseWire_CreateAndMknodArgs_ExactBytes()
    {
        var c = FuseWire.CreateIn(new byte[64], 0x80c2, 0x81ed, 0x12, 0, "ab").ToArray();
        Assert.That(c, Is.EqualTo(new byte[] { 0xc2, 0x80, 0, 0, 0xed, 0x81, 0, 0, 0x12, 0, 0, 0, 0, 0, 0, 0, (byte)'a', (byte)'b', 0 }));
        var m = FuseWire.MknodIn(new byte[64], 0x81a4, 0, 0x12, "x").ToArray();
        Assert.That(m, Is.EqualTo(new byte[] { 0xa4, 0x81, 0, 0, 0, 0, 0, 0, 0x12, 0, 0, 0, 0, 0, 0, 0, (byte)'x', 0 }));
        var o = FuseWire.OpenOut(new byte[16], 7, 1).ToArray();
        Assert.That(o, Is.EqualTo(new byte[] { 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 }));
    }
}
