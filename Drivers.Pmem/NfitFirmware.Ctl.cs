using System.Buffers.Binary;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// nfit_test_ctl (tools/testing/nvdimm/test/nfit.c), the bus provider's ndctl callback behind __nd_ioctl: the ARS
/// commands with nfit_test's one-second scrub (post_ars_status, a deadline on the machine clock), CLEAR_ERROR, the
/// NFIT bus functions ARS_INJECT_SET/CLEAR/GET through ND_CMD_CALL, and the Intel-family SMART functions of each
/// DIMM (nfit_test_cmd_smart, _smart_threshold, _smart_set_threshold, _smart_inject with smart_notify). Byte layouts
/// follow include/uapi/linux/ndctl.h and drivers/acpi/nfit/intel.h.
/// </summary>
public sealed partial class NfitFirmware
{
    /// <summary>sizeof(struct nd_cmd_ars_status) and sizeof(struct nd_ars_record).</summary>
    private const int ArsStatusHdr = 48, ArsRecordSize = 24;

    /// <summary>NFIT_ARS_START_BUSY, NFIT_ARS_STATUS_BUSY, NFIT_ARS_INJECT_INVALID (drivers/acpi/nfit/nfit.h).</summary>
    private const uint NFIT_ARS_START_BUSY = 6, NFIT_ARS_STATUS_BUSY = 1 << 16, NFIT_ARS_INJECT_INVALID = 2;

    /// <summary>ND_ARS_VOLATILE, ND_ARS_PERSISTENT.</summary>
    private const uint ND_ARS_VOLATILE = 1, ND_ARS_PERSISTENT = 2;

    /// <summary>ars_state-&gt;ars_status: the last posted status (header only until the first ARS_START).</summary>
    private byte[] _arsStatus = NewArsStatus();

    /// <summary>ars_state-&gt;deadline in machine-clock nanoseconds (ARS_START + 1 s).</summary>
    private ulong _arsDeadline;

