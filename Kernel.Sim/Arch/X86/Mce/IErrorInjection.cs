using KernelSim.Mm;
using KernelSim.Trace;

namespace KernelSim.Arch.X86;

/// <summary>
/// The error-injection source behind <see cref="Kernel.Machine.InjectPoison"/>: ACPI APEI EINJ
/// (drivers/acpi/apei/einj-core.c, error type 0x10 memory uncorrectable non-fatal, notrigger). <see cref="Einj"/>
/// plants the poison in the <see cref="IMemoryMedia"/>; a double can record or refuse injections.
/// </summary>
public interface IErrorInjection
{
    /// <summary>Inject latent poison into the 64-byte line holding <paramref name="pa"/>: 0, or −EINVAL (einj's address check).</summary>
    int InjectPoison(PhysAddr pa);
}

/// <summary>ACPI EINJ (einj_error_inject) over the machine's memory media, traced as "einj".</summary>
public sealed class Einj(IMemoryMedia media, Tracer trace) : IErrorInjection
{
    /// <inheritdoc/>
    public int InjectPoison(PhysAddr pa)
    {
        var r = media.InjectPoison(pa);
        // The record's text only when tracing is on (Event drops it otherwise; no string per injection).
        if (r == 0 && trace.Enabled) trace.Event("einj", $"poison injected at pa {pa.Value & ~(PageDefs.CACHELINE - 1):x} (type 0x10)");
        return r;
    }
}
