using KernelSim.Block;
using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The NVDIMM bus and its ACPI NFIT provider (drivers/nvdimm/bus.c, drivers/acpi/nfit/{core,mce}.c): the bus badrange
/// list, the regions, nvdimm_clear_poison, Address Range Scrub with asynchronous completion (deterministic: the
/// completion is a work item on <see cref="Machine.WorkQueue"/>), the 0x81 notification handler and the
/// machine-check decode-chain notifier (nfit_handle_mce). A legacy e820 bus has no firmware (<see cref="Firmware"/>
/// null): clearing pretends to succeed and ARS / injection are not supported.
/// </summary>
public sealed partial class NvdimmBus
{
    private readonly List<NdRegion> _regions = [];

    internal NvdimmBus(Machine machine, PmemOptions options, Genhd genhd, ulong zeroPfn)
    {
        Machine = machine;
        Options = options;
        Genhd = genhd;
        ZeroPfn = zeroPfn;
        Device = new NdBusDevice(0);
        if (options.Platform != NvdimmPlatform.E820)
        {
            var test = options.Platform == NvdimmPlatform.NfitTest;
            Firmware = new NfitFirmware(machine) { ClearErrUnit = options.ClearErrUnit, SupportsArs = test, SupportsInject = test };
            Firmware.UcMemoryErrorNotify += UcErrorNotify;
            machine.Mce.DecodeChain += NfitHandleMce;
        }
    }

    /// <summary>The platform kind.</summary>
    public NvdimmPlatform Platform => Options.Platform;

    /// <summary>The bus device ndbus0.</summary>
    public NdBusDevice Device { get; }

    internal Genhd Genhd { get; }

    internal ulong ZeroPfn { get; }

    /// <summary>The machine.</summary>
    public Machine Machine { get; }

    /// <summary>The platform description.</summary>
    public PmemOptions Options { get; }

    /// <summary>The NFIT firmware (nd_desc-&gt;ndctl); null on a legacy e820 bus.</summary>
    public NfitFirmware? Firmware { get; }

    /// <summary>nvdimm_bus-&gt;badrange.</summary>
    public Badrange Badrange { get; } = new();

    /// <summary>The regions.</summary>
    public IReadOnlyList<NdRegion> Regions => _regions;

    /// <summary>True while an ARS is running (between start and its completion work).</summary>
    public bool ArsInProgress { get; private set; }

    /// <summary>Completed scrubs (the bus "scrub" attribute's count).</summary>
    public int ScrubCount { get; private set; }

    /// <summary>acpi_desc-&gt;scrub_mode == HW_ERROR_SCRUB_ON.</summary>
    public bool HwErrorScrub { get; set; }

    internal NdRegion AddRegion(ulong start, ulong size, IReadOnlyList<NdMapping> mappings, bool labelled)
    {
        var r = new NdRegion(this, _regions.Count, start, size, mappings, labelled);
        _regions.Add(r);
        return r;
    }

    /// <summary>nvdimm_bus_add_badrange: add to the bus list.</summary>
    public int AddBadrange(ulong addr, ulong length) => Badrange.Add(addr, length);

    /// <summary>
    /// nvdimm_clear_poison (drivers/nvdimm/bus.c): with no firmware, return len (pretend). Otherwise ARS_CAP for the
    /// clear_err_unit (-ENXIO if 0 or not a power of two), -ENXIO when phys or len is not a multiple of it,
    /// CLEAR_ERROR (its error is returned), nvdimm_account_cleared_poison, and the firmware's cleared byte count.
    /// </summary>
    public long ClearPoison(ulong phys, ulong len)
    {
        using var _ = Machine.Tracer.Fn("nvdimm_clear_poison", "nvdimm");
        if (Firmware == null) return (long)len;
        var rc = Firmware.ArsCap(phys, len, out var unit);
        if (rc < 0) return rc;
        if (unit == 0 || (unit & (unit - 1)) != 0) return -Errno.ENXIO;
        var mask = (ulong)unit - 1;
        if (((phys | len) & mask) != 0) return -Errno.ENXIO;
        rc = Firmware.ClearError(phys, len, out var cleared);
        if (rc < 0) return rc;
        AccountClearedPoison(phys, cleared);
        return (long)cleared;
    }

    /// <summary>nvdimm_account_cleared_poison: badrange_forget, and clear whole sectors in every region's badblocks.</summary>
    private void AccountClearedPoison(ulong phys, ulong cleared)
    {
        if (cleared > 0) Badrange.Forget(phys, cleared);
        if (cleared > 0 && cleared / 512 != 0)
        {
            foreach (var r in _regions)
            {
                if (!r.Overlaps(phys, cleared)) continue;
                // nvdimm_clear_badblocks_region: the sectors of [phys, phys+cleared) inside the region.
                var start = Math.Max(phys, r.Start);
                var end = Math.Min(phys + cleared, r.Start + r.Size);
                var sector = (start - r.Start) / 512;
                var sectors = (end - start) / 512;
                if (sectors > 0) r.Bb.Clear((long)sector, (long)sectors);
            }
        }
    }

    /// <summary>
    /// Start an Address Range Scrub of every region (the bus "scrub" attribute / acpi_nfit_ars_rescan): -EOPNOTSUPP
    /// without firmware, -EBUSY while one runs, else 0. Completion is a work item: the firmware records go into the
    /// bus badrange (ars_status_process_records) and every region is told NVDIMM_REVALIDATE_POISON (ars_complete).
    /// </summary>
    public int ArsStart()
    {
        using var _ = Machine.Tracer.Fn("acpi_nfit_ars_rescan", "nfit");
        if (Firmware == null || !Firmware.SupportsArs) return -Errno.EOPNOTSUPP;
        if (ArsInProgress) return -Errno.EBUSY;
        ArsInProgress = true;
        Machine.WorkQueue.Schedule("acpi_nfit_scrub(ars_complete)", ArsComplete);
        return 0;
    }

    private void ArsComplete()
    {
        using var _ = Machine.Tracer.Fn("ars_complete", "nfit");
        foreach (var r in _regions)
        {
            foreach (var rec in Firmware!.ArsRecords(r.Start, r.Size)) AddBadrange(rec.Start, rec.Length);
        }
        ArsInProgress = false;
        ScrubCount++;
        foreach (var r in _regions) r.NotifyRevalidatePoison();
    }

    /// <summary>acpi_nfit_uc_error_notify (event 0x81): rescan — long ARS with HW_ERROR_SCRUB_ON, else short (same here).</summary>
    private void UcErrorNotify()
    {
        var rc = ArsStart();
        if (rc == -Errno.EBUSY)
        {
            // A scrub is already queued: its completion reports the new record too.
        }
    }

    /// <summary>
    /// nfit_handle_mce (drivers/acpi/nfit/mce.c), on the x86 MCE decode chain (run from deferred work): for an
    /// uncorrectable memory error inside a region, add [addr &amp; ~(2^lsb − 1), +2^lsb) to the bus badrange, revalidate
    /// the region's badblocks at once, and start a full ARS only with HW_ERROR_SCRUB_ON.
    /// </summary>
    private void NfitHandleMce(MceRecord rec)
    {
        using var _ = Machine.Tracer.Fn("nfit_handle_mce", "nfit");
        var align = 1UL << rec.AddrLsb;
        var addr = rec.Addr.Value & ~(align - 1);
        foreach (var r in _regions)
        {
            if (!r.Overlaps(addr, 1)) continue;
            AddBadrange(addr, align);
            r.NotifyRevalidatePoison();
            if (HwErrorScrub) ArsStart();
            break;
        }
    }
}