    private static byte[] NewArsStatus()
    {
        var b = new byte[ArsStatusHdr];
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), ArsStatusHdr);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(40), (ushort)ND_ARS_PERSISTENT);
        return b;
    }

    private static ulong U64(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt64LittleEndian(b[o..]);

    private static void Put32(Span<byte> b, int o, uint v)
    {
        if (o + 4 <= b.Length) BinaryPrimitives.WriteUInt32LittleEndian(b[o..], v);
    }

    /// <summary>
    /// nfit_test_ctl for the bus (<paramref name="dimm"/> null) or a DIMM: returns the callback's rc (0 or −errno) and
    /// the firmware status as <paramref name="cmdRc"/>. <paramref name="buf"/> is the whole ioctl buffer.
    /// </summary>
    internal int Ctl(NvdimmDimm? dimm, int cmd, byte[] buf, ulong busCmdMask, out int cmdRc)
    {
        cmdRc = 0;
        if (dimm != null) return dimm.Smart is { } smart ? DimmCtl(dimm, smart, cmd, buf) : -Errno.ENOTTY;
        if (cmd == NvdimmBus.ND_CMD_CALL)
        {
            var func = U64(buf, 8);
            var payload = buf.AsSpan(NvdimmBus.NdCmdPkgSize);
            return func switch
            {
                7 => ArsInjectSet(payload),
                8 => ArsInjectClear(payload),
                9 => ArsInjectStatus(payload),
                _ => -Errno.ENOTTY, // NFIT_CMD_TRANSLATE_SPA is not modelled
            };
        }
        if (((busCmdMask >> cmd) & 1) == 0) return -Errno.ENOTTY;
        var b = buf.AsSpan();
        switch (cmd)
        {
            case NvdimmBus.ND_CMD_ARS_CAP:
                if (b.Length < 32) return -Errno.EINVAL;
                ArsCap(U64(b, 0), U64(b, 8), out var unit);
                Put32(b, 16, (ND_ARS_PERSISTENT | ND_ARS_VOLATILE) << 16);
                Put32(b, 20, ArsStatusHdr + 4096 / ArsRecordSize * ArsRecordSize);
                Put32(b, 24, unit);
                return 0;
            case NvdimmBus.ND_CMD_ARS_START:
                if (b.Length < 32) return -Errno.EINVAL;
                if (machine.Clock.NowNs < _arsDeadline)
                {
                    Put32(b, 24, NFIT_ARS_START_BUSY);
                    cmdRc = -Errno.EBUSY;
                    return 0;
                }
                Put32(b, 24, 0);
                Put32(b, 28, 1);
                PostArsStatus(U64(b, 0), U64(b, 8));
                return 0;
            case NvdimmBus.ND_CMD_ARS_STATUS:
                if (b.Length < BinaryPrimitives.ReadUInt32LittleEndian(_arsStatus.AsSpan(4))) return -Errno.EINVAL;
                if (machine.Clock.NowNs < _arsDeadline)
                {
                    b.Clear();
                    Put32(b, 0, NFIT_ARS_STATUS_BUSY);
                    Put32(b, 4, ArsStatusHdr);
                    cmdRc = -Errno.EBUSY;
                    return 0;
                }
                _arsStatus.CopyTo(b);
                return 0;
            case NvdimmBus.ND_CMD_CLEAR_ERROR:
            {
                if (b.Length < 32) return -Errno.EINVAL;
                var rc = ClearError(U64(b, 0), U64(b, 8), out var cleared);
                if (rc < 0) return rc;
                Put32(b, 16, 0);
                BinaryPrimitives.WriteUInt64LittleEndian(b[24..], cleared);
                return 0;
            }
            default:
                return -Errno.ENOTTY;
        }
    }

    /// <summary>post_ars_status: the injected and poisoned ranges clipped to [addr, addr+len), deadline one second ahead.</summary>
    private void PostArsStatus(ulong addr, ulong len)
    {
        _arsDeadline = machine.Clock.NowNs + 1_000_000_000UL;
        var end = addr + len - 1;
        var recs = new List<(ulong Start, ulong Len)>();
        foreach (var e in ArsRecords(addr, len))
        {
            var beEnd = e.Start + e.Length - 1;
            if (beEnd < addr || e.Start > end) continue;
            var rs = Math.Max(e.Start, addr);
            var re = Math.Min(beEnd, end);
            if (recs.Count < 4096 / ArsRecordSize) recs.Add((rs, re - rs + 1));
        }
        var s = new byte[ArsStatusHdr + recs.Count * ArsRecordSize];
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(4), (uint)s.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(s.AsSpan(8), addr);
        BinaryPrimitives.WriteUInt64LittleEndian(s.AsSpan(16), len);
        BinaryPrimitives.WriteUInt16LittleEndian(s.AsSpan(40), (ushort)ND_ARS_PERSISTENT);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(44), (uint)recs.Count);
        for (var i = 0; i < recs.Count; i++)
        {
            var o = ArsStatusHdr + i * ArsRecordSize;
            BinaryPrimitives.WriteUInt64LittleEndian(s.AsSpan(o + 8), recs[i].Start);
            BinaryPrimitives.WriteUInt64LittleEndian(s.AsSpan(o + 16), recs[i].Len);
        }
        _arsStatus = s;
    }

    /// <summary>nfit_test_cmd_ars_error_inject: struct nd_cmd_ars_err_inj (21 bytes) exactly, a non-zero length; status 2 on error.</summary>
    private int ArsInjectSet(Span<byte> p)
    {
        if (p.Length != 21 || U64(p, 8) == 0)
        {
            Put32(p, 17, NFIT_ARS_INJECT_INVALID);
            return -Errno.EINVAL;
        }
        var rc = InjectSet(U64(p, 0), U64(p, 8), (p[16] & 1) != 0);
        if (rc < 0)
        {
            Put32(p, 17, NFIT_ARS_INJECT_INVALID);
            return rc;
        }
        Put32(p, 17, 0);
        return 0;
    }

    /// <summary>nfit_test_cmd_ars_inject_clear: struct nd_cmd_ars_err_inj_clr (20 bytes) exactly, a non-zero length.</summary>
    private int ArsInjectClear(Span<byte> p)
    {
        if (p.Length != 20 || U64(p, 8) == 0)
        {
            Put32(p, 16, NFIT_ARS_INJECT_INVALID);
            return -Errno.EINVAL;
        }
        InjectClear(U64(p, 0), U64(p, 8));
        Put32(p, 16, 0);
        return 0;
    }

    /// <summary>
    /// nfit_test_cmd_ars_inject_status: status 0, every injected range as a record and their count. nfit_test writes
    /// records without looking at the buffer length; here only the records that fit are written (the count is exact).
    /// </summary>
    private int ArsInjectStatus(Span<byte> p)
    {
        var list = Injected;
        Put32(p, 0, 0);
        var max = 4096 / 16;
        var i = 0;
        foreach (var e in list)
        {
            var o = 8 + i * 16;
            if (o + 16 <= p.Length)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(p[o..], e.Start);
                BinaryPrimitives.WriteUInt64LittleEndian(p[(o + 8)..], e.Length);
            }
            i++;
            if (i > max) break;
        }
        Put32(p, 4, (uint)i);
        return 0;
    }

    /// <summary>The DIMM half of nfit_test_ctl: Intel-family ND_CMD_CALL functions; the label commands are not modelled (−ENOTTY).</summary>
    private int DimmCtl(NvdimmDimm dimm, NdIntelSmart smart, int cmd, byte[] buf)
    {
        if (cmd != NvdimmBus.ND_CMD_CALL) return -Errno.ENOTTY;
        if (U64(buf, 0) != 0) return -Errno.ENOTTY; // call_pkg->nd_family != nfit_mem->family
        var p = buf.AsSpan(NvdimmBus.NdCmdPkgSize);
        switch (U64(buf, 8))
        {
            case 1: // ND_INTEL_SMART: the whole struct nd_intel_smart (status 0)
                if (p.Length < 132) return -Errno.EINVAL;
                Put32(p, 0, 0);
                smart.WriteData(p[4..]);
                return 0;
            case 2: // ND_INTEL_SMART_THRESHOLD
                if (p.Length < 12) return -Errno.EINVAL;
                Put32(p, 0, 0);
                smart.WriteThreshold(p[4..]);
                return 0;
            case 17: // ND_INTEL_SMART_SET_THRESHOLD: the first 7 bytes into thresh->data
                if (p.Length < 7) return -Errno.EINVAL;
                smart.ThreshAlarmControl = BinaryPrimitives.ReadUInt16LittleEndian(p);
                smart.ThreshSpares = p[2];
                smart.ThreshMediaTemperature = BinaryPrimitives.ReadUInt16LittleEndian(p[3..]);
                smart.ThreshCtrlTemperature = BinaryPrimitives.ReadUInt16LittleEndian(p[5..]);
                Put32(p, 7, 0);
                SmartNotify(dimm, smart);
                return 0;
            case 18: // ND_INTEL_SMART_INJECT: exactly sizeof(struct nd_intel_smart_inject)
                if (p.Length != 19) return -Errno.EINVAL;
                var flags = U64(p, 0);
                if ((flags & NdIntelSmart.INJECT_MTEMP) != 0)
                    smart.MediaTemperature = p[8] != 0 ? BinaryPrimitives.ReadUInt16LittleEndian(p[9..]) : NdIntelSmart.DefaultMediaTemperature;
                if ((flags & NdIntelSmart.INJECT_SPARE) != 0) smart.Spares = p[11] != 0 ? p[12] : NdIntelSmart.DefaultSpares;
                if ((flags & NdIntelSmart.INJECT_FATAL) != 0) smart.Health = p[13] != 0 ? NdIntelSmart.FATAL_HEALTH : NdIntelSmart.NON_CRITICAL_HEALTH;
                if ((flags & NdIntelSmart.INJECT_SHUTDOWN) != 0)
                {
                    if (p[14] != 0)
                    {
                        smart.ShutdownState = 1;
                        smart.ShutdownCount++;
                    }
                    else smart.ShutdownState = 0;
                }
                Put32(p, 15, 0);
                SmartNotify(dimm, smart);
                return 0;
            default:
                return -Errno.ENOTTY; // firmware update, LSS and security functions are not modelled
        }
    }

    /// <summary>smart_notify: __acpi_nvdimm_notify(dimm, 0x81) when <see cref="NdIntelSmart.Notify"/> says so.</summary>
    private static void SmartNotify(NvdimmDimm dimm, NdIntelSmart smart)
    {
        if (smart.Notify()) dimm.HealthEvents++;
    }
}
