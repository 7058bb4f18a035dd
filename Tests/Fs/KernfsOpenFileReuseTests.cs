using KernelSim.Fs;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Fs;

/// <summary>
/// A released sysfs text attribute's open file is taken by the next open (as a struct file comes back from its slab):
/// the reused one must behave as a new one in every field, and the pre-6.0 one-segment IOVEC read iterator reused
/// between read(2) calls must copy exactly what each call asks for.
/// </summary>
public class KernfsOpenFileReuseTests
{
    [Test]
    public void ReusedOpenFile_HasTheNewNodePathFlagsAndPosition_AndShowsTheNewText()
    {
        var (_, p, sys) = Sim.BootWithSysfs();
        var d = sys.Root.Dir("devices/reuse");
        d.Attr("a", 0x124, () => "alpha\n");
        var bValue = "beta\n";
        d.Attr("b", 0x1a4, () => bValue, s =>
        {
            bValue = s;
            return s.Length;
        });
        var buf = p.MapAnonymous(PageDefs.PAGE_SIZE);

        var fa = (int)p.Open("/sys/devices/reuse/a", Fcntl.O_RDONLY);
        Assert.That(p.Read(fa, buf, 3), Is.EqualTo(3), "a seq file positioned mid-text");
        var first = (KernfsOpenFile)p.FileAt(fa)!;
        Assert.That(p.Close(fa), Is.Zero);

        var fb = (int)p.Open("/sys/devices/reuse/b", Fcntl.O_RDWR);
        var second = (KernfsOpenFile)p.FileAt(fb)!;
        Assert.That(second, Is.SameAs(first), "the released object is taken again");
        Assert.That((second.Node.Name, second.Path, second.Pos, second.Count), Is.EqualTo(("b", "/sys/devices/reuse/b", 0L, 1)));
        Assert.That(second.Mode & (KFile.FMODE_READ | KFile.FMODE_WRITE), Is.EqualTo(KFile.FMODE_READ | KFile.FMODE_WRITE));
        Assert.That((second.SeqText, second.SeqBuffer, second.Private), Is.EqualTo(((string?)null, (byte[]?)null, (object?)null)));
        Assert.That(p.Read(fb, buf, 100), Is.EqualTo(5));
        var got = new byte[5];
        p.Load(buf, got);
        Assert.That(System.Text.Encoding.Latin1.GetString(got), Is.EqualTo("beta\n"));
        Assert.That(p.Close(fb), Is.Zero);
    }

    [Test]
    public void FileWithPrivateState_IsNotReused()
    {
        var (m, p, sys) = Sim.BootWithSysfs();
        sys.Root.Dir("devices/reuse2").Attr("a", 0x124, () => "x\n");
        var fd = (int)p.Open("/sys/devices/reuse2/a", Fcntl.O_RDONLY);
        var f = (KernfsOpenFile)p.FileAt(fd)!;
        f.Private = new object();
        p.Close(fd);
        fd = (int)p.Open("/sys/devices/reuse2/a", Fcntl.O_RDONLY);
        Assert.That(p.FileAt(fd), Is.Not.SameAs(f));
        Assert.That(m.Services.GetRequiredService<Sysfs>(), Is.SameAs(sys));
    }

    [Test]
    public void UserLibReadLink_IntoASpan_GivesTheBytesOfTheText()
    {
        var (_, p, sys) = Sim.BootWithSysfs();
        var target = sys.Root.Dir("devices/target0");
        sys.Root.Dir("class/t").Add(new KernfsLink("t0", target));
        Assert.That(p.ReadLink("/sys/class/t/t0", out var text), Is.Zero);
        Assert.That(text, Is.EqualTo("../../devices/target0"));
        Span<byte> bytes = stackalloc byte[4096];
        Assert.That(p.ReadLink("/sys/class/t/t0", bytes, out var n), Is.Zero);
        Assert.That(System.Text.Encoding.UTF8.GetString(bytes[..n]), Is.EqualTo(text));
        Assert.That(p.ReadLink("/sys/devices/target0", bytes, out n), Is.EqualTo(-Errno.EINVAL));
        Assert.That(n, Is.Zero);
    }

    [Test]
    public void PreUbufRelease_ReadsThroughTheReusedIovecIterator_CopyExactlyEachCount()
    {
        var m = Sim.Boot("4.17");
        Assert.That(m.Profile.UbufIter, Is.False, "4.17 reads through a one-segment IOVEC");
        var p = m.Spawn("t");
        var sys = m.Services.GetRequiredService<Sysfs>();
        sys.Root.Dir("devices/iov").Attr("a", 0x124, () => "0123456789\n");
        var buf = p.MapAnonymous(PageDefs.PAGE_SIZE);
        p.Store(buf, Enumerable.Repeat((byte)0xee, 32).ToArray());
        var fd = (int)p.Open("/sys/devices/iov/a", Fcntl.O_RDONLY);
        Assert.That(p.Read(fd, buf + 4, 3), Is.EqualTo(3));
        Assert.That(p.Read(fd, buf + 16, 4), Is.EqualTo(4));
        Assert.That(p.Read(fd, buf + 24, 100), Is.EqualTo(4));
        Assert.That(p.Read(fd, buf + 28, 100), Is.Zero);
        var got = new byte[32];
        p.Load(buf, got);
        var e = (byte)0xee;
        Assert.That(got, Is.EqualTo(new byte[]
        {
            e, e, e, e, (byte)'0', (byte)'1', (byte)'2', e, e, e, e, e, e, e, e, e,
            (byte)'3', (byte)'4', (byte)'5', (byte)'6', e, e, e, e, (byte)'7', (byte)'8', (byte)'9', (byte)'\n', e, e, e, e,
        }));
    }
}
