using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Fs;

/// <summary>kernfs_get_target_path's relative text for links at several depths, and lookups that go through them.</summary>
public class KernfsLinkPathTests
{
    [Test]
    public void TargetPath_UpToTheCommonAncestorThenDown()
    {
        var m = Sim.Boot("6.12");
        var sys = m.Services.GetRequiredService<Sysfs>();
        var target = sys.Root.Dir("devices/lt/bus0/region7");
        target.Attr("size", 0x124, () => "4096\n");
        var sibling = new KernfsLink("sib", target);
        sys.Root.Dir("devices/lt/bus0").Add(sibling);
        var deep = new KernfsLink("region7", target);
        sys.Root.Dir("bus/lt/devices").Add(deep);
        var top = new KernfsLink("lt_region", target);
        sys.Root.Add(top);
        var up = new KernfsLink("parent", sys.Root.Dir("devices/lt"));
        target.Add(up);
        Assert.Multiple(() =>
        {
            Assert.That(sibling.TargetPath(), Is.EqualTo("region7"));
            Assert.That(deep.TargetPath(), Is.EqualTo("../../../devices/lt/bus0/region7"));
            Assert.That(top.TargetPath(), Is.EqualTo("devices/lt/bus0/region7"));
            Assert.That(up.TargetPath(), Is.EqualTo("../.."));
        });
        var p = m.Spawn("t");
        Assert.That(p.ReadLink("/sys/bus/lt/devices/region7", out var text), Is.EqualTo(0));
        Assert.That(text, Is.EqualTo("../../../devices/lt/bus0/region7"));
        // Each link followed in the middle of a path, twice in one lookup for the last one.
        Assert.That(p.ReadText("/sys/bus/lt/devices/region7/size", out var size), Is.EqualTo(0));
        Assert.That(size, Is.EqualTo("4096\n"));
        Assert.That(p.ReadText("/sys/lt_region/parent/bus0/sib/size", out size), Is.EqualTo(0));
        Assert.That(size, Is.EqualTo("4096\n"));
    }
}
