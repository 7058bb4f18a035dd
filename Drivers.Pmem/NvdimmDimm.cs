using System.Buffers.Binary;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// struct nd_intel_smart's health fields as nfit_test keeps them per DIMM (tools/testing/nvdimm/test/nfit.c smart_def,
/// smart_init): flags, health, spares, life_used, alarm_flags, media/controller/PMIC temperature (1/16 °C units),
/// shutdown state and count, and the thresholds of struct nd_intel_smart_threshold.
/// </summary>
public sealed class NdIntelSmart
{
    /// <summary>ND_INTEL_SMART_*_VALID bits.</summary>
    public const uint HEALTH_VALID = 1 << 0, SPARES_VALID = 1 << 1, USED_VALID = 1 << 2, MTEMP_VALID = 1 << 3, CTEMP_VALID = 1 << 4,
        SHUTDOWN_COUNT_VALID = 1 << 5, AIT_STATUS_VALID = 1 << 6, PTEMP_VALID = 1 << 7, ALARM_VALID = 1 << 9, SHUTDOWN_VALID = 1 << 10;

    /// <summary>ND_INTEL_SMART_SPARE_TRIP / TEMP_TRIP / CTEMP_TRIP (alarm_flags and alarm_control bits).</summary>
    public const ushort SPARE_TRIP = 1 << 0, TEMP_TRIP = 1 << 1, CTEMP_TRIP = 1 << 2;

    /// <summary>ND_INTEL_SMART_NON_CRITICAL_HEALTH / CRITICAL / FATAL.</summary>
    public const byte NON_CRITICAL_HEALTH = 1 << 0, CRITICAL_HEALTH = 1 << 1, FATAL_HEALTH = 1 << 2;

    /// <summary>ND_INTEL_SMART_INJECT_MTEMP / SPARE / FATAL / SHUTDOWN (nd_intel_smart_inject.flags).</summary>
    public const ulong INJECT_MTEMP = 1 << 0, INJECT_SPARE = 1 << 1, INJECT_FATAL = 1 << 2, INJECT_SHUTDOWN = 1 << 3;

    /// <summary>smart_def.media_temperature: 23 °C.</summary>
    public const ushort DefaultMediaTemperature = 23 * 16;

    /// <summary>smart_def.spares: 75 %.</summary>
    public const byte DefaultSpares = 75;

    /// <summary>flags: every field nfit_test fills is valid.</summary>
    public uint Flags { get; set; } = HEALTH_VALID | SPARES_VALID | ALARM_VALID | USED_VALID | SHUTDOWN_VALID | SHUTDOWN_COUNT_VALID | MTEMP_VALID | CTEMP_VALID;
    /// <summary>health (NON_CRITICAL in smart_def).</summary>
    public byte Health { get; set; } = NON_CRITICAL_HEALTH;
    /// <summary>spares (%).</summary>
    public byte Spares { get; set; } = DefaultSpares;
    /// <summary>life_used (%).</summary>
    public byte LifeUsed { get; set; } = 5;
    /// <summary>alarm_flags.</summary>
    public byte AlarmFlags { get; set; } = SPARE_TRIP | TEMP_TRIP;
    /// <summary>media_temperature (1/16 °C).</summary>
    public ushort MediaTemperature { get; set; } = DefaultMediaTemperature;
    /// <summary>ctrl_temperature (1/16 °C).</summary>
    public ushort CtrlTemperature { get; set; } = 25 * 16;
    /// <summary>shutdown_count.</summary>
    public uint ShutdownCount { get; set; } = 42;
    /// <summary>ait_status.</summary>
    public byte AitStatus { get; set; } = 1;
    /// <summary>pmic_temperature (1/16 °C).</summary>
    public ushort PmicTemperature { get; set; } = 40 * 16;
    /// <summary>shutdown_state (1 = the last shutdown was unsafe).</summary>
    public byte ShutdownState { get; set; }

    /// <summary>Threshold alarm_control.</summary>
    public ushort ThreshAlarmControl { get; set; } = SPARE_TRIP | TEMP_TRIP;
    /// <summary>Threshold spares.</summary>
    public byte ThreshSpares { get; set; } = 5;
    /// <summary>Threshold media_temperature: 40 °C.</summary>
    public ushort ThreshMediaTemperature { get; set; } = 40 * 16;
    /// <summary>Threshold ctrl_temperature: 30 °C.</summary>
    public ushort ThreshCtrlTemperature { get; set; } = 30 * 16;

