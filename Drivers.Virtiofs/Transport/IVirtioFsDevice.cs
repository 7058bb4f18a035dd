using System.IO.Pipelines;

namespace KernelSim.Drivers.Virtiofs.Transport;

/// <summary>The device end of the virtqueues (the vhost-user daemon behind the VMM).</summary>
public interface IVirtioFsDevice
{
    /// <summary>
    /// The driver kicked <paramref name="queue"/>: consume every complete descriptor chain from
    /// <paramref name="avail"/> and put one used element per chain that gets a reply on <paramref name="used"/>.
    /// Must never throw for malformed input.
    /// </summary>
    void Kick(int queue, PipeReader avail, PipeWriter used);
}
