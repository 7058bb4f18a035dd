using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The platform firmware behind the ACPI NFIT DSMs, modelled on nfit_test (tools/testing/nvdimm/test/nfit.c) but
/// with real media: ARS_CAP reports <see cref="ClearErrUnit"/> (256 by default); CLEAR_ERROR rejects an address or
/// length not aligned to it (-EINVAL) and otherwise forgets the range, removes the media poison
/// (<see cref="IMemoryMedia.ClearPoison"/> of the machine's media) and reports the whole length cleared; ARS_INJECT_SET
/// records an injected error and also makes every 64-byte line of it latent media poison
/// (<see cref="IMemoryMedia.InjectPoison"/>), optionally raising the NFIT 0x81 notification; ARS_INJECT_CLEAR
/// forgets the injected range and removes its media poison; ARS_INJECT_GET lists the injected ranges. An ARS
/// reports the injected ranges plus every other poisoned line it finds in the scrubbed range (a real scrub).
/// </summary>
public sealed partial class NfitFirmware(Machine machine)
{
    private readonly Badrange _injected = new();

    /// <summary>clear_err_unit returned by ARS_CAP (must be a power of two for the kernel to clear anything).</summary>
    public uint ClearErrUnit { get; set; } = 256;

    /// <summary>
    /// Whether the ARS DSMs (ARS_CAP, ARS_START, ARS_STATUS, CLEAR_ERROR) are implemented; QEMU's NFIT has none, so
    /// acpi_nfit_ctl answers −ENOTTY and nvdimm_clear_poison fails.
    /// </summary>
    public bool SupportsArs { get; set; } = true;

    /// <summary>Whether the ARS error-inject DSMs (INJECT_SET/CLEAR/GET) are implemented.</summary>
    public bool SupportsInject { get; set; } = true;

    /// <summary>The injected error list (the nfit_test "badrange" list).</summary>
    public IReadOnlyList<BadrangeEntry> Injected => _injected.Entries;

    /// <summary>Raised for ARS_INJECT_SET with the NOTIFY option: the NFIT_NOTIFY_UC_MEMORY_ERROR (0x81) event.</summary>
    public event Action? UcMemoryErrorNotify;

    /// <summary>ND_CMD_ARS_CAP: 0 and the clear-error unit; −ENOTTY without ARS (acpi_nfit_ctl: not in the command mask).</summary>
    public int ArsCap(ulong spa, ulong len, out uint clearErrUnit)
    {
        clearErrUnit = 0;
        if (!SupportsArs) return -Errno.ENOTTY;
        clearErrUnit = ClearErrUnit;
        return 0;
    }

    /// <summary>ND_CMD_CLEAR_ERROR (nfit_test_cmd_clear_error): -EINVAL when unaligned, else forget + clear media; cleared = len.</summary>
    public int ClearError(ulong spa, ulong len, out ulong cleared)
    {
        cleared = 0;
        if (!SupportsArs) return -Errno.ENOTTY;
        var mask = (ulong)ClearErrUnit - 1;
        if (ClearErrUnit == 0 || ((spa | len) & mask) != 0) return -Errno.EINVAL;
        _injected.Forget(spa, len);
        machine.Media.ClearPoison(new PhysAddr(spa), len);
        cleared = len;
        return 0;
    }

    /// <summary>NFIT_CMD_ARS_INJECT_SET: record [spa, spa+len), poison its lines, notify when asked. -EOPNOTSUPP without inject support, -EINVAL for an empty range.</summary>
    public int InjectSet(ulong spa, ulong len, bool notify)
    {
        if (!SupportsInject) return -Errno.EOPNOTSUPP;
        if (len == 0) return -Errno.EINVAL;
        _injected.Add(spa, len);
        for (var line = spa & ~(PageDefs.CACHELINE - 1); line < spa + len; line += PageDefs.CACHELINE)
            machine.Media.InjectPoison(new PhysAddr(line));
        if (notify && UcMemoryErrorNotify != null)
        {
            var n = UcMemoryErrorNotify;
            machine.WorkQueue.Schedule("acpi_nfit_uc_error_notify", n);
        }
        return 0;
    }

    /// <summary>NFIT_CMD_ARS_INJECT_CLEAR: forget the injected range and remove its media poison.</summary>
    public int InjectClear(ulong spa, ulong len)
    {
        if (!SupportsInject) return -Errno.EOPNOTSUPP;
        _injected.Forget(spa, len);
        machine.Media.ClearPoison(new PhysAddr(spa), len);
        return 0;
    }

    /// <summary>NFIT_CMD_ARS_INJECT_GET: the injected ranges.</summary>
    public int InjectGet(out IReadOnlyList<BadrangeEntry> ranges)
    {
        ranges = [];
        if (!SupportsInject) return -Errno.EOPNOTSUPP;
        ranges = _injected.Entries.ToArray();
        return 0;
    }

    /// <summary>
    /// ND_CMD_ARS_STATUS records for a scrub of [spa, spa+len): the injected ranges that overlap it, then every
    /// poisoned 64-byte line in it that no injected range covers.
    /// </summary>
    public List<BadrangeEntry> ArsRecords(ulong spa, ulong len)
    {
        var records = new List<BadrangeEntry>();
        var end = spa + len;
        // Indexed loops: a foreach over the IReadOnlyList boxed an enumerator per poisoned line.
        var injected = _injected.Entries;
        for (var i = 0; i < injected.Count; i++)
        {
            var e = injected[i];
            if (e.Start < end && e.Start + e.Length > spa) records.Add(e);
        }
        foreach (var line in machine.Phys.PoisonedLines())
        {
            if (line.Value < spa || line.Value >= end) continue;
            var covered = false;
            for (var i = 0; i < injected.Count && !covered; i++)
                covered = line.Value >= injected[i].Start && line.Value < injected[i].Start + injected[i].Length;
            if (!covered) records.Add(new BadrangeEntry(line.Value, PageDefs.CACHELINE));
        }
        return records;
    }
}
