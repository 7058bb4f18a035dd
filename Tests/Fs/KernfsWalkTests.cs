using System.Buffers.Binary;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Fs;

/// <summary>
/// The cheap paths of the kernfs walk and of the system calls ndctl makes (issue 17, eighth round) give what the text
/// walk and the per-record arrays gave: a link entered directly only while its target text would reach the same node,
/// getdents64 records past a page in one call, attribute text that is not Latin-1, readdir of a prefix.
/// </summary>
public class KernfsWalkTests
{
    private static (Machine M, Process P, Sysfs Sys) Boot() => Sim.BootWithSysfs();

    private static string Cat(Process p, string path) => Sim.Cat(p, path);

    [Test]
    public void Link_WhoseTargetWasRemoved_FindsTheNodeNowUnderThatName_OrEnoent()
    {
        var (_, p, sys) = Boot();
        var plat = sys.Root.Dir("devices/platform");
        var old = plat.Dir("ndbus0/region0");
        old.Attr("size", 0x124, () => "1\n");
        sys.Root.Dir("bus/nd/devices").Add(new KernfsLink("region0", old));
        Assert.That(Cat(p, "/sys/bus/nd/devices/region0/size"), Is.EqualTo("1\n"));

        // The target text ../../../devices/platform/ndbus0/region0 names a directory that is gone: ENOENT.
        Assert.That(plat.Dir("ndbus0").Remove("region0"), Is.True);
        Assert.That(p.Open("/sys/bus/nd/devices/region0/size", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));

        // A new region0 at the same place: the text reaches it, not the removed node the link still holds.
        plat.Dir("ndbus0/region0").Attr("size", 0x124, () => "2\n");
        Assert.That(Cat(p, "/sys/bus/nd/devices/region0/size"), Is.EqualTo("2\n"));

        // An ancestor replaced: the same.
        Assert.That(sys.Root.Dir("devices").Remove("platform"), Is.True);
        sys.Root.Dir("devices/platform/ndbus0/region0").Attr("size", 0x124, () => "3\n");
        Assert.That(Cat(p, "/sys/bus/nd/devices/region0/size"), Is.EqualTo("3\n"));
    }

    [Test]
    public void Link_ToALink_ToADirectoryAbove_AndDotDotAfterALink_WalkAsTheirText()
    {
        var (_, p, sys) = Boot();
        var region = sys.Root.Dir("devices/ndbus0/region0");
        region.Attr("size", 0x124, () => "4096\n");
        sys.Root.Dir("devices/ndbus0").Attr("provider", 0x124, () => "nfit_test.0\n");
        var first = sys.Root.Dir("bus/nd/devices").Add(new KernfsLink("region0", region));
        sys.Root.Dir("class/nd").Add(new KernfsLink("r", first));
        region.Add(new KernfsLink("bus", region.Parent!));
        Assert.That(Cat(p, "/sys/class/nd/r/size"), Is.EqualTo("4096\n"), "link to a link");
        Assert.That(Cat(p, "/sys/bus/nd/devices/region0/../provider"), Is.EqualTo("nfit_test.0\n"), ".. from the target");
        Assert.That(Cat(p, "/sys/devices/ndbus0/region0/bus/provider"), Is.EqualTo("nfit_test.0\n"), "link to its directory's parent");
        Assert.That(Cat(p, "/sys/devices/ndbus0/region0/bus/region0/bus/region0/size"), Is.EqualTo("4096\n"));
        Assert.That(p.ReadLink("/sys/devices/ndbus0/region0/bus", out var t), Is.Zero);
        Assert.That(t, Is.EqualTo(".."));
    }

    [Test]
    public void Link_Loops_AreEloop_AfterFortyLinks()
    {
        var (_, p, sys) = Boot();
        var d = sys.Root.Dir("devices/loop");
        d.Add(new KernfsLink("self", d));
        var path = "/sys/devices/loop" + string.Concat(Enumerable.Repeat("/self", 40));
        Assert.That(p.Open(path, Fcntl.O_RDONLY | Fcntl.O_DIRECTORY), Is.GreaterThanOrEqualTo(0));
        Assert.That(p.Open(path + "/self", Fcntl.O_RDONLY | Fcntl.O_DIRECTORY), Is.EqualTo(-Errno.ELOOP));
    }

