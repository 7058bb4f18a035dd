using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Fs;

/// <summary>
/// How a kernfs directory keeps its children (issue 17, eighth round): small directories are scanned (a name filter
/// first), larger ones get a name index; either way the order, the duplicate check, removal and inode numbering are
/// kernfs's. And <see cref="KernfsAttribute{T}"/>, whose show and store get the object they belong to.
/// </summary>
public class KernfsDirConstructionTests
{
    private static (Process P, Sysfs Sys) Boot()
    {
        var m = Sim.Boot("6.12");
        return (m.Spawn("t"), m.Services.GetRequiredService<Sysfs>());
    }

    /// <summary>Names that share length, first, middle and last characters, so the name filter cannot tell them apart.</summary>
    private static string Name(int i) => $"a{i:d3}z";

    [TestCase(5)]
    [TestCase(31)]
    [TestCase(32)]
    [TestCase(33)]
    [TestCase(200)]
    public void EveryChild_IsFound_InCreationOrder_AndADuplicateIsEexist(int count)
    {
        var (p, sys) = Boot();
        var dir = sys.Root.Dir("devices/many");
        for (var i = 0; i < count; i++) Assert.That(dir.TryAdd(new KernfsDir(Name(i))), Is.Zero);
        for (var i = 0; i < count; i++)
        {
            Assert.That(dir.Child(Name(i))!.Name, Is.EqualTo(Name(i)));
            Assert.That(dir.TryAdd(new KernfsDir(Name(i))), Is.EqualTo(-Errno.EEXIST), Name(i));
        }
        Assert.That(dir.Child("a999z"), Is.Null);
        Assert.That(dir.Child("b000z"), Is.Null);
        Assert.That(dir.Children.Select(c => c.Name), Is.EqualTo(Enumerable.Range(0, count).Select(Name)));
        Assert.That(p.ListDir("/sys/devices/many", out var names), Is.Zero);
        Assert.That(names, Is.EqualTo(Enumerable.Range(0, count).Select(Name)));
    }

    [TestCase(10)]
    [TestCase(40)]
    public void RemovedChild_IsGone_ItsNameCanBeUsedAgain_AtTheEnd(int count)
    {
        var (p, sys) = Boot();
        var dir = sys.Root.Dir("devices/rm");
        for (var i = 0; i < count; i++) dir.Attr(Name(i), 0x124, () => "x\n");
        var old = dir.Child(Name(3))!;
        Assert.That(dir.Remove(Name(3)), Is.True);
        Assert.That(dir.Remove(Name(3)), Is.False);
        Assert.That(old.Active, Is.False);
        Assert.That(dir.Child(Name(3)), Is.Null);
        Assert.That(p.ReadText($"/sys/devices/rm/{Name(3)}", out _), Is.EqualTo(-Errno.ENOENT));
        Assert.That(dir.TryAdd(new KernfsDir(Name(3))), Is.Zero);
        Assert.That(dir.Children[^1].Name, Is.EqualTo(Name(3)));
        Assert.That(dir.Children, Has.Count.EqualTo(count));
        Assert.That(dir.Child(Name(3)), Is.InstanceOf<KernfsDir>());
    }

    [Test]
    public void InodeNumbers_FollowCreationOrder_ASubtreeBuiltDetachedIsNumberedWhenAttached()
    {
        var (_, sys) = Boot();
        var a = sys.Root.Dir("devices/ino");
        var first = a.Attr("first", 0x124, () => "1\n");
        var detached = new KernfsDir("sub");
        var leaf = detached.Attr("leaf", 0x124, () => "2\n");
        var deeper = detached.Dir("deeper");
        Assert.That((detached.Ino, leaf.Ino, deeper.Ino), Is.EqualTo((0UL, 0UL, 0UL)), "not in a mounted tree yet");
        var second = a.Attr("second", 0x124, () => "3\n");
        Assert.That(second.Ino, Is.EqualTo(first.Ino + 1));
        a.Add(detached);
        Assert.That((detached.Ino, leaf.Ino, deeper.Ino), Is.EqualTo((second.Ino + 1, second.Ino + 2, second.Ino + 3)));
        var late = deeper.Attr("late", 0x124, () => "4\n");
        Assert.That(late.Ino, Is.EqualTo(second.Ino + 4), "a directory numbered on attach numbers what is added to it later");
    }

    [Test]
    public void DirWithAPath_CreatesEachMissingLevel_SkipsEmptyComponents_AndRefusesAFileOnTheWay()
    {
        var (_, sys) = Boot();
        var d = sys.Root.Dir("devices//lvl1/lvl2/");
        Assert.That(d.Path, Is.EqualTo("devices/lvl1/lvl2"));
        Assert.That(sys.Root.Dir("devices/lvl1/lvl2"), Is.SameAs(d));
        Assert.That(sys.Root.Dir("devices"), Is.SameAs(sys.Root.Child("devices")));
        d.Attr("f", 0x124, () => "x\n");
        Assert.That(() => sys.Root.Dir("devices/lvl1/lvl2/f/g"), Throws.InvalidOperationException);
    }

    private sealed class Device
    {
        public int Value = 42;
        public int Stores;
    }

    [Test]
    public void AttributeOfAnObject_ShowAndStoreGetTheObject_ThroughReadAndWrite()
    {
        var (p, sys) = Boot();
        var dev = new Device();
        var dir = sys.Root.Dir("devices/obj0");
        var attr = dir.Attr("value", 0x1a4, dev, static d => $"{d.Value}\n", static (d, s) =>
        {
            if (!int.TryParse(s.Trim(), out var v)) return -Errno.EINVAL;
            d.Value = v;
            d.Stores++;
            return s.Length;
        });
        dir.Attr("ro", 0x124, dev, static d => d.Value > 0 ? $"{d.Value}\n" : ShowResult.Fail(-Errno.ENXIO));
        dir.Attr("wo", 0x80, dev, null, static (d, s) => s.Length);
        Assert.That((attr.CanRead, attr.CanWrite), Is.EqualTo((true, true)));
        Assert.That(p.ReadText("/sys/devices/obj0/value", out var t), Is.Zero);
        Assert.That(t, Is.EqualTo("42\n"));
        Assert.That(p.WriteText("/sys/devices/obj0/value", "7\n"), Is.EqualTo(2));
        Assert.That((dev.Value, dev.Stores), Is.EqualTo((7, 1)));
        Assert.That(p.WriteText("/sys/devices/obj0/value", "x"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.ReadText("/sys/devices/obj0/ro", out t), Is.Zero);
        Assert.That(t, Is.EqualTo("7\n"));
        dev.Value = 0;
        Assert.That(p.ReadText("/sys/devices/obj0/ro", out _), Is.EqualTo(-Errno.ENXIO));
        Assert.That(p.Open("/sys/devices/obj0/ro", Fcntl.O_WRONLY), Is.EqualTo(-Errno.EACCES), "no store");
        Assert.That(p.Open("/sys/devices/obj0/wo", Fcntl.O_RDONLY), Is.EqualTo(-Errno.EACCES), "no show");
        Assert.That(p.WriteText("/sys/devices/obj0/wo", "abc"), Is.EqualTo(3));
    }
}
