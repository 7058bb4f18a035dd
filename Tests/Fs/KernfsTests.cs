using KernelSim.Block;
using KernelSim.Tests.Infrastructure;
using KernelSim.Fs;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Fs;

/// <summary>The kernfs pseudo filesystems (sysfs, procfs, debugfs), character nodes, ioctl, getdents64 and readlink.</summary>
public class KernfsTests
{
    private static (Machine M, Process P, Sysfs Sys) Boot() => Sim.BootWithSysfs();

    [Test]
    public void Attribute_ShowAndStore_ThroughReadAndWrite()
    {
        var (_, p, sys) = Boot();
        var value = "42";
        var dev = sys.Root.Dir("devices/test0");
        dev.Attr("value", 0x1a4, () => value + "\n", s =>
        {
            if (!int.TryParse(s.Trim(), out _)) return -Errno.EINVAL;
            value = s.Trim();
            return s.Length;
        });
        Assert.That(p.ReadText("/sys/devices/test0/value", out var t), Is.EqualTo(0));
        Assert.That(t, Is.EqualTo("42\n"));
        Assert.That(p.WriteText("/sys/devices/test0/value", "7\n"), Is.EqualTo(2));
        Assert.That(p.ReadText("/sys/devices/test0/value", out t), Is.EqualTo(0));
        Assert.That(t, Is.EqualTo("7\n"));
        Assert.That(p.WriteText("/sys/devices/test0/value", "x"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(value, Is.EqualTo("7"));
    }

    [Test]
    public void ReadOnlyAttribute_OpenForWrite_IsEacces_EvenForRoot_AndUnprivilegedNeedsTheBits()
    {
        var (_, p, sys) = Boot();
        sys.Root.Dir("devices/x").Attr("ro", 0x124, () => "1\n");
        sys.Root.Dir("devices/x").Attr("secret", 0x100, () => "s\n");
        Assert.That(p.Open("/sys/devices/x/ro", Fcntl.O_WRONLY), Is.EqualTo(-Errno.EACCES));
        Assert.That(p.Open("/sys/devices/x/ro", Fcntl.O_RDONLY | Fcntl.O_DIRECTORY), Is.EqualTo(-Errno.ENOTDIR));
        Assert.That(p.Open("/sys/devices/x", Fcntl.O_RDWR), Is.EqualTo(-Errno.EISDIR));
        Assert.That(p.Open("/sys/devices/x/new", Fcntl.O_CREAT | Fcntl.O_WRONLY), Is.EqualTo(-Errno.EACCES));
        Assert.That(p.Open("/sys/devices/x/none", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        p.CapSysAdmin = false;
        Assert.That(p.ReadText("/sys/devices/x/secret", out _), Is.EqualTo(-Errno.EACCES));
        Assert.That(p.ReadText("/sys/devices/x/ro", out var t), Is.EqualTo(0));
        Assert.That(t, Is.EqualTo("1\n"));
    }

    [Test]
    public void SeqRead_KeepsTheTextOfTheFirstRead_UntilPositionZero()
    {
        var (_, p, sys) = Boot();
        var calls = 0;
        sys.Root.Dir("devices/y").Attr("n", 0x124, () => $"{++calls}abcdef\n");
        var u = p.MapAnonymous(PageDefs.PAGE_SIZE);
        var fd = (int)p.Open("/sys/devices/y/n", Fcntl.O_RDONLY);
        Assert.That(p.Read(fd, u, 3), Is.EqualTo(3));
        Assert.That(p.Read(fd, u + 3UL, 100), Is.EqualTo(5));
        Assert.That(p.Read(fd, u, 100), Is.EqualTo(0));
        Assert.That(calls, Is.EqualTo(1));
        var b = new byte[8];
        p.Load(u, b);
        Assert.That(System.Text.Encoding.ASCII.GetString(b), Is.EqualTo("1abcdef\n"));
        Assert.That(p.Pread64(fd, u, 100, 0), Is.EqualTo(8));
        Assert.That(calls, Is.EqualTo(2));
    }

    [Test]
    public void Show_TextOfAPageOrMore_IsCutToPageSizeMinusOne()
    {
        var (_, p, sys) = Boot();
        sys.Root.Dir("devices/z").Attr("big", 0x124, () => new string('a', 5000));
        Assert.That(p.ReadAll("/sys/devices/z/big", out var bytes), Is.EqualTo(0));
        Assert.That(bytes, Has.Length.EqualTo(4095));
    }

    [Test]
    public void RemovedNode_OpenFileAnswersEnodev_AndLookupEnoent()
    {
        var (_, p, sys) = Boot();
        var d = sys.Root.Dir("devices/gone");
        d.Attr("a", 0x1a4, () => "a\n", s => s.Length);
        var fd = (int)p.Open("/sys/devices/gone/a", Fcntl.O_RDWR);
        Assert.That(sys.Root.Dir("devices").Remove("gone"), Is.True);
        var u = p.MapAnonymous(PageDefs.PAGE_SIZE);
        Assert.That(p.Read(fd, u, 10), Is.EqualTo(-Errno.ENODEV));
        Assert.That(p.Write(fd, u, 1), Is.EqualTo(-Errno.ENODEV));
        Assert.That(p.Open("/sys/devices/gone/a", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void Links_ReadBackRelative_AndAreFollowedByTheWalk()
    {
        var (_, p, sys) = Boot();
        var region = sys.Root.Dir("devices/platform/ndbus0/region0");
        region.Attr("size", 0x124, () => "4096\n");
        sys.Root.Dir("bus/nd/devices").Add(new KernfsLink("region0", region));
        Assert.That(p.ReadLink("/sys/bus/nd/devices/region0", out var target), Is.EqualTo(0));
        Assert.That(target, Is.EqualTo("../../../devices/platform/ndbus0/region0"));
        Assert.That(p.ReadText("/sys/bus/nd/devices/region0/size", out var t), Is.EqualTo(0));
        Assert.That(t, Is.EqualTo("4096\n"));
        Assert.That(p.Open("/sys/bus/nd/devices/region0", Fcntl.O_RDONLY | Fcntl.O_NOFOLLOW), Is.EqualTo(-Errno.ELOOP));
        Assert.That(p.ReadLink("/sys/bus/nd/devices/region0/size", out _), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.ReadLink("/sys/bus/nd/devices/nothing", out _), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void Getdents64_ListsDotDotDotThenChildren_InCreationOrder_AndRefusesATinyBuffer()
    {
        var (_, p, sys) = Boot();
        var d = sys.Root.Dir("bus/nd/devices");
        d.Add(new KernfsDir("region1"));
        d.Add(new KernfsDir("region0"));
        d.Attr("uevent", 0x80, null, s => s.Length);
        Assert.That(p.ListDir("/sys/bus/nd/devices", out var names), Is.EqualTo(0));
        Assert.That(names, Is.EqualTo(new[] { "region1", "region0", "uevent" }));
        var fd = (int)p.Open("/sys/bus/nd/devices", Fcntl.O_RDONLY | Fcntl.O_DIRECTORY);
        var u = p.MapAnonymous(PageDefs.PAGE_SIZE);
        Assert.That(p.Getdents64(fd, u, 10), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.Getdents64(fd, u, 24), Is.EqualTo(24), "\".\" is a 24-byte record");
        var rec = new byte[24];
        p.Load(u, rec);
        Assert.That(BitConverter.ToUInt16(rec, 16), Is.EqualTo(24));
        Assert.That(rec[18], Is.EqualTo(4), "DT_DIR");
        Assert.That(rec[19], Is.EqualTo((byte)'.'));
        var f = (int)p.Open("/sys/bus/nd/devices/region0", Fcntl.O_RDONLY);
        Assert.That(p.Getdents64(-1, u, 100), Is.EqualTo(-Errno.EBADF));
        Assert.That(f, Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void ProcAndDebugfs_MountOnFirstUse()
    {
        var m = Sim.Boot("6.12");
        var p = m.Spawn("t");
        Assert.That(m.Vfs.Mounts.Select(x => x.Name), Has.No.Member("proc"));
        m.Services.GetRequiredService<Debugfs>().Root.Dir("kernfs_test").Attr("value", 0x80, null, s => s.Length);
        Assert.That(p.ListDir("/proc/sys", out var names), Is.EqualTo(0));
        Assert.That(names, Is.EqualTo(new[] { "vm" }));
        Assert.That(p.WriteText("/sys/kernel/debug/kernfs_test/value", "0x1000"), Is.EqualTo(6));
        Assert.That(m.Vfs.Mounts.Select(x => x.MountPoint), Is.SupersetOf(new[] { "/proc", "/sys", "/sys/kernel/debug" }));
    }

    [Test]
    public void Ioctl_OnAFileWithoutIoctl_IsEnotty_AndOnABadFd_Ebadf()
    {
        var s = new FsScenario("6.12");
        s.Fs.CreateWithData("f", new byte[10]);
        var fd = (int)s.P.Open(s.Fs.PathOf("f"), Fcntl.O_RDONLY);
        Assert.That(s.P.Ioctl(fd, Ioctl.IO(0x12, 1), 0), Is.EqualTo(-Errno.ENOTTY));
        Assert.That(s.P.Ioctl(99, Ioctl.IO(0x12, 1), 0), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Getdents64(fd, s.U, 4096), Is.EqualTo(-Errno.ENOTDIR));
    }

    [Test]
    public void IoctlNumbers_EncodeAsTheUapiHeader()
    {
        // ND_IOCTL_ARS_CAP = _IOWR('N', 1, struct nd_cmd_ars_cap) with a 32-byte struct.
        Assert.That(Ioctl.IOWR('N', 1, 32), Is.EqualTo(0xC0204E01u));
        Assert.That(Ioctl.Dir(0xC0204E01u), Is.EqualTo(3u));
        Assert.That(Ioctl.Size(0xC0204E01u), Is.EqualTo(32u));
        Assert.That(Ioctl.Type(0xC0204E01u), Is.EqualTo((uint)'N'));
        Assert.That(Ioctl.Nr(0xC0204E01u), Is.EqualTo(1u));
    }

    [Test]
    public void CharNode_OpensThroughTheDriver_AndCanBeRemoved()
    {
        var (m, p, _) = Boot();
        var dev = m.Services.GetRequiredService<DevTmpFs>();
        var opens = 0;
        Assert.That(dev.AddCharNode("toy0", 10, 1, (CdevInode inode, int flags, out KFile? f) =>
        {
            opens++;
            f = null;
            return -Errno.ENXIO;
        }), Is.EqualTo(0));
        Assert.That(dev.AddCharNode("toy0", 10, 1, (CdevInode _, int _, out KFile? f) => { f = null; return 0; }), Is.EqualTo(-Errno.EEXIST));
        Assert.That(p.Open("/dev/toy0", Fcntl.O_RDWR), Is.EqualTo(-Errno.ENXIO));
        Assert.That(opens, Is.EqualTo(1));
        Assert.That(dev.CharNodes["toy0"].Mode, Is.EqualTo(Fcntl.S_IFCHR | 0x180));
        Assert.That(dev.RemoveNode("toy0"), Is.True);
        Assert.That(p.Open("/dev/toy0", Fcntl.O_RDWR), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void ProcPidDirectories_AreBuiltFromRegisteredEntries_AndSelfLinksToTheCaller()
    {
        var m = Sim.Boot("6.12");
        var a = m.Spawn("a");
        var b = m.Spawn("b");
        var proc = m.Services.GetRequiredService<Procfs>();
        proc.RegisterPidEntry(p => new KernfsAttribute("comm", 0x1a4, () => p.Comm + "\n", null));
        Assert.That(a.ReadLink("/proc/self", out var self), Is.EqualTo(0));
        Assert.That(self, Is.EqualTo(a.Pid.ToString()));
        Assert.That(b.ReadText("/proc/self/comm", out var comm), Is.EqualTo(0));
        Assert.That(comm, Is.EqualTo("b\n"));
        Assert.That(b.ReadText($"/proc/{a.Pid}/comm", out comm), Is.EqualTo(0));
        Assert.That(comm, Is.EqualTo("a\n"));
        Assert.That(a.ListDir("/proc", out var names), Is.EqualTo(0));
        Assert.That(names, Is.SupersetOf(new[] { "sys", a.Pid.ToString(), b.Pid.ToString() }));
        Assert.That(a.ReadText("/proc/999999/comm", out _), Is.EqualTo(-Errno.ENOENT));
    }
}
