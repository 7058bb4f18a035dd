using KernelSim.Mm;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Kernel;

/// <summary>
/// A prepared machine: what <see cref="MachineBuilder.Prepare"/> composed once, from which any number of identical
/// machines boot cheaply. The image holds one root <see cref="IServiceProvider"/> (the container's work of composing
/// the services is done once, for all machines); each <see cref="Boot()"/> opens a new scope of it, in which every
/// per-machine service (all those registered as singletons by type or factory, the kernel core, drivers and
/// filesystems) is created for that machine alone, then runs the builder's boot actions (drivers probing,
/// filesystems mounting). Two machines of one image share no mutable state except objects the caller registered as
/// instances. A machine booted from an image is the machine <see cref="MachineBuilder.Build"/> boots: same object
/// graph, same boot actions in the same order, so the same media bytes, sysfs text, badblocks and traces.
/// <para>
/// <see cref="Boot(FramePool?)"/> may be called from several threads at once, each thread with its own pool or none (a
/// <see cref="FramePool"/> is not thread-safe, so the builder's pool, which <see cref="Boot()"/> uses, serves one
/// thread): the container's root provider and its scopes are thread-safe, and the first boot runs alone, so what it
/// leaves for the later machines (the pfn info block pages <see cref="PhysicalMemory.PokeBytesShared"/> shares) is
/// complete before any other machine boots.
/// </para>
/// </summary>
public sealed class MachineImage
{
    private readonly IServiceProvider _root;
    private readonly Action<Machine>[] _onBoot;
    private readonly FramePool? _pool;
    private readonly Lock _first = new();
    private volatile bool _booted;

    internal MachineImage(IServiceProvider root, Action<Machine>[] onBoot, FramePool? pool)
    {
        _root = root;
        _onBoot = onBoot;
        _pool = pool;
    }

    /// <summary>
    /// Boot a new machine from the image (its <see cref="Machine.Services"/> is the machine's own scope), with the frame
    /// pool the builder had (<see cref="MachineBuilder.WithFramePool"/>), if any.
    /// </summary>
    public Machine Boot() => Boot(_pool);

    /// <summary>
    /// <see cref="Boot()"/>, the machine's frame storage taken from (and, once the machine is disposed, given back to)
    /// <paramref name="pool"/> (null: allocated). The pool only changes where storage arrays come from: the machine is
    /// the same byte for byte.
    /// </summary>
    public Machine Boot(FramePool? pool)
    {
        if (_booted) return BootScope(pool);
        lock (_first)
        {
            var m = BootScope(pool);
            _booted = true;
            return m;
        }
    }

    private Machine BootScope(FramePool? pool)
    {
        var scope = _root.CreateScope();
        var m = scope.ServiceProvider.GetRequiredService<Machine>();
        m.UseFramePool(pool);
        foreach (var a in _onBoot) a(m);
        return m;
    }
}
