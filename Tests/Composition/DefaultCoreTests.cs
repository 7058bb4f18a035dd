using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Trace;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Composition;

/// <summary>
/// A builder with no core service replaced composes the default core without the container's reflection; the
/// container must still hand out exactly the machine's own objects, and each Build must get a new core.
/// </summary>
public class DefaultCoreTests
{
    [Test]
    public void DefaultBuild_ContainerResolvesTheMachinesOwnCoreObjects()
    {
        var m = new MachineBuilder().Build();
        var sp = m.Services;
        Assert.That(sp.GetRequiredService<Machine>(), Is.SameAs(m));
        Assert.That(sp.GetRequiredService<PhysicalMemory>(), Is.SameAs(m.Phys));
        Assert.That(sp.GetRequiredService<IMemoryMedia>(), Is.SameAs(m.Phys));
        Assert.That(sp.GetRequiredService<ICopyRoutines>(), Is.SameAs(m.Copy));
        Assert.That(sp.GetRequiredService<Cpu>(), Is.SameAs(m.Cpu));
        Assert.That(sp.GetRequiredService<Tracer>(), Is.SameAs(m.Tracer));
        Assert.That(sp.GetRequiredService<IWorkQueue>(), Is.SameAs(m.WorkQueue));
        Assert.That(sp.GetRequiredService<IovIterOps>(), Is.SameAs(m.IovIter));
        Assert.That(sp.GetRequiredService<KernelSim.Fs.IPageCache>(), Is.SameAs(m.Vfs.Filemap.PageCache));
        Assert.That(sp.GetRequiredService<ScatterlistOps>(), Is.Not.Null, "the lazily created services still resolve");
    }

    [Test]
    public void SameBuilderBuiltTwice_TwoMachinesShareNoCoreObject()
    {
        var b = new MachineBuilder();
        var first = b.Build();
        var second = b.Build();
        Assert.That(second, Is.Not.SameAs(first));
        Assert.That(second.Phys, Is.Not.SameAs(first.Phys));
        Assert.That(second.Cpu, Is.Not.SameAs(first.Cpu));
        Assert.That(second.Scheduler, Is.Not.SameAs(first.Scheduler));
        Assert.That(b.Services.Any(d => d.ServiceType == typeof(PhysicalMemory) && d.ImplementationInstance != null), Is.False,
            "the builder keeps no per-machine instance");
    }

    [Test]
    public void PrebuiltCore_AndTheContainersCore_RegisterTheSameServicesWithTheSameImplementations()
    {
        var prebuilt = new MachineBuilder().Build();
        var viaContainer = new MachineBuilder();
        viaContainer.Services.AddSingleton<Tracer>(); // replacing a core service takes the container path
        var m = viaContainer.Build();
        var lateTypes = new[] { typeof(ScatterlistOps), typeof(KernelSim.Block.DevTmpFs), typeof(KernelSim.Block.Genhd), typeof(KernelSim.Mm.TransparentHugepage), typeof(KernelSim.Fs.Kernfs.ISysfsContributor), typeof(KernelSim.Fs.Kernfs.Sysfs),
            typeof(KernelSim.Fs.Kernfs.Procfs), typeof(KernelSim.Fs.Kernfs.Debugfs), typeof(KernelSim.Mm.Hugetlb), typeof(KernelSim.Fs.DropCachesState), typeof(KernelSim.Fs.ShmMount), typeof(Machine) };
        var containerCore = viaContainer.Services.Select(d => d.ServiceType).Except(lateTypes).Distinct().ToList();
        var coreTypes = (HashSet<Type>)typeof(MachineBuilder)
            .GetField("CoreServiceTypes", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.GetValue(null)!;
        Assert.That(containerCore, Is.EquivalentTo(coreTypes.Except([typeof(Machine)])), "AddCoreServices and AddPrebuiltCore list the same services");
        foreach (var t in coreTypes)
            Assert.That(prebuilt.Services.GetRequiredService(t).GetType(), Is.EqualTo(m.Services.GetRequiredService(t).GetType()), t.Name);
    }
}