    /// <summary>The 128 data bytes of struct nd_intel_smart (after status).</summary>
    public void WriteData(Span<byte> d)
    {
        d[..128].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(d, Flags);
        d[8] = Health;
        d[9] = Spares;
        d[10] = LifeUsed;
        d[11] = AlarmFlags;
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], MediaTemperature);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], CtrlTemperature);
        BinaryPrimitives.WriteUInt32LittleEndian(d[16..], ShutdownCount);
        d[20] = AitStatus;
        BinaryPrimitives.WriteUInt16LittleEndian(d[21..], PmicTemperature);
        d[31] = ShutdownState;
    }

    /// <summary>The 8 data bytes of struct nd_intel_smart_threshold (after status).</summary>
    public void WriteThreshold(Span<byte> d)
    {
        d[..8].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(d, ThreshAlarmControl);
        d[2] = ThreshSpares;
        BinaryPrimitives.WriteUInt16LittleEndian(d[3..], ThreshMediaTemperature);
        BinaryPrimitives.WriteUInt16LittleEndian(d[5..], ThreshCtrlTemperature);
    }

    /// <summary>
    /// smart_notify (nfit_test): true when the DIMM health event (0x81) is due — an enabled threshold is crossed (spares at
    /// or below, media or controller temperature at or above), health is not NON_CRITICAL, or shutdown_state is set.
    /// alarm_flags are not recomputed (nfit_test leaves them as smart_def set them).
    /// </summary>
    public bool Notify() =>
        ((ThreshAlarmControl & SPARE_TRIP) != 0 && Spares <= ThreshSpares)
        || ((ThreshAlarmControl & TEMP_TRIP) != 0 && MediaTemperature >= ThreshMediaTemperature)
        || ((ThreshAlarmControl & CTEMP_TRIP) != 0 && CtrlTemperature >= ThreshCtrlTemperature)
        || Health != NON_CRITICAL_HEALTH || ShutdownState != 0;
}

/// <summary>
/// struct nvdimm (drivers/nvdimm/dimm_devs.c) with its NFIT memory-device data (drivers/acpi/nfit): nmemN, the NFIT
/// handle, physical id and serial number, the command mask and the nfit_test SMART state.
/// </summary>
public sealed class NvdimmDimm : NdDevice
{
    internal NvdimmDimm(int id, uint handle, ushort physId, uint serial) : base("nmem" + id.ToString())
    {
        Id = id;
        Handle = handle;
        PhysId = physId;
        Serial = serial;
    }

    /// <summary>N of nmemN (the dimm_ida).</summary>
    public int Id { get; }

    /// <inheritdoc/>
    public override string DevType => "nvdimm";

    /// <summary>The NFIT device handle (nfit/handle).</summary>
    public uint Handle { get; }

    /// <summary>The SMBIOS physical id (nfit/phys_id).</summary>
    public ushort PhysId { get; }

    /// <summary>The serial number (nfit/serial).</summary>
    public uint Serial { get; }

    /// <summary>The SMART state (nfit_test's t-&gt;smart[i] / smart_threshold[i]); null on a platform without SMART (QEMU).</summary>
    public NdIntelSmart? Smart { get; internal set; }

    /// <summary>
    /// nvdimm-&gt;cmd_mask (acpi_nfit_register_dimms): ND_CMD_CALL for every NFIT DIMM, plus the DSM functions with a
    /// 1:1 ioctl (SMART, SMART_THRESHOLD, GET_CONFIG_SIZE/DATA, SET_CONFIG_DATA) that nfit_test forces on; QEMU's
    /// label-less DIMMs report no DSM function, so only ND_CMD_CALL.
    /// </summary>
    public ulong CmdMask => Smart != null ? 0x476UL : 1UL << 10;

    /// <summary>
    /// nfit_mem-&gt;dsm_mask (nmemN/nfit/dsm_mask): the Intel functions the firmware implements — SMART (1),
    /// SMART_THRESHOLD (2), the label functions (4–6), SMART_SET_THRESHOLD (17), SMART_INJECT (18) on nfit_test; none on QEMU.
    /// </summary>
    public ulong DsmMask => Smart != null ? 0x60076UL : 0;

    /// <summary>The regions this DIMM maps (set at boot).</summary>
    internal List<NdRegion> Regions { get; } = [];

    /// <summary>nvdimm-&gt;busy: a region using the DIMM is enabled (state "active").</summary>
    internal bool RegionsActive() => Regions.Any(r => r.Driver != null);

    /// <summary>Times the DIMM health event (NFIT_NOTIFY_DIMM_HEALTH, 0x81) was sent (the nmem's flags file is notified).</summary>
    public int HealthEvents { get; internal set; }
}
