using KernelSim.Drivers.Pmem;

namespace KernelSim.Scenarios.Model;

/// <summary>
/// machine.pmem: one region of persistent memory described by ACPI NFIT (ARS, clear-error, injection, the MCE
/// notifier) or by the legacy e820 table (none of those), with its namespaces laid out back to back
/// (drivers/nvdimm/region_devs.c, drivers/acpi/nfit/core.c).
/// </summary>
/// <param name="E820">Legacy e820 / memmap= pmem instead of NFIT.</param>
/// <param name="RegionSize">Region bytes (0: the sum of the namespaces).</param>
/// <param name="Namespaces">The namespaces (namespace0.0 = /dev/pmem0, …).</param>
/// <param name="ClearErrUnit">ARS_CAP clear_err_unit.</param>
/// <param name="HwErrorScrub">Machine checks start a long ARS (scrub_mode HW_ERROR_SCRUB_ON).</param>
public sealed record PmemSpec(bool E820, ulong RegionSize, IReadOnlyList<PmemNamespaceSpec> Namespaces, uint ClearErrUnit, bool HwErrorScrub)
{
    /// <summary>QEMU's label-less NFIT (bus: qemu): no ARS, injection or clear-error DSM; each namespace its own region.</summary>
    public bool Qemu { get; init; }
}