    [Test]
    public void Getdents64_MoreThanAPageOfRecords_InOneCall_ThenTheRestAndTheEnd()
    {
        var (_, p, sys) = Boot();
        var d = sys.Root.Dir("devices/many");
        for (var i = 0; i < 300; i++) d.Add(new KernfsDir($"namespace0.{i}"));
        var fd = (int)p.Open("/sys/devices/many", Fcntl.O_RDONLY | Fcntl.O_DIRECTORY);
        var u = p.MapAnonymous(4 * PageDefs.PAGE_SIZE);
        // "." and ".." take 24 bytes each, "namespace0.N" 32 bytes for N < 10 and 40 above: two pages hold 2 + 10 + 195 records.
        Assert.That(p.Getdents64(fd, u, 2 * PageDefs.PAGE_SIZE), Is.EqualTo(48 + 10 * 32 + 195 * 40));
        var buf = new byte[48 + 10 * 32 + 195 * 40];
        Assert.That(p.Load(u, buf).Completed((ulong)buf.Length), Is.True);
        var last = buf.AsSpan(buf.Length - 40, 40);
        Assert.That(BinaryPrimitives.ReadInt64LittleEndian(last[8..]), Is.EqualTo(207), "d_off of the 207th entry");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(last[16..]), Is.EqualTo(40));
        Assert.That(last[18], Is.EqualTo(4), "DT_DIR");
        Assert.That(System.Text.Encoding.ASCII.GetString(last.Slice(19, 14)), Is.EqualTo("namespace0.204"));
        Assert.That(last[33..].ToArray(), Is.All.Zero, "NUL and padding");
        Assert.That(p.Getdents64(fd, u, 3 * PageDefs.PAGE_SIZE), Is.EqualTo(95 * 40), "namespace0.205 to .299");
        Assert.That(p.Getdents64(fd, u, 3 * PageDefs.PAGE_SIZE), Is.Zero);
        Assert.That(p.Getdents64(fd, u, 0), Is.Zero, "at the end even a zero count returns 0");
        Assert.That(p.Lseek(fd, 0, Fcntl.SEEK_SET), Is.Zero);
        Assert.That(p.Getdents64(fd, u, 0), Is.EqualTo(-Errno.EINVAL), "no record fits in 0 bytes");
    }

    [Test]
    public void Attribute_TextBeyondLatin1_ReadsAsTheEncodersBytes_AndLatin1InPieces()
    {
        var (_, p, sys) = Boot();
        var d = sys.Root.Dir("devices/t");
        d.Attr("wide", 0x124, () => "a\u20acb\U0001F600c\n");
        d.Attr("latin", 0x124, () => "caf\u00e9 ok\n");
        Assert.That(p.ReadAll("/sys/devices/t/wide", out var wide), Is.Zero);
        Assert.That(wide, Is.EqualTo("a?b??c\n"u8.ToArray()), "a '?' for the euro sign and one for each half of the surrogate pair");
        var fd = (int)p.Open("/sys/devices/t/latin", Fcntl.O_RDONLY);
        var u = p.MapAnonymous(PageDefs.PAGE_SIZE);
        Assert.That(p.Read(fd, u, 4), Is.EqualTo(4));
        Assert.That(p.Read(fd, u + 4UL, 100), Is.EqualTo(4));
        Assert.That(p.Read(fd, u, 100), Is.Zero);
        var b = new byte[8];
        p.Load(u, b);
        Assert.That(b, Is.EqualTo(new byte[] { (byte)'c', (byte)'a', (byte)'f', 0xe9, (byte)' ', (byte)'o', (byte)'k', (byte)'\n' }));
    }

    [Test]
    public void ListDir_WithAPrefix_KeepsTheNamesThatStartWithIt_AfterTheSameSystemCalls()
    {
        var m = Sim.Boot("6.12", trace: true);
        var p = m.Spawn("t");
        var d = m.Services.GetRequiredService<Sysfs>().Root.Dir("devices/region0");
        foreach (var n in new[] { "namespace0.0", "pfn0.0", "namespace0.1", "size", "n\u00e9", "dax0.0" }) d.Add(new KernfsDir(n));
        Assert.That(p.ListDir("/sys/devices/region0", out var all), Is.Zero);
        var before = m.Tracer.Records.Count;
        Assert.That(p.ListDir("/sys/devices/region0", "namespace0.", out var ns), Is.Zero);
        var calls = m.Tracer.Records.Count - before;
        Assert.That(ns, Is.EqualTo(new[] { "namespace0.0", "namespace0.1" }));
        Assert.That(p.ListDir("/sys/devices/region0", "n\u00e9", out var wide), Is.Zero);
        Assert.That(wide, Is.EqualTo(new[] { "n\u00e9" }));
        Assert.That(p.ListDir("/sys/devices/region0", null, out var none), Is.Zero);
        Assert.That(none, Is.EqualTo(all));
        before = m.Tracer.Records.Count;
        Assert.That(p.ListDir("/sys/devices/region0", "pfn", out _), Is.Zero);
        Assert.That(m.Tracer.Records.Count - before, Is.EqualTo(calls), "the same open, getdents64, loads and close");
        Assert.That(p.ListDir("/sys/devices/nothing", "x", out var missing), Is.EqualTo(-Errno.ENOENT));
        Assert.That(missing, Is.Empty);
    }
}
